// spec -> plan: every name, default and derived number decided once. The plan is built from a
// schema-checked spec even when semantic rules will reject it (an upstream to an unknown
// service stays in the plan), so the rules can report every problem in one run.
import { architectureOf, awsvpcTasksPerHost, CPU_ARCHITECTURES } from "../aws-limits";
import type { MeshSpec, ServiceSpec } from "../spec/schema";
import { HOST_CALLS, interfaceApis } from "./aws-apis";
import { agentTask, MESH_SECRET_SLOTS, meshSecretsOf, SERVER_WRITTEN_MESH_SECRETS } from "./containers";
import { DATAPLANE_CONTROL, dataplaneTask, shutdownDelayOf, taskRolePath } from "./dataplane";
import { planImages } from "./images";
import { meshEntryOf, resolveIntentions } from "./intentions";
import { planTraffic } from "./traffic";
import { planObservability, proxyDefaultsEntry } from "./observability";
import { maxTasksOf } from "./autoscaling";
import { planNetwork } from "./network";
import { planServers } from "./server";
import { HOST_CLUSTER_SLOT, slot } from "./text";
import { ecsHostUserData } from "./texts";
import { keepsOwnNames, meshNames } from "./names";
import { buildTlsEdgePlan } from "./tls-edge";
import type { HostsPlan, MeshPlan, ServerPlan, ServicePlan, TaskArchitecture, TaskPlan } from "./types";

/**
 * ECS agent settings of every host. Images are pulled once per host and reused from its cache
 * (pull-through cache or registry alike: fewer pulls, faster restarts); awsvpc tasks cannot reach
 * the host's instance metadata (its credentials).
 */
const ECS_AGENT_CONFIG = { ECS_AWSVPC_BLOCK_IMDS: "true", ECS_ENABLE_TASK_IAM_ROLE: "true", ECS_IMAGE_PULL_BEHAVIOR: "once" } as const;

/**
 * Rolling deployment bounds that let a rollout progress. ECS rounds the minimum up and the
 * maximum down (DeploymentConfiguration): with min 50 % of 1 task it must keep the only task and
 * may not start another. Fixed EC2 hosts have no spare ENIs to surge into, so they replace in
 * place and a single task is replaced with a short gap; Fargate and an Auto Scaling group's
 * capacity provider start the new task first.
 */
function deploymentFor(capacity: ServicePlan["capacity"], count: number): ServicePlan["deployment"] {
  if (capacity !== "EC2") return { minimumHealthyPercent: 100, maximumPercent: 200 };
  return { minimumHealthyPercent: count <= 1 ? 0 : 50, maximumPercent: 100 };
}

function hostsPlan(spec: MeshSpec): HostsPlan {
  const { ecsHosts } = spec;
  const placement: HostsPlan["placement"] = ecsHosts.autoScaling ? { kind: "auto-scaling", ...ecsHosts.autoScaling } : { kind: "fixed", privateIps: ecsHosts.privateIps };
  return {
    instanceType: ecsHosts.instanceType,
    architecture: architectureOf(ecsHosts.instanceType),
    placement,
    maxHosts: placement.kind === "fixed" ? placement.privateIps.length : placement.maxSize,
    tasksPerHost: awsvpcTasksPerHost(ecsHosts.instanceType),
    userData: ecsHostUserData({ clusterName: slot(HOST_CLUSTER_SLOT), agentConfig: ECS_AGENT_CONFIG, instanceAttributes: { "purchase-option": "ondemand" } }),
    calls: HOST_CALLS,
  };
}

/**
 * A service's plan; with versions, each version's plan is the service's with the version's image,
 * count and meta, and the service's own count is theirs added up (what the capacity rules count).
 */
