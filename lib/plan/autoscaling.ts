// Autoscaling of the mesh's ECS services (spec services.<name>.autoscaling): Application Auto
// Scaling target tracking on the desired count, within minCount..maxCount.
//
// Decisions, each made here once:
//   - Every ECS service scales on its own: a service with versions gets one scalable target and one
//     policy per version (each its own ECS service), with the service's bounds and target.
//   - cpuPercent: ECS's predefined ECSServiceAverageCPUUtilization (the service's own tasks).
//   - requestsPerTask: a customized metric in metric math (Application Auto Scaling user guide,
//     "target tracking using metric math", its SQS backlog per task example): the responses of the
//     service's own proxies summed over the status classes (the catalogue's serviceResponses, per
//     Consul service: every version's proxies report under the one service name), per second,
//     divided by the running tasks of all its versions (Container Insights' RunningTaskCount, which
//     the cluster turns on, lib/constructs/mesh-cluster.ts). Every version then sees the same load per
//     task and they scale in proportion, keeping a split's ratio of tasks.
import { ecsServiceNamesOf, ecsServicesOf } from "./names";
import { METRIC_CATALOGUE, RESPONSE_CLASSES, serviceResponses } from "./observability";
import type { MeshPlan, ServicePlan } from "./types";

/** Container Insights' count of a service's running tasks (ECS/ContainerInsights; the cluster's containerInsights setting publishes it). */
export const ECS_RUNNING_TASKS = { namespace: "ECS/ContainerInsights", name: "RunningTaskCount", dimensions: ["ClusterName", "ServiceName"] } as const;

/** The ECS predefined metric of cpuPercent. */
export const ECS_CPU_METRIC = "ECSServiceAverageCPUUtilization";

/** Application Auto Scaling evaluates a target tracking metric over one-minute periods: requests per period become requests per second. */
const SCALING_PERIOD_SECONDS = 60;

/** Most tasks a service runs at once outside a rollout: every ECS service of it (each version) at its maxCount, else its count. */
export function maxTasksOf(service: ServicePlan): number {
  return ecsServicesOf(service).reduce((sum, unit) => sum + (unit.autoscaling?.maxCount ?? unit.count), 0);
}

/** The counts an ECS service may run: its count, or every count from minCount to maxCount. */
export function countsOf(unit: ServicePlan): { readonly min: number; readonly max: number } {
  return unit.autoscaling ? { min: unit.autoscaling.minCount, max: unit.autoscaling.maxCount } : { min: unit.count, max: unit.count };
}

/** One query of a customized metric (target tracking metric math); without a period: target tracking's is one minute. */
export interface ScalingQuery {
  readonly id: string;
  readonly expression?: string;
  readonly label?: string;
  readonly returnData: boolean;
  readonly metric?: { readonly namespace: string; readonly metricName: string; readonly dimensions: Readonly<Record<string, string>>; readonly stat: string };
}

export interface ScalingPolicyPlan {
  /** The policy's name (unique per scalable target). */
  readonly name: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly targetValue: number;
  readonly scaleInCooldown: number;
  readonly scaleOutCooldown: number;
  readonly metric: { readonly predefined: typeof ECS_CPU_METRIC } | { readonly queries: readonly ScalingQuery[] };
}

/**
 * The target tracking policy of one ECS service (a plan of `ecsServicesOf`), or undefined when it
 * does not scale. Throws on requestsPerTask without metrics: the autoscaling rule reports that
 * spec first, so only a caller that skipped the rules reaches it.
 */
export function scalingPolicyOf(plan: MeshPlan, unit: ServicePlan): ScalingPolicyPlan | undefined {
  const scaling = unit.autoscaling;
  if (!scaling) return undefined;
  const common = {
    minCapacity: scaling.minCount,
    maxCapacity: scaling.maxCount,
    scaleInCooldown: scaling.scaleInCooldownSeconds,
    scaleOutCooldown: scaling.scaleOutCooldownSeconds,
  };
  if (scaling.cpuPercent !== undefined) return { name: "cpu-target-tracking", ...common, targetValue: scaling.cpuPercent, metric: { predefined: ECS_CPU_METRIC } };
  const { observability } = plan;
  if (!observability?.services.some((s) => s.service === unit.name)) throw new Error(`${unit.path}: requestsPerTask reads the proxies' metrics, which this service does not ship`);
  const service = plan.services.find((s) => s.name === unit.name)!;
  const responses = serviceResponses(unit.name).map(
    (m, i): ScalingQuery => ({
      id: `c${RESPONSE_CLASSES[i]}`,
      returnData: false,
      metric: { namespace: observability.namespace, metricName: METRIC_CATALOGUE[m.metric].name, dimensions: { ...m.dimensions }, stat: m.stat },
    }),
  );
  const tasks = ecsServicesOf(service).map(
    (v, i): ScalingQuery => ({
      id: `t${i}`,
      returnData: false,
      metric: {
        namespace: ECS_RUNNING_TASKS.namespace,
        metricName: ECS_RUNNING_TASKS.name,
        dimensions: { ClusterName: plan.names.cluster, ServiceName: ecsServiceNamesOf(plan.names, v).ecsService },
        stat: "Average",
      },
    }),
  );
  const sum = (qs: readonly ScalingQuery[]) => `SUM([${qs.map((q) => q.id).join(", ")}])`;
  return {
    name: "requests-per-task-target-tracking",
    ...common,
    targetValue: scaling.requestsPerTask!,
    metric: {
      queries: [
        { id: "perTask", expression: `${sum(responses)} / ${SCALING_PERIOD_SECONDS} / ${sum(tasks)}`, label: "requests/s per running task", returnData: true },
        ...responses,
        ...tasks,
      ],
    },
  };
}
