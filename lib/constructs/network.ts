import { Construct } from "constructs";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { AwsServiceRole } from "./aws-service-role";

export interface MeshNetworkProps {
  /** Name tag of every network resource (the cluster name). */
  readonly name: string;
  readonly vpcCidr: string;
  readonly publicSubnetCidr: string;
  readonly availabilityZone: string;
  /** VPC flow logs (CKV2_AWS_11): every accepted and rejected connection, to CloudWatch Logs. */
  readonly flowLogs: {
    readonly kmsKeyArn: string;
    readonly retentionInDays: number;
    readonly partition: string;
  };
}

/**
 * The original network.tf with native resources instead of the registry VPC module (which
 * cannot be type-checked here): one VPC, one public subnet with an internet gateway route,
 * no NAT or VPN gateway. The default security group is taken over with no rules, so nothing
 * launched without an explicit group gets any traffic (CKV2_AWS_12), and flow logs record
 * every connection.
 */
export class MeshNetwork extends Construct {
  public readonly vpc: Vpc;
  public readonly publicSubnet: Subnet;
  public readonly internetGateway: InternetGateway;
  public readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: MeshNetworkProps) {
    super(scope, id);
    // Terraform, Environment and the other common tags come from the provider's default_tags.
    const tags = { Name: props.name };
    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags,
    });
    this.publicSubnet = new Subnet(this, "public_subnet", {
      vpcId: this.vpc.id,
      cidrBlock: props.publicSubnetCidr,
      availabilityZone: props.availabilityZone,
      // Only the instances that ask for one get a public address (to pull images and reach AWS
      // APIs without a NAT gateway); tasks never do.
      mapPublicIpOnLaunch: false,
      tags: { ...tags, Name: `${props.name}-public` },
    });
    this.internetGateway = new InternetGateway(this, "internet_gateway", { vpcId: this.vpc.id, tags });
    const routeTable = new RouteTable(this, "public_route_table", { vpcId: this.vpc.id, tags: { ...tags, Name: `${props.name}-public` } });
    new Route(this, "public_default_route", {
      routeTableId: routeTable.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: this.internetGateway.id,
    });
    new RouteTableAssociation(this, "public_subnet_route_table", {
      subnetId: this.publicSubnet.id,
      routeTableId: routeTable.id,
    });
    new DefaultSecurityGroup(this, "default_security_group", { vpcId: this.vpc.id, tags: { ...tags, Name: `${props.name}-default-closed` } });

    const flowLogGroup = new CloudwatchLogGroup(this, "flow_log_group", {
      name: `/vpc/${props.name}/flow-logs`,
      retentionInDays: props.flowLogs.retentionInDays,
      kmsKeyId: props.flowLogs.kmsKeyArn,
    });
    const flowLogRole = new AwsServiceRole(this, "flow_log_role", {
      namePrefix: `${props.name}-flow-logs-`,
      description: "VPC flow logs: write to the flow log group only",
      assumedBy: "vpc-flow-logs.amazonaws.com",
      partition: props.flowLogs.partition,
      inlinePolicies: {
        "write-flow-logs": {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              Resource: [`${flowLogGroup.arn}:*`],
            },
          ],
        },
      },
    });
    this.flowLog = new FlowLog(this, "flow_log", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: flowLogGroup.arn,
      iamRoleArn: flowLogRole.role.arn,
      maxAggregationInterval: 60,
      tags,
    });
  }
}
