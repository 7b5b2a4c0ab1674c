// The deployability model's network paths: for each task, host and server, what it must reach to
// start and work (its image registry, CloudWatch Logs, Secrets Manager, SSM Messages for ECS
// Exec, the Consul servers ...) and by which route: a NAT gateway, a public IP with the internet
// gateway, a VPC endpoint, or a security group rule inside the VPC. A need without a route is an
// error (the task could not start, or the feature could not work); a route that works only after
// a first step elsewhere (an empty pull-through cache behind VPC endpoints) is a warning.
import { imagePinProblem, isEcrImage, registryOf } from "../image-reference";
import { containerCalls, ECR_PULL_APIS, ECS_EXEC_CALLS, ecsAgentCalls } from "../plan/aws-apis";
import { meshImageKeysOf } from "../plan/images";
import { ecsServicesOf } from "../plan/names";
import type { AwsApi, AwsApiCall, MeshPlan, ServicePlan, TlsEdgePlan } from "../plan/types";
import type { RuleResult } from "../issues";

export type Verdict = "ok" | "warning" | "error";

/**
 * One row of the deployability model (lib/rules/model.ts): a need of a task, host or server and
 * how the plan meets it. Network paths, boot order, task lifecycle and rollouts all report rows.
 */
export interface PathReport {
  /** Who needs it: "service http-client (tasks)", "ECS hosts", "Consul servers". */
  readonly who: string;
  /** What it needs (to reach, to start, to stop, to roll out), and why. */
  readonly need: string;
  /** The route or arrangement found, or why there is none. */
  readonly path: string;
  readonly verdict: Verdict;
  /** The spec path to change when the verdict is not ok. */
  readonly specPath: string;
  /** What to change, when the verdict is not ok. */
  readonly fix?: string;
}

/** Writes rows about one who, filed under one spec path: ok with the arrangement found, or the verdict and the fix. */
export function rowWriter(reports: PathReport[], who: string, specPath: string) {
  const row = (verdict: Verdict) => (need: string, path: string, fix?: string) => void reports.push({ who, need, path, verdict, specPath, ...(fix === undefined ? {} : { fix }) });
  return { ok: row("ok"), error: row("error"), warn: row("warning") };
}

/** Where traffic starts: subnets of one kind, with or without a public IP on the interface; or a place with routes of its own (the TLS edge's). */
type Origin = { readonly subnets: "private" | "public"; readonly publicIp: boolean } | { readonly route: (destination: Destination) => string | undefined };

/** A destination: an AWS API (its VPC endpoint name), or anything on the internet. */
type Destination = { readonly aws: AwsApi } | { readonly internet: string };

function route(plan: MeshPlan, origin: Origin, destination: Destination): string | undefined {
  if ("route" in origin) return origin.route(destination);
  const { network } = plan;
  if (origin.subnets === "public") return origin.publicIp ? "public IP, internet gateway" : undefined;
  if ("aws" in destination) {
    if (destination.aws === "s3") return "S3 gateway endpoint";
    if (network.interfaceEndpoints.includes(destination.aws)) return `VPC endpoint ${destination.aws}`;
  }
  const nat = network.zones.every((zone) => zone.natZone !== undefined);
  return nat ? (network.egress === "nat-gateway" ? "NAT gateway (shared)" : "NAT gateway of its zone") : undefined;
}

function describe(destination: Destination): string {
  return "aws" in destination ? destination.aws : destination.internet;
}

const ECR_DESTINATIONS: readonly Destination[] = ECR_PULL_APIS.map((aws) => ({ aws }));

/** What pulling an image needs: ECR's API, its registry and S3 for layers, or a registry on the internet. */
function imageDestinations(image: string): readonly Destination[] {
  if (isEcrImage(image)) return ECR_DESTINATIONS;
  return [{ internet: registryOf(image) }];
}

/** Records one need: ok with its route, or the verdict with the fix when there is none. */
type AddNeed = (who: string, specPath: string, origin: Origin, need: string, destination: Destination, fix: string) => void;

