import { Construct } from "constructs";
import { Fn } from "cdktf";
import { DataAwsVpcEndpointService } from "@cdktf/provider-aws/lib/data-aws-vpc-endpoint-service";
import { DataAwsRouteTable } from "@cdktf/provider-aws/lib/data-aws-route-table";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { MeshSecurityGroup } from "./security-group";
import type { ApiEndpointNames } from "../plan/names";

export interface AwsApiEndpointsProps {
  readonly vpcId: string;
  /** Clients allowed to the endpoints on 443. */
  readonly vpcCidr: string;
  /** Subnets of the interface endpoints: at most one per availability zone. */
  readonly subnetIds: string[];
  /**
   * The interface endpoints (service names com.amazonaws.<region>.<name>, each with private DNS:
   * the plan's list) with their names, the security group's and the S3 endpoint's (the plan's).
   */
  readonly names: ApiEndpointNames;
  /** Route tables of the S3 gateway endpoint. @default the route table of the first subnet (looked up) */
  readonly routeTableIds?: readonly string[];
}

/**
 * VPC endpoints that let instances and tasks without a NAT gateway or public IP reach AWS:
 * interface endpoints (private DNS) and the S3 gateway endpoint that ECR serves image layers
 * (and Amazon Linux its packages) from. Service names come from the region and partition at
 * plan time. Interface endpoints are billed per hour and AZ; the VPC needs DNS support and DNS
 * hostnames (the mesh's VPC has both).
 */
export class AwsApiEndpoints extends Construct {
  /** Present when there are interface endpoints. */
  public readonly securityGroup?: MeshSecurityGroup;
  public readonly interfaceEndpoints: readonly VpcEndpoint[];
  public readonly s3Endpoint: VpcEndpoint;
  /** Managed prefix list of S3 in the region: the destination of egress rules to the gateway endpoint. */
  public readonly s3PrefixListId: string;

  constructor(scope: Construct, id: string, props: AwsApiEndpointsProps) {
    super(scope, id);
    const { names } = props;
    if (names.interfaceEndpoints.length > 0) {
      this.securityGroup = new MeshSecurityGroup(this, "security_group", {
        vpcId: props.vpcId,
        namePrefix: names.securityGroupPrefix,
        description: "Interface VPC endpoints of AWS APIs: HTTPS from the VPC only",
      });
      this.securityGroup.allowIngress("https_from_vpc", {
        description: "HTTPS from the VPC to the AWS API endpoints",
        fromPort: 443,
        peer: { cidr: props.vpcCidr },
      });
      // No egress rule: endpoint network interfaces only answer (security groups are stateful).
    }
    const securityGroupIds = this.securityGroup ? [this.securityGroup.id] : [];
    this.interfaceEndpoints = names.interfaceEndpoints.map(({ service, name }) => {
      const key = service.replace(/[.-]/g, "_");
      const lookup = new DataAwsVpcEndpointService(this, `${key}_service`, { service, serviceType: "Interface" });
      return new VpcEndpoint(this, key, {
        vpcId: props.vpcId,
        serviceName: lookup.serviceName,
        vpcEndpointType: "Interface",
        subnetIds: props.subnetIds,
        securityGroupIds,
        privateDnsEnabled: true,
        tags: { Name: name },
      });
    });

    const s3 = new DataAwsVpcEndpointService(this, "s3_service", { service: "s3", serviceType: "Gateway" });
    const routeTableIds = props.routeTableIds ?? [new DataAwsRouteTable(this, "route_table", { subnetId: Fn.element(props.subnetIds, 0) }).routeTableId];
    this.s3Endpoint = new VpcEndpoint(this, "s3", {
      vpcId: props.vpcId,
      serviceName: s3.serviceName,
      vpcEndpointType: "Gateway",
      routeTableIds: [...routeTableIds],
      tags: { Name: names.s3Endpoint },
    });
    this.s3PrefixListId = this.s3Endpoint.prefixListId;
  }
}
