import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { AwsServiceRole } from "./aws-service-role";
import type { ServiceModel } from "../model";
import { renderTaskContainers } from "../render/artifacts";
import { escapeForTerraform } from "../render/terraform-string";

export interface MeshServiceProps {
  readonly service: ServiceModel;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly namePrefix: string;
  readonly region: string;
  readonly partition: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly executionRoleArn: string;
  readonly consulImage: string;
  readonly envoyImage: string;
  readonly envoyVersion: string;
  /** Consul client agent config (HCL) shared by every task of the mesh. */
  readonly agentConfig: string;
  readonly logRetentionDays: number;
}

const BOOTSTRAP_VOLUME = "envoy-bootstrap";

/**
 * One service of the mesh (ecs.tf): its log group, task role, task definition (Consul agent,
 * Envoy bootstrap, Envoy sidecar and the app, started in that order) and ECS service.
 * The definitions use only task-scoped volumes, so the same task runs on EC2 and Fargate.
 */
export class MeshService extends Construct {
  public readonly logGroup: CloudwatchLogGroup;
  public readonly taskRole: AwsServiceRole;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly ecsService: EcsService;

  constructor(scope: Construct, id: string, props: MeshServiceProps) {
    super(scope, id);
    const { service } = props;
    const name = `${props.clusterName}-${service.name}`;
    this.logGroup = new CloudwatchLogGroup(this, "log_group", {
      name: `/ecs/${props.clusterName}/${service.name}`,
      retentionInDays: props.logRetentionDays,
    });
    // A role of its own per service: granting one service an AWS permission grants no other.
    this.taskRole = new AwsServiceRole(this, "task_role", {
      namePrefix: `${props.namePrefix}-${service.name.slice(0, 16)}-`,
      description: `Task role of ${service.name}: the app's own AWS permissions (none by default)`,
      assumedBy: "ecs-tasks.amazonaws.com",
      partition: props.partition,
    });
    const containers = renderTaskContainers({
      service,
      consulImage: props.consulImage,
      envoyImage: props.envoyImage,
      envoyVersion: props.envoyVersion,
      agentConfig: props.agentConfig,
      logGroup: this.logGroup.name,
      region: props.region,
      bootstrapVolume: BOOTSTRAP_VOLUME,
    });
    this.taskDefinition = new EcsTaskDefinition(this, "task_definition", {
      family: name,
      networkMode: "awsvpc",
      requiresCompatibilities: [service.launchType],
      cpu: String(service.cpu),
      memory: String(service.memory),
      executionRoleArn: props.executionRoleArn,
      taskRoleArn: this.taskRole.role.arn,
      containerDefinitions: escapeForTerraform(JSON.stringify(containers)),
      volume: [{ name: BOOTSTRAP_VOLUME }],
    });
    this.ecsService = new EcsService(this, "service", {
      name,
      cluster: props.clusterArn,
      // The ARN pins the exact revision: no max(revision) workaround for drift.
      taskDefinition: this.taskDefinition.arn,
      desiredCount: service.count,
      launchType: service.launchType,
      networkConfiguration: {
        subnets: [...props.subnetIds],
        securityGroups: [...props.securityGroupIds],
        assignPublicIp: false,
      },
      // EC2 hosts have a fixed number of ENIs: replace tasks in place rather than surge.
      deploymentMinimumHealthyPercent: service.launchType === "EC2" ? 50 : 100,
      deploymentMaximumPercent: service.launchType === "EC2" ? 100 : 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
    });
  }
}
