// spec -> plan: every name, default and derived number decided once. The plan is built from a
// schema-checked spec even when semantic rules will reject it (an upstream to an unknown
// service stays in the plan), so the rules can report every problem in one run.
import { architectureOf, awsvpcTasksPerHost } from "../aws-limits";
import { CONSUL_PORTS, CONSUL_PRIVATE_IP, SERVER_PATHS } from "../facts";
import { CONSUL } from "../versions";
import type { MeshSpec, ServiceSpec } from "../spec/schema";
import { agentTask } from "./containers";
import { resolveIntentions } from "./intentions";
import { slot } from "./text";
import { aclSyncScript, aclSyncTimer, aclSyncUnit, consulServerUserData, consulUnit, ecsHostUserData, serverConfig } from "./texts";
import { buildTlsEdgePlan } from "./tls-edge";
import type { HostsPlan, LaunchType, MeshPlan, ServerPlan, ServicePlan } from "./types";

/** Slots of the server's user data: Terraform references the ConsulServer construct binds. */
export const SERVER_SLOTS = {
  region: "region",
  serviceTokenManifest: "serviceTokenManifest",
  gossipKey: "secret:gossipKey",
  caCert: "secret:caCert",
  serverCert: "secret:serverCert",
  serverKey: "secret:serverKey",
  managementToken: "secret:managementToken",
  agentToken: "secret:agentToken",
} as const;

/** Slot of the ECS hosts' user data: the cluster they join. */
export const HOST_SLOTS = { clusterName: "clusterName" } as const;

/**
 * Rolling deployment bounds per launch type. EC2 hosts have a fixed number of ENIs: replace
 * tasks in place rather than surge; Fargate has no such limit.
 */
function deploymentFor(launchType: LaunchType): ServicePlan["deployment"] {
  return launchType === "EC2" ? { minimumHealthyPercent: 50, maximumPercent: 100 } : { minimumHealthyPercent: 100, maximumPercent: 200 };
}

function servicePlan(spec: MeshSpec, name: string, service: ServiceSpec): ServicePlan {
  return {
    name,
    path: `services.${name}`,
    image: service.image,
    ...(service.port === undefined ? {} : { port: service.port }),
    ...(service.command === undefined ? {} : { command: service.command }),
    count: service.count,
    launchType: service.launchType,
    cpu: service.cpu,
    memory: service.memory,
    ...(service.appMemory === undefined ? {} : { appMemory: service.appMemory }),
    healthCheck: service.healthCheck,
    upstreams: service.upstreams,
    environment: service.environment,
    secrets: service.secrets,
    readonlyRootFilesystem: service.readonlyRootFilesystem,
    enableExecuteCommand: service.enableExecuteCommand,
    assignPublicIp: service.assignPublicIp,
    deployment: deploymentFor(service.launchType),
    task: agentTask(spec, name, service),
  };
}

function serverPlan(spec: MeshSpec): ServerPlan {
  const architecture = architectureOf(spec.consul.serverInstanceType);
  const arch = architecture === "arm64" ? "arm64" : "amd64";
  const paths = SERVER_PATHS;
  const config = serverConfig({
    datacenter: spec.consul.datacenter,
    bindAddr: CONSUL_PRIVATE_IP,
    httpsPort: CONSUL_PORTS.https,
    dataDir: paths.dataDir,
    tls: { caFile: paths.caFile, certFile: paths.certFile, keyFile: paths.keyFile },
  });
  return {
    instanceType: spec.consul.serverInstanceType,
    architecture,
    privateIp: spec.consul.serverPrivateIp,
    config,
    userData: consulServerUserData({
      version: CONSUL.version,
      arch,
      sha256: CONSUL.sha256[arch],
      region: slot(SERVER_SLOTS.region),
      secrets: {
        gossipKey: slot(SERVER_SLOTS.gossipKey),
        caCert: slot(SERVER_SLOTS.caCert),
        serverCert: slot(SERVER_SLOTS.serverCert),
        serverKey: slot(SERVER_SLOTS.serverKey),
        managementToken: slot(SERVER_SLOTS.managementToken),
        agentToken: slot(SERVER_SLOTS.agentToken),
      },
      serviceTokenManifest: slot(SERVER_SLOTS.serviceTokenManifest),
      paths,
      serverConfig: config,
      systemdUnit: consulUnit({ binary: paths.binary, configDir: paths.configDir, configFile: paths.configFile }),
      aclSyncScript: aclSyncScript({ httpsPort: CONSUL_PORTS.https, caFile: paths.caFile, managementTokenFile: paths.managementTokenFile }),
      aclSyncUnit: aclSyncUnit({ envFile: paths.aclSyncEnvFile, binary: paths.aclSyncBinary }),
      aclSyncTimer: aclSyncTimer({}),
    }),
  };
}

function hostsPlan(spec: MeshSpec): HostsPlan {
  return {
    instanceType: spec.ecsHosts.instanceType,
    architecture: architectureOf(spec.ecsHosts.instanceType),
    privateIps: spec.ecsHosts.privateIps,
    tasksPerHost: awsvpcTasksPerHost(spec.ecsHosts.instanceType),
    userData: ecsHostUserData({ clusterName: slot(HOST_SLOTS.clusterName), instanceAttributes: { "purchase-option": "ondemand" } }),
  };
}

/** The plan of a schema-checked spec. */
export function buildPlan(spec: MeshSpec): MeshPlan {
  const services = Object.keys(spec.services)
    .sort()
    .map((name) => servicePlan(spec, name, spec.services[name]!));
  return {
    name: spec.name,
    region: spec.region,
    ...(spec.availabilityZone === undefined ? {} : { availabilityZone: spec.availabilityZone }),
    logRetentionDays: spec.logRetentionDays,
    network: spec.network,
    datacenter: spec.consul.datacenter,
    server: serverPlan(spec),
    hosts: hostsPlan(spec),
    services,
    ec2TaskCount: services.filter((s) => s.launchType === "EC2").reduce((sum, s) => sum + s.count, 0),
    intentions: resolveIntentions(services, spec.intentions),
    declaredIntentions: spec.intentions,
    ...(spec.tlsEdge === undefined ? {} : { tlsEdge: buildTlsEdgePlan(spec.tlsEdge, spec.region) }),
  };
}

/** The SSM parameter listing the service token secrets the server keeps in sync (ARNs only). */
export function serviceTokenManifestName(clusterName: string): string {
  return `/${clusterName}/consul/service-tokens`;
}