function servicePlan(spec: MeshSpec, server: ServerPlan, name: string, service: ServiceSpec): ServicePlan {
  const names = Object.keys(service.versions).sort();
  const defaultVersion = names[0];
  if (defaultVersion === undefined) return unitPlan(spec, server, name, service);
  const versions = names.map((version) => {
    const { image, count } = service.versions[version]!;
    return unitPlan(spec, server, name, { ...service, image: image ?? service.image, count }, { version, defaultVersion });
  });
  const count = versions.reduce((sum, v) => sum + v.count, 0);
  return { ...unitPlan(spec, server, name, { ...service, count }), defaultVersion, versions };
}

function unitPlan(spec: MeshSpec, server: ServerPlan, name: string, service: ServiceSpec, of?: { version: string; defaultVersion: string }): ServicePlan {
  const version = of?.version;
  const capacity: ServicePlan["capacity"] = service.launchType === "FARGATE" ? "FARGATE" : spec.ecsHosts.autoScaling ? "capacity-provider" : "EC2";
  const architecture = architectureOfService(spec, service);
  const task = architecture === "agent" ? agentTask(spec, server, name, service, version) : dataplaneTask(spec, name, service, version);
  return {
    ...service,
    name,
    path: `services.${name}`,
    cpuArchitecture:
      service.cpuArchitecture ?? (service.launchType === "FARGATE" ? spec.fargateCpuArchitecture : CPU_ARCHITECTURES[architectureOf(spec.ecsHosts.instanceType)].ecs),
    architecture,
    shutdownDelaySeconds: architecture === "dataplane" ? shutdownDelayOf(service) : 0,
    // Bounds that progress at every count it may run: the scaler's fewest is the hardest.
    deployment: deploymentFor(capacity, service.autoscaling?.minCount ?? service.count),
    circuitBreaker: circuitBreakerFor(server, task),
    capacity,
    subnets: service.assignPublicIp ? "public" : "private",
    startsAfter: startsAfter(task, capacity),
    task,
    ...(of === undefined ? {} : of),
    versions: [],
    ...(service.split === undefined ? {} : { split: service.split }),
    routes: service.routes,
  };
}

/**
 * What the mesh stack creates before each ECS service (its depends_on, in this order): the servers
 * (which also write the RPC CA's certificate, SERVER_WRITTEN_MESH_SECRETS), the secret values
 * Terraform writes that the task reads at start (ECS reads them once; a missing value fails the
 * task), and, when the task reads a service token, the parameter the servers create it from. Booting the
 * servers and creating the token happen after the apply: the init container waits for them
 * (CONTROL_PLANE_WAIT). A dataplane task's mesh-init waits for the servers and its login.
 * CreateService with a capacity provider strategy fails until the provider is associated with the cluster.
 */
function startsAfter(task: TaskPlan, capacity: ServicePlan["capacity"]): ServicePlan["startsAfter"] {
  const terraformWritten = meshSecretsOf(task).filter((slot) => !SERVER_WRITTEN_MESH_SECRETS.includes(slot));
  return [
    "consul-servers",
    ...(terraformWritten.length > 0 ? (["mesh-secrets"] as const) : []),
    ...(meshSecretsOf(task).includes(MESH_SECRET_SLOTS.serviceToken) ? (["service-token"] as const) : []),
    ...(capacity === "capacity-provider" ? (["capacity-provider"] as const) : []),
  ];
}

/**
 * Whether a service keeps ECS's deployment circuit breaker. Terraform waits for Auto Scaling servers
 * (each is in service only after its launch hook, which it completes once it wrote or read the RPC CA),
 * but not for a fixed server's user data. A task that reads the CA certificate the first server writes
 * and starts before it exists stops before its containers start, and ECS starts another. With the breaker
 * on, a first deployment fails after its threshold of such tasks (at least 3) and "stop[s] launching new
 * tasks" with no earlier deployment to roll back to: the mesh would not come up. With it off, ECS retries,
 * throttled at most 27 minutes apart and never giving up (ECS Developer Guide, "Amazon ECS service throttle
 * logic"), until the certificate exists. README, "Boot order".
 */
