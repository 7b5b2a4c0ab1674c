// The AWS APIs the mesh calls, each stated once by its caller: a container's own calls on its
// plan (ContainerPlan.calls), the servers' and the hosts' on theirs, and here what the ECS agent
// calls for a task and what ECS Exec calls. The network plan creates an interface endpoint for
// every API called (egress vpc-endpoints), the network-path rule finds each call a route, and the
// task role grants the containers' actions.
import { isEcrImage } from "../image-reference";
import { meshImageKeyOf } from "./images";
import { isSlot, type Slot } from "./text";
import type { AwsApi, AwsApiCall, HostsPlan, ImagePlan, ServerPlan, ServicePlan, TaskPlan } from "./types";

/** Where finding the servers by tag is documented. */
export const DISCOVER_SOURCE = "go-discover provider=aws (Consul cloud auto-join, consul-ecs and consul-dataplane `discover`): ec2:DescribeInstances";

/** How Consul's cloud auto-join and consul-ecs find the servers: go-discover on the servers' EC2 tag. */
export function discoverServers(who: string): AwsApiCall {
  return { api: "ec2", actions: ["ec2:DescribeInstances"], why: `${who} finds the servers by tag`, source: DISCOVER_SOURCE };
}

/** What the ECS agent and the SSM agent on every host call. */
export const HOST_CALLS: readonly AwsApiCall[] = (["ecs", "ecs-agent", "ecs-telemetry", "ssm", "ssmmessages"] as const).map((api) => ({ api, why: "ECS agent, SSM sessions" }));

/** What the servers' scripts call (S3 aside: its gateway endpoint always exists); Auto Scaling servers also join by tag, attach their volume and complete their launch hook. */
export function serverCalls(placement: ServerPlan["placement"]): AwsApiCall[] {
  return [
    { api: "secretsmanager", why: "gossip key, tokens, the RPC CA (the first server writes it: PutSecretValue)" },
    { api: "ssm", why: "service token parameters, sessions" },
    { api: "ecs", why: "the task reaper describes the mesh's tasks" },
    ...(placement === "auto-scaling"
      ? [{ api: "ec2", why: "cloud auto-join, attach the data volume" } as const, { api: "autoscaling", why: "complete the launch lifecycle hook" } as const]
      : []),
  ];
}

/** The SSM agent ECS Exec injects into the task, in the task's own network namespace (even on EC2). */
export const ECS_EXEC_CALLS: readonly AwsApiCall[] = [
  { api: "ssmmessages", why: "ECS Exec" },
  { api: "kms", why: "ECS Exec session encryption" },
];

/** What pulling from ECR calls: its API, its registry, and S3 for the layers. */
export const ECR_PULL_APIS: readonly AwsApi[] = ["ecr.api", "ecr.dkr", "s3"];

/** A container's image comes from ECR: a mesh image through a pull-through cache, or an ECR URI. */
function pullsFromEcr(image: string | Slot, images: ReadonlyMap<string, ImagePlan>): boolean {
  const key = meshImageKeyOf(image);
  if (key !== undefined) return images.get(key)?.via !== "direct";
  return typeof image === "string" && isEcrImage(image);
}

/** What the ECS agent calls for a task besides image pulls, with the execution role: awslogs, and the secrets its containers receive. */
export function ecsAgentCalls(task: TaskPlan): AwsApiCall[] {
  // A slot is a secret the stacks create in Secrets Manager.
  const refs = task.containers.flatMap((c) => [...(c.secrets ?? []).map((s) => s.valueFrom), ...(c.repositoryCredentials ? [c.repositoryCredentials] : [])]);
  return [
    { api: "logs", why: "awslogs" },
    ...(refs.some((ref) => isSlot(ref) || ref.includes(":secretsmanager:")) ? [{ api: "secretsmanager", why: "ECS secrets" } as const] : []),
    ...(refs.some((ref) => !isSlot(ref) && ref.includes(":ssm:")) ? [{ api: "ssm", why: "ECS secrets from Parameter Store" } as const] : []),
  ];
}

/** The calls the task's containers make themselves, once each. */
export function containerCalls(task: TaskPlan): AwsApiCall[] {
  const calls = new Map<string, AwsApiCall>();
  for (const call of task.containers.flatMap((c) => c.calls ?? [])) if (!calls.has(`${call.api} ${call.why}`)) calls.set(`${call.api} ${call.why}`, call);
  return [...calls.values()];
}

/** Every interface API the mesh calls (S3 has its gateway endpoint), sorted: the VPC endpoints egress vpc-endpoints needs. */
export function interfaceApis(
  server: Pick<ServerPlan, "calls">,
  hosts: Pick<HostsPlan, "calls">,
  services: readonly Pick<ServicePlan, "task" | "enableExecuteCommand">[],
  images: ReadonlyMap<string, ImagePlan>,
): AwsApi[] {
  const calls = [
    ...server.calls,
    ...hosts.calls,
    ...services.flatMap((s) => [...ecsAgentCalls(s.task), ...(s.enableExecuteCommand ? ECS_EXEC_CALLS : []), ...containerCalls(s.task)]),
  ];
  const ecr = services.some((s) => s.task.containers.some((c) => pullsFromEcr(c.image, images)));
  return [...new Set([...calls.map((c) => c.api), ...(ecr ? ECR_PULL_APIS : [])])].filter((api) => api !== "s3").sort();
}