export function networkPaths(plan: MeshPlan): PathReport[] {
  const reports: PathReport[] = [];
  const add: AddNeed = (who, specPath, origin, need, destination, fix) => {
    const found = route(plan, origin, destination);
    reports.push(found ? { who, need, path: found, verdict: "ok", specPath } : { who, need, path: "no route", verdict: "error", specPath, fix });
  };
  const noInternetFix = 'set network.egress to "nat-gateway" (or "nat-gateway-per-zone")';
  const instances: Origin = { subnets: plan.network.publicInstances ? "public" : "private", publicIp: plan.network.publicInstances };

  // Mesh images (consul, envoy, consul-ecs, consul-dataplane) the tasks run: through the pull-through cache (ECR) or from their registry.
  const cachedFirstPulls = new Set<string>();
  for (const service of plan.services) {
    const origin: Origin = service.launchType === "FARGATE" ? { subnets: service.subnets, publicIp: service.assignPublicIp } : instances;
    for (const key of meshImageKeysOf(service.task)) {
      const image = plan.images.get(key)!;
      if (image.via !== "direct") {
        cachedFirstPulls.add(image.upstream);
        for (const destination of ECR_DESTINATIONS) {
          add(`service ${service.name} (tasks)`, "images", origin, `pull ${image.upstream} from the ECR pull-through cache: ${describe(destination)}`, destination, noInternetFix);
        }
        continue;
      }
      const fix = image.upstream.startsWith("public.ecr.aws/")
        ? `set images.pullThroughCache: true, or ${noInternetFix}`
        : `set images.dockerHubCredentialsSecretArn (a pull-through cache for Docker Hub), or ${noInternetFix}`;
      for (const destination of imageDestinations(image.upstream)) add(`service ${service.name} (tasks)`, "images", origin, `pull ${image.upstream}`, destination, fix);
    }
  }
  if (plan.network.egress === "vpc-endpoints") {
    const cache = rowWriter(reports, "ECR pull-through cache", "network.egress");
    for (const upstream of [...cachedFirstPulls].sort()) {
      cache.warn(
        `first pull of ${upstream}`,
        "ECR fetches from the upstream registry only through the VPC's internet access (ECR docs, VPC endpoints)",
        "pull each mesh image once through the cache from a machine with internet access before the first deploy (README), or use a NAT gateway",
      );
    }
  }

  for (const service of plan.services) serviceNeeds(service, add, instances);

  // The ECS hosts: the ECS agent's control plane, SSM for sessions.
  if (plan.services.some((s) => s.launchType === "EC2")) {
    for (const call of plan.hosts.calls) add("ECS hosts", "network.egress", instances, needOf(call), { aws: call.api }, noInternetFix);
  }

  // The Consul servers: their release, packages, secrets, and what their placement calls.
  const server = plan.server;
  const servers = (specPath: string, need: string, destination: Destination, fix = noInternetFix) => add("Consul servers", specPath, instances, need, destination, fix);
  if ("url" in server.release) {
    servers(
      "consul.releaseS3Uri",
      "download Consul from releases.hashicorp.com",
      { internet: "releases.hashicorp.com" },
      `stage the release zip in S3 and set consul.releaseS3Uri (README), or ${noInternetFix}`,
    );
  } else {
    servers("consul.releaseS3Uri", `download Consul from ${server.release.s3Uri}`, { aws: "s3" });
  }
  servers("network.egress", "dnf packages (Amazon Linux repositories on S3)", { aws: "s3" });
  for (const call of server.calls) servers("network.egress", needOf(call), { aws: call.api });
  if (server.snapshots) servers("network.egress", "s3 (snapshots)", { aws: "s3" });
  // The servers verify each IAM login by sending the task's signed requests to STS and IAM. IAM's
  // interface endpoint (com.amazonaws.iam) exists only in us-east-1, and the endpoint set the plan
  // creates has neither sts nor iam: only the internet reaches them.
  if (plan.dataplane) {
    servers("architecture", "sts and iam.amazonaws.com (verify dataplane tasks' IAM logins)", { internet: "iam.amazonaws.com" }, `${noInternetFix}, or use architecture "agent"`);
  }
  if (plan.tlsEdge) tlsEdgeNeeds(plan, plan.tlsEdge, add);
  return reports;
}

