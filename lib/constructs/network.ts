import { Construct } from "constructs";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { AwsServiceRole, allow, policyDocument } from "./aws-service-role";
import { AwsApiEndpoints } from "./aws-api-endpoints";
import type { MeshPlan, ZonePlan } from "../plan/types";

export interface MeshNetworkProps {
  /** Zones, subnets, egress and endpoints, the name tags and names of the network's resources, and the log retention, as the plan resolved them. */
  readonly plan: MeshPlan;
  /** The availability zone of each zone of the plan, in order (names known at plan time). */
  readonly availabilityZones: string[];
  /** VPC flow logs (CKV2_AWS_11): every accepted and rejected connection, to CloudWatch Logs. */
  readonly flowLogs: {
    readonly kmsKeyArn: string;
    readonly partition: string;
  };
}

/**
 * The VPC: per zone a private subnet (hosts, servers, tasks: no public IPs, no route from the
 * internet) and, where a NAT gateway runs, a small public subnet; one shared NAT gateway, one
 * per zone, or none with VPC endpoints for every AWS API the mesh calls. The S3 gateway endpoint
 * always exists (free; ECR layers and Amazon Linux packages stay off the NAT gateway). The
 * default security group is taken over with no rules (CKV2_AWS_12), and flow logs record every
 * connection. Native resources instead of the original's registry module, so the provider's
 * types check every attribute.
 */
export class MeshNetwork extends Construct {
  public readonly vpc: Vpc;
  public readonly privateSubnets: readonly Subnet[];
  /** Per zone: its public subnet, when the plan gives one. */
  public readonly publicSubnets: readonly (Subnet | undefined)[];
  public readonly internetGateway?: InternetGateway;
  public readonly natGateways: readonly NatGateway[];
  public readonly privateRouteTables: readonly RouteTable[];
  public readonly endpoints: AwsApiEndpoints;
  public readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: MeshNetworkProps) {
    super(scope, id);
    const { network } = props.plan;
    // Terraform, Environment and the other common tags come from the provider's default_tags.
    const names = props.plan.names.network;
    const tags = { Name: names.vpc };
    this.vpc = new Vpc(this, "vpc", { cidrBlock: network.vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags });
    const vpcId = this.vpc.id;

    const hasPublic = network.zones.some((zone) => zone.publicSubnet !== undefined);
    let publicRouteTable: RouteTable | undefined;
    if (hasPublic) {
      this.internetGateway = new InternetGateway(this, "internet_gateway", { vpcId, tags });
      publicRouteTable = new RouteTable(this, "public_route_table", { vpcId, tags: { Name: names.publicRouteTable } });
      new Route(this, "public_default_route", { routeTableId: publicRouteTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: this.internetGateway.id });
    }

    /** A subnet of a zone and its route table. Only what asks for a public address gets one (the NAT gateway's Elastic IP; instances only with publicInstances). */
    const subnet = (id: string, zone: ZonePlan, cidrBlock: string, name: string, routeTableId: string): Subnet => {
      const created = new Subnet(this, id, {
        vpcId,
        cidrBlock,
        availabilityZone: props.availabilityZones[zone.index],
        mapPublicIpOnLaunch: false,
        tags: { Name: name },
      });
      new RouteTableAssociation(this, `${id}_route_table`, { subnetId: created.id, routeTableId });
      return created;
    };
    this.publicSubnets = network.zones.map((zone) =>
      zone.publicSubnet === undefined ? undefined : subnet(`public_subnet_${zone.index + 1}`, zone, zone.publicSubnet, names.zones[zone.index]!.publicSubnet, publicRouteTable!.id),
    );

    const natZones = [...new Set(network.zones.flatMap((zone) => (zone.natZone === undefined ? [] : [zone.natZone])))].sort();
    const natByZone = new Map(
      natZones.map((zone) => {
        const eip = new Eip(this, `nat_eip_${zone + 1}`, { domain: "vpc", tags: { Name: names.zones[zone]!.natGateway } });
        const nat = new NatGateway(this, `nat_gateway_${zone + 1}`, {
          allocationId: eip.allocationId,
          subnetId: this.publicSubnets[zone]!.id,
          tags: { Name: names.zones[zone]!.natGateway },
          dependsOn: this.internetGateway ? [this.internetGateway] : [],
        });
        return [zone, nat] as const;
      }),
    );
    this.natGateways = [...natByZone.values()];

    this.privateRouteTables = network.zones.map((zone) => {
      const table = new RouteTable(this, `private_route_table_${zone.index + 1}`, { vpcId, tags: { Name: names.zones[zone.index]!.privateRouteTable } });
      if (zone.natZone !== undefined) {
        new Route(this, `private_default_route_${zone.index + 1}`, { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: natByZone.get(zone.natZone)!.id });
      }
      return table;
    });
    this.privateSubnets = network.zones.map((zone) =>
      subnet(`private_subnet_${zone.index + 1}`, zone, zone.privateSubnet, names.zones[zone.index]!.privateSubnet, this.privateRouteTables[zone.index]!.id),
    );

    this.endpoints = new AwsApiEndpoints(this, "endpoints", {
      vpcId,
      vpcCidr: network.vpcCidr,
      subnetIds: this.privateSubnets.map((s) => s.id),
      names: names.endpoints,
      routeTableIds: this.privateRouteTables.map((t) => t.id),
    });

    new DefaultSecurityGroup(this, "default_security_group", { vpcId, tags: { ...tags, Name: names.defaultSecurityGroup } });

    const flowLogGroup = new CloudwatchLogGroup(this, "flow_log_group", {
      name: names.flowLogsLogGroup,
      retentionInDays: props.plan.logRetentionDays,
      kmsKeyId: props.flowLogs.kmsKeyArn,
    });
    const flowLogRole = new AwsServiceRole(this, "flow_log_role", {
      namePrefix: names.flowLogsRolePrefix,
      description: "VPC flow logs: write to the flow log group only",
      assumedBy: "vpc-flow-logs.amazonaws.com",
      partition: props.flowLogs.partition,
      inlinePolicies: {
        // Streams are resources under the group's ARN; DescribeLogStreams is authorized on the group itself.
        "write-flow-logs": policyDocument(allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [flowLogGroup.arn, `${flowLogGroup.arn}:*`])),
      },
    });
    this.flowLog = new FlowLog(this, "flow_log", {
      vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: flowLogGroup.arn,
      iamRoleArn: flowLogRole.role.arn,
      maxAggregationInterval: 60,
      tags,
    });
  }

  /** Subnet IDs of one kind, in zone order. */
  public subnetIds(kind: "private" | "public"): string[] {
    return kind === "private" ? this.privateSubnets.map((s) => s.id) : this.publicSubnets.flatMap((s) => (s ? [s.id] : []));
  }

  /** The subnet of one zone and kind. */
  public subnetOf(zone: number, kind: "private" | "public"): Subnet {
    const subnet = kind === "private" ? this.privateSubnets[zone] : this.publicSubnets[zone];
    if (!subnet) throw new Error(`${this.node.path}: zone ${zone + 1} has no ${kind} subnet`);
    return subnet;
  }
}
