// Every image pinned: a tag other than "latest", or a digest. And anonymous Docker Hub pulls within
// Docker Hub's limit: a rollout that starts more pulls than the mesh's NAT addresses may make in
// an hour leaves tasks failing with "toomanyrequests" until the hour is over.
import { CPU_ARCHITECTURES } from "../aws-limits";
import { imagePinProblem, registryOf } from "../image-reference";
import { meshImageKeysOf } from "../plan/images";
import type { ImagePlan, MeshPlan, ServicePlan } from "../plan/types";
import { listed, type RuleResult } from "../issues";
import { imageArchitecturesOf } from "../versions";
import { ecsServicesOf } from "../plan/names";
import { countsOf, maxTasksOf } from "../plan/autoscaling";

/** Docker Hub's limit for unauthenticated pulls: 10 per hour per IPv4 address (docs.docker.com/docker-hub/usage/pulls, since 2025-04-01). */
const DOCKER_HUB_ANONYMOUS_PULLS_PER_HOUR = 10;

export function checkImages(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  for (const service of plan.services) {
    const problem = imagePinProblem(service.image);
    if (problem) errors.push({ path: `${service.path}.image`, message: problem });
    checkCpuArchitecture(plan, service, { errors, warnings });
  }
  checkTlsEdgeCpuArchitecture(plan, { errors, warnings });
  // A Fargate task pulls every image on every start: a task that crash-loops pulls until Docker
  // Hub's anonymous limit locks its NAT address out, and no task of the service starts for an hour.
  // (A task with a public IP pulls from an address of its own; without NAT, the network paths say
  // Docker Hub is unreachable.)
  if (!plan.allowAnonymousDockerHubPulls && plan.network.egress !== "vpc-endpoints") {
    for (const service of plan.services.filter((s) => s.launchType === "FARGATE" && !s.assignPublicIp && maxTasksOf(s) > 0)) {
      for (const image of anonymousMeshImages(plan, service)) {
        errors.push({
          path: `${service.path}.launchType`,
          message:
            `a Fargate task pulls ${image.upstream} from Docker Hub anonymously on every start, and a crash loop exhausts Docker Hub's 10 pulls per hour per NAT address, locking the service out for an hour. ` +
            "Set images.dockerHubCredentialsSecretArn (an ECR pull-through cache), or architecture: dataplane for this service (its mesh images come from ECR Public), or run it on EC2 (each host pulls once); images.allowAnonymousDockerHubPulls: true accepts the risk",
        });
      }
    }
  }
  const budget = dockerHubPullBudget(plan);
  if (budget && budget.pulls > budget.limit) {
    const fixes = [
      ...(budget.meshImages
        ? ["images.dockerHubCredentialsSecretArn (Envoy through an ECR pull-through cache), or architecture: dataplane (no Docker Hub image among the mesh containers)"]
        : []),
      ...(budget.appServices.length > 0 ? [`imageCredentialsSecretArn on ${listed(budget.appServices)} (or their images in ECR)`] : []),
    ];
    warnings.push({
      path: "images",
      message:
        `a rollout of every service makes about ${budget.pulls} anonymous Docker Hub pulls (${budget.detail.join("; ")}) through ${budget.addresses} NAT gateway address(es); ` +
        `Docker Hub allows ${DOCKER_HUB_ANONYMOUS_PULLS_PER_HOUR} per hour per address, so tasks fail with "toomanyrequests" until the hour is over. Set ${fixes.join("; and ")}`,
    });
  }
}

/** The mesh images a service's tasks pull from Docker Hub anonymously (no pull-through cache). */
function anonymousMeshImages(plan: MeshPlan, service: ServicePlan): ImagePlan[] {
  return meshImageKeysOf(service.task)
    .map((key) => plan.images.get(key)!)
    .filter((image) => image.via === "direct" && registryOf(image.upstream) === "Docker Hub");
}

/**
 * Anonymous Docker Hub pulls when every task starts once (a first deploy, or a change to every
 * service), counted where they share the NAT gateways' addresses: a Fargate task pulls each of its
 * images; an EC2 host pulls an image once (ECS_IMAGE_PULL_BEHAVIOR=once), so at most one pull per
 * host that runs it. Tasks and hosts with public IPs have addresses of their own and are not
 * counted; without NAT gateways Docker Hub is unreachable (the network-path rules say so).
 */