/** The TLS edge's Fargate tasks: pull its two images from its ECR repositories, write logs, read the certificate's secrets. */
function tlsEdgeNeeds(plan: MeshPlan, edge: TlsEdgePlan, add: AddNeed): void {
  const who = `TLS edge ${edge.serviceName} (tasks)`;
  const specPath = edge.interfaceEndpoints.length > 0 ? "tlsEdge.vpcEndpoints" : "tlsEdge.network";
  const fix = 'set network.egress to "nat-gateway", or run the TLS edge in an existing VPC (tlsEdge.network) with a NAT gateway or vpcEndpoints';
  const origin: Origin = { route: (destination) => tlsEdgeRoute(plan, edge, destination) };
  // The same calls its own endpoints are made for (tlsEdgeApis): with them, every route exists by construction.
  const images = [`the app image from ${edge.names.appRepository}`, `${edge.envoyImage.source} mirrored into ${edge.names.envoyRepository}`];
  if (edge.collectorImage && edge.names.collectorRepository) images.push(`${edge.collectorImage.source} mirrored into ${edge.names.collectorRepository}`);
  for (const image of images) {
    for (const destination of ECR_DESTINATIONS) add(who, specPath, origin, `pull ${image}: ${describe(destination)}`, destination, fix);
  }
  for (const call of [...ecsAgentCalls(edge.task), ...containerCalls(edge.task)]) add(who, specPath, origin, needOf(call), { aws: call.api }, fix);
}

function tlsEdgeRoute(plan: MeshPlan, edge: TlsEdgePlan, destination: Destination): string | undefined {
  // Endpoints of its own are asked for where the VPC has no other way out: only they count.
  if (edge.interfaceEndpoints.length > 0) {
    if (!("aws" in destination)) return undefined;
    if (destination.aws === "s3") return "S3 gateway endpoint of tlsEdge.vpcEndpoints";
    return edge.interfaceEndpoints.includes(destination.aws) ? `VPC endpoint ${destination.aws} of tlsEdge.vpcEndpoints` : undefined;
  }
  if (edge.network.from === "mesh") return route(plan, { subnets: edge.assignPublicIp ? "public" : "private", publicIp: edge.assignPublicIp }, destination);
  // An existing VPC is not in the spec: its routes are the documented assumption (docs/tls-edge.md).
  return edge.assignPublicIp ? "public IP (assumed: the subnets route to an internet gateway)" : "the VPC's NAT gateway or endpoints (assumed: the VPC is not in the spec)";
}

function serviceNeeds(service: ServicePlan, add: AddNeed, instances: Origin): void {
  const who = `service ${service.name} (tasks)`;
  const task: Origin = { subnets: service.subnets, publicIp: service.assignPublicIp };
  // On EC2 the host's agent pulls images, writes logs and reads secrets; on Fargate the task's own interface does.
  const agent = service.launchType === "FARGATE" ? task : instances;
  const noInternetFix = 'set network.egress to "nat-gateway"';
  // A service with versions pulls each version's image (one ECS service per version).
  for (const image of new Set(ecsServicesOf(service).map((unit) => unit.image))) {
    if (imagePinProblem(image)) continue;
    for (const destination of imageDestinations(image)) {
      add(who, `${service.path}.image`, agent, `pull ${image}`, destination, `mirror the image into ECR (an ECR URI reaches through the VPC endpoints), or ${noInternetFix}`);
    }
  }
  for (const call of ecsAgentCalls(service.task)) add(who, "network.egress", agent, needOf(call), { aws: call.api }, noInternetFix);
  if (service.enableExecuteCommand) {
    for (const call of ECS_EXEC_CALLS) {
      add(who, `${service.path}.enableExecuteCommand`, task, needOf(call), { aws: call.api }, `keep a NAT gateway (network.egress "nat-gateway"), or turn ECS Exec off`);
    }
  }
  for (const call of containerCalls(service.task)) add(who, "network.egress", task, needOf(call), { aws: call.api }, noInternetFix);
}

function needOf(call: AwsApiCall): string {
  return `${call.api} (${call.why})`;
}

/** The rule of rows of the model: the rows that are not ok, as spec issues with their path and fix (errors stop synthesis, warnings do not). */
export function modelRule(rows: (plan: MeshPlan) => readonly PathReport[], message: (report: PathReport) => string = (r) => `${r.who}, ${r.need}: ${r.path}; ${r.fix}`) {
  return (plan: MeshPlan, { errors, warnings }: RuleResult): void => {
    for (const report of rows(plan)) {
      if (report.verdict === "ok") continue;
      (report.verdict === "error" ? errors : warnings).push({ path: report.specPath, message: message(report) });
    }
  };
}

// A need is a destination ("ssmmessages (ECS Exec)") or an action on one ("pull nginx:1.27").
const cannot = (need: string): string => (/^(pull|download) /.test(need) ? `cannot ${need}` : `cannot reach ${need}`);

export const checkNetworkPaths = modelRule(networkPaths, (r) =>
  r.verdict === "error" ? `${r.who} ${cannot(r.need)}: ${r.path}; ${r.fix}` : `${r.who}, ${r.need}: ${r.path}; ${r.fix}`,
);
