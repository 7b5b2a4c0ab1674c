// The resolved plan: everything the stacks, constructs, templates, validation rules and review
// tools need, decided once from a schema-checked spec (lib/plan/build.ts). Readers take values
// from here and decide nothing again.
import type { HealthCheckSpec, IntentionSpec, SecretRefSpec } from "../spec/schema";
import type { Slot, TemplateText } from "./text";

export type Architecture = "x86_64" | "arm64";
export type LaunchType = "EC2" | "FARGATE";

/** A container argument: literal, or text rendered from a template (a script, a config file). */
export type Arg = string | TemplateText;

export interface NameValue {
  readonly name: string;
  readonly value: string | Slot;
}

/** An ECS secret: delivered by reference, never by value. */
export interface SecretBinding {
  readonly name: string;
  /** A Secrets Manager / SSM ARN from the spec, or a slot for a secret the stack creates. */
  readonly valueFrom: string | Slot;
}

export type DependencyCondition = "START" | "COMPLETE" | "SUCCESS" | "HEALTHY";

export interface ContainerHealthCheck {
  readonly command: readonly Arg[];
  readonly interval: number;
  readonly timeout: number;
  readonly retries: number;
  readonly startPeriod: number;
}

/**
 * One container of a task, as typed data in start order. The render stage turns the list into
 * ECS container definitions (templates/ecs/container-definitions.json.hbs); the rules read it
 * (memory, start order, essential flags) without rendering.
 */
export interface ContainerPlan {
  readonly name: string;
  /** A pinned image, or a slot for one the stack builds (an ECR repository URL). */
  readonly image: string | Slot;
  readonly essential: boolean;
  readonly entryPoint?: readonly Arg[];
  readonly command?: readonly Arg[];
  readonly user?: string;
  /** Hard limit (MiB); the task is killed when the container exceeds it. */
  readonly memory?: number;
  /** Soft limit (MiB) the scheduler reserves. */
  readonly memoryReservation?: number;
  readonly environment?: readonly NameValue[];
  readonly secrets?: readonly SecretBinding[];
  readonly portMappings?: readonly { readonly containerPort: number; readonly protocol: "tcp" | "udp" }[];
  readonly mountPoints?: readonly { readonly sourceVolume: string; readonly containerPath: string; readonly readOnly: boolean }[];
  readonly systemControls?: readonly { readonly namespace: string; readonly value: string }[];
  /** Start order: this container starts once each listed one reached its condition (ECS stops in reverse). */
  readonly dependsOn?: readonly { readonly containerName: string; readonly condition: DependencyCondition }[];
  readonly healthCheck?: ContainerHealthCheck;
  readonly readonlyRootFilesystem: boolean;
  /** Why the root filesystem is writable (a Docker label scanners read), when it is. */
  readonly writableRootReason?: string;
}

/** awslogs settings shared by the containers of one task. */
export interface TaskLogging {
  readonly group: Slot;
  readonly region: Slot;
  readonly streamPrefix: string;
}

/** A task definition's containers and volumes. */
export interface TaskPlan {
  readonly containers: readonly ContainerPlan[];
  /** Task-scoped volumes (no host paths: the same task runs on EC2 and Fargate). */
  readonly volumes: readonly string[];
  readonly logging: TaskLogging;
}

export interface UpstreamPlan {
  readonly destination: string;
  readonly localBindPort: number;
}

export interface ServicePlan {
  readonly name: string;
  /** Where the service is in the spec, for messages: services.<name>. */
  readonly path: string;
  readonly image: string;
  readonly port?: number;
  readonly command?: readonly string[];
  readonly count: number;
  readonly launchType: LaunchType;
  readonly cpu: number;
  readonly memory: number;
  readonly appMemory?: number;
  readonly healthCheck: HealthCheckSpec;
  readonly upstreams: readonly UpstreamPlan[];
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, SecretRefSpec>>;
  readonly readonlyRootFilesystem: boolean;
  readonly enableExecuteCommand: boolean;
  readonly assignPublicIp: boolean;
  /** ECS rolling deployment bounds, decided per launch type. */
  readonly deployment: { readonly minimumHealthyPercent: number; readonly maximumPercent: number };
  readonly task: TaskPlan;
}

export interface ServerPlan {
  readonly instanceType: string;
  readonly architecture: Architecture;
  readonly privateIp: string;
  /** The server's consul.hcl (the user data writes it). */
  readonly config: TemplateText;
  /** The whole user data: install Consul, read secrets (slots), start it and the ACL sync timer. */
  readonly userData: TemplateText;
}

export interface HostsPlan {
  readonly instanceType: string;
  readonly architecture: Architecture;
  readonly privateIps: readonly string[];
  /** awsvpc tasks per host (ENIs - 1), undefined for instance types missing from the ENI table. */
  readonly tasksPerHost: number | undefined;
  readonly userData: TemplateText;
}

export type IntentionAction = "allow" | "deny";

export interface IntentionSource {
  readonly name: string;
  readonly action: IntentionAction;
  /** Where it comes from: a declared upstream, the spec's intentions list, or the default deny. */
  readonly origin: "upstream" | "spec" | "default";
  /** Why this source is here: the spec line or the upstream it comes from. */
  readonly reason: string;
}

export interface MeshPlan {
  /** Cluster name (default of the cluster_name variable) and prefix of resource names. */
  readonly name: string;
  readonly region: string;
  readonly availabilityZone?: string;
  readonly logRetentionDays: number;
  readonly network: { readonly vpcCidr: string; readonly publicSubnetCidr: string };
  readonly datacenter: string;
  readonly server: ServerPlan;
  readonly hosts: HostsPlan;
  /** Services sorted by name, so synthesis does not depend on the order of keys in the spec file. */
  readonly services: readonly ServicePlan[];
  /** Tasks that need an ENI on the EC2 hosts (desired counts of EC2 services). */
  readonly ec2TaskCount: number;
  /** Sources per destination service, both sorted by name; "*" holds the default deny. */
  readonly intentions: ReadonlyMap<string, readonly IntentionSource[]>;
  /** The spec's intentions as written, for rules that point at one by its index. */
  readonly declaredIntentions: readonly IntentionSpec[];
  readonly tlsEdge?: TlsEdgePlan;
}

export type TlsEdgeNetworkPlan =
  | { readonly from: "mesh" }
  | { readonly from: "existing"; readonly vpcId?: string; readonly vpcCidr?: string; readonly subnetIds?: readonly string[] };

export interface TlsEdgePlan {
  readonly serviceName: string;
  readonly namespace: string;
  /** <serviceName>.<namespace>: the name clients call and the certificate names. */
  readonly dnsName: string;
  readonly region: string;
  readonly appPort: number;
  readonly cpu: number;
  readonly memory: number;
  readonly desiredCount: number;
  readonly allowedCidrs: readonly string[];
  readonly assignPublicIp: boolean;
  /** Tasks reach AWS APIs through VPC endpoints (else a NAT gateway or the public IP). */
  readonly vpcEndpoints: boolean;
  readonly logRetentionDays: number;
  readonly appImageTag?: string;
  readonly appRepositoryName: string;
  readonly envoyRepositoryName: string;
  readonly network: TlsEdgeNetworkPlan;
  readonly task: TaskPlan;
}