function dockerHubPullBudget(plan: MeshPlan) {
  const { egress, zones, publicInstances } = plan.network;
  if (egress === "vpc-endpoints") return undefined;
  const addresses = egress === "nat-gateway-per-zone" ? zones.length : 1;
  const anonymous = (service: ServicePlan): { image: string; mesh: boolean }[] => {
    const images = anonymousMeshImages(plan, service).map((image) => ({ image: image.upstream, mesh: true }));
    if (registryOf(service.image) === "Docker Hub" && !service.imageCredentialsSecretArn) images.push({ image: service.image, mesh: false });
    return images;
  };
  const fargatePulls = new Map<string, number>();
  const ec2Tasks = new Map<string, number>();
  let meshImages = false;
  const appServices = new Set<string>();
  // Each ECS service pulls: a service with versions is one per version, each its image and count.
  for (const service of plan.services.flatMap(ecsServicesOf)) {
    const viaNat = service.launchType === "FARGATE" ? !service.assignPublicIp : !publicInstances;
    // An autoscaled service at its maxCount: a load spike starts that many tasks within an hour.
    const tasks = countsOf(service).max;
    if (!viaNat || tasks === 0) continue;
    for (const { image, mesh } of anonymous(service)) {
      if (mesh) meshImages = true;
      else appServices.add(service.name);
      const counts = service.launchType === "FARGATE" ? fargatePulls : ec2Tasks;
      counts.set(image, (counts.get(image) ?? 0) + tasks);
    }
  }
  const detail: string[] = [];
  let pulls = 0;
  for (const [image, tasks] of [...fargatePulls].sort(([a], [b]) => a.localeCompare(b))) {
    pulls += tasks;
    detail.push(`${image}: ${tasks} Fargate task(s)`);
  }
  for (const [image, tasks] of [...ec2Tasks].sort(([a], [b]) => a.localeCompare(b))) {
    const hosts = Math.min(tasks, plan.hosts.maxHosts);
    pulls += hosts;
    detail.push(`${image}: ${hosts} EC2 host(s)`);
  }
  if (pulls === 0) return undefined;
  return { pulls, limit: DOCKER_HUB_ANONYMOUS_PULLS_PER_HOUR * addresses, addresses, detail, meshImages, appServices: [...appServices].sort() };
}

// A task runs only where every image it runs has its architecture: EC2 tasks on the hosts', Fargate
// tasks on the one they ask for. The mesh's images (their FIPS builds with versions.fips) publish
// both; the app's image is the user's.
export function checkCpuArchitecture(plan: MeshPlan, service: ServicePlan, { errors, warnings }: RuleResult, published = imageArchitecturesOf(plan.versions)): void {
  const arch = service.cpuArchitecture;
  if (service.launchType === "EC2" && arch !== CPU_ARCHITECTURES[plan.hosts.architecture].ecs) {
    errors.push({
      path: `${service.path}.cpuArchitecture`,
      message: `${arch} tasks cannot run on the ECS hosts, which are ${plan.hosts.architecture} (${plan.hosts.instanceType}); set launchType: FARGATE, or give the hosts an instance type of that architecture`,
    });
  }
  const platform = Object.values(CPU_ARCHITECTURES).find((a) => a.ecs === arch)!.linux;
  for (const key of meshImageKeysOf(service.task)) {
    if (!published[key].includes(platform))
      errors.push({ path: `${service.path}.cpuArchitecture`, message: `${plan.images.get(key)!.upstream} publishes no linux/${platform} image` });
  }
  // On Graviton hosts EC2 tasks were ARM64 before this setting existed: only a Fargate task is new there.
  if (arch === "ARM64" && service.launchType === "FARGATE") {
    warnings.push({ path: `${service.path}.image`, message: `${service.image} must publish a linux/arm64 image (the task runs on ARM64); nothing here can check it` });
  }
}

/**
 * The TLS edge's task runs the app, Envoy and (metrics or traces on) the collector on one architecture:
 * the mesh's images must publish it (scripts/push-images.sh mirrors that platform); the app
 * image is built by the same script for it.
 */
export function checkTlsEdgeCpuArchitecture(plan: MeshPlan, { errors }: RuleResult, published = imageArchitecturesOf(plan.versions)): void {
  const edge = plan.tlsEdge;
  if (!edge) return;
  const platform = Object.values(CPU_ARCHITECTURES).find((a) => a.ecs === edge.cpuArchitecture)!.linux;
  const images: [keyof typeof published, string][] = [
    ["envoy", edge.envoyImage.source],
    ...(edge.collectorImage ? [["otelCollector", edge.collectorImage.source] as [keyof typeof published, string]] : []),
  ];
  for (const [key, image] of images) {
    if (!published[key].includes(platform)) {
      errors.push({
        path: "tlsEdge.cpuArchitecture",
        message: `the TLS edge's tasks run ${edge.cpuArchitecture} (tlsEdge.cpuArchitecture, default X86_64), but ${image} publishes no linux/${platform} image (it publishes ${published[key].map((a) => `linux/${a}`).join(", ")}); set tlsEdge.cpuArchitecture to one of those`,
      });
    }
  }
}