function circuitBreakerFor(server: ServerPlan, task: TaskPlan): boolean {
  return !(server.placement === "fixed" && meshSecretsOf(task).some((slot) => SERVER_WRITTEN_MESH_SECRETS.includes(slot)));
}

/** A service's task architecture: its own, else the mesh's. */
function architectureOfService(spec: MeshSpec, service: ServiceSpec): TaskArchitecture {
  return service.architecture ?? spec.architecture;
}

/** The plan of a schema-checked spec. */
export function buildPlan(spec: MeshSpec): MeshPlan {
  const architectures = new Set(Object.values(spec.services).map((service) => architectureOfService(spec, service)));
  const dataplane = architectures.has("dataplane") ? { ...DATAPLANE_CONTROL, taskRolePath: taskRolePath(spec.name) } : undefined;
  const server = planServers(spec, { agents: architectures.has("agent"), ...(dataplane ? { login: dataplane } : {}) });
  const services = Object.keys(spec.services)
    .sort()
    .map((name) => servicePlan(spec, server, name, spec.services[name]!));
  const hosts = hostsPlan(spec);
  const images = planImages(spec.versions, spec.images);
  const network = planNetwork(spec, interfaceApis(server, hosts, services, images));
  const intentions = resolveIntentions(services, spec.intentions);
  const meshEntry = meshEntryOf(intentions);
  const traffic = planTraffic(services, intentions, spec.traffic.maxRetryAmplification, proxyDefaultsEntry(spec.observability));
  const observability = planObservability(spec.observability, spec.name, services, traffic.edges);
  const names = meshNames({
    cluster: spec.name,
    zoneCount: network.zones.length,
    serverCount: server.nodes.length,
    fixedHostCount: hosts.placement.kind === "fixed" ? hosts.placement.privateIps.length : 0,
    services: services.map((s) => s.name),
    serviceVersions: new Map(services.filter((s) => s.versions.length > 0).map((s) => [s.name, s.versions.filter(keepsOwnNames).map((v) => v.version!)])),
    interfaceEndpoints: network.interfaceEndpoints,
    snapshots: server.snapshots !== undefined,
    ...(observability
      ? {
          observability: {
            services: observability.services.map((s) => s.service),
            alarms: observability.alarms !== undefined,
            ...(observability.prometheus?.workspace === "create" ? { createsPrometheusWorkspace: true } : {}),
          },
        }
      : {}),
  });
  return {
    name: spec.name,
    names,
    region: spec.region,
    logRetentionDays: spec.logRetentionDays,
    network,
    datacenter: spec.consul.datacenter,
    versions: spec.versions,
    ...(dataplane ? { dataplane } : {}),
    images,
    allowAnonymousDockerHubPulls: spec.images.allowAnonymousDockerHubPulls,
    ...(spec.images.dockerHubCredentialsSecretArn ? { dockerHubCredentialsSecretArn: spec.images.dockerHubCredentialsSecretArn } : {}),
    server,
    hosts,
    services,
    // Every version's tasks: a canary runs them all at once; an autoscaled service at its maxCount.
    ec2TaskCount: services.filter((s) => s.launchType === "EC2").reduce((sum, s) => sum + maxTasksOf(s), 0),
    intentions,
    declaredIntentions: spec.intentions,
    ...(meshEntry ? { meshEntry } : {}),
    traffic,
    ...(observability ? { observability } : {}),
    ...(spec.tlsEdge === undefined
      ? {}
      : {
          tlsEdge: buildTlsEdgePlan(spec.tlsEdge, {
            region: spec.region,
            envoySource: images.get("envoy")!.upstream,
            network: { plan: network, names },
            accessLogs: spec.observability.accessLogs.enabled,
            ...(observability ? { observability, prometheusParameters: names.tlsEdgePrometheus } : {}),
            ...(spec.observability.traces.enabled ? { traces: { samplingPercent: spec.observability.traces.samplingPercent } } : {}),
            ...(observability || spec.observability.traces.enabled ? { collectorSource: images.get("otelCollector")!.upstream } : {}),
          }),
        }),
  };
}
