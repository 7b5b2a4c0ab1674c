import type { Construct } from "constructs";
import { Fn, Op, TerraformLocal, TerraformOutput, type TerraformVariable, Token } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { MeshBaseStack, type StateBackend } from "./base-stack";
import { namedVariable } from "../lib/constructs/named-variable";
import { TlsEdgeService } from "../lib/constructs/tls-service";
import { TlsEdgeCertificate } from "../lib/constructs/tls-edge-certificate";
import { AwsApiEndpoints } from "../lib/constructs/aws-api-endpoints";
import { MeshKey } from "../lib/constructs/mesh-key";
import { IMAGE_TAG } from "../lib/aws-limits";
import { FLOATING_TAG } from "../lib/image-reference";
import type { TlsEdgePlan } from "../lib/plan/types";
import type { TlsEdgeNetwork } from "../lib/spec/tls-edge-schema";

/** The network of the tasks when it comes from another stack (the mesh's VPC and subnet). */
export interface TlsEdgeNetworkRefs {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly subnetIds: readonly string[];
}

/** Image tag used in the task definition before app_image_tag is set (the service then runs 0 tasks). */
export const UNSET_IMAGE_TAG = "app-image-tag-unset";

/**
 * System 2: TLS all the way to the container, as its own stack (own provider, variables and
 * state). With `network` (the mesh stack's VPC and subnet) it runs beside the mesh through
 * cross-stack references; without it (spec network "existing"), in the VPC and subnets of yours
 * the spec names, as the original did. The region is the spec's.
 */
export class TlsEdgeStack extends MeshBaseStack {
  public readonly service: TlsEdgeService;
  public readonly certificate: TlsEdgeCertificate;
  /** Encrypts the log group and the certificate secrets. */
  public readonly key: MeshKey;
  /** Present when the tasks reach AWS APIs through VPC endpoints. */
  public readonly endpoints?: AwsApiEndpoints;
  public readonly appImageTag: TerraformVariable;

  constructor(scope: Construct, id: string, edge: TlsEdgePlan, network: TlsEdgeNetworkRefs | undefined, backend?: StateBackend) {
    super(scope, id, backend);
    this.appImageTag = namedVariable(this, "app_image_tag", {
      type: "string",
      nullable: true,
      default: edge.appImageTag ?? null,
      description: "Tag of the app image in ECR, as printed by scripts/push-images.sh. null runs 0 tasks (deploy, push, then set it)",
      validation: [
        {
          condition: `\${var.app_image_tag == null ? true : (can(regex("${IMAGE_TAG.source}", var.app_image_tag)) && var.app_image_tag != "${FLOATING_TAG}")}`,
          errorMessage: `app_image_tag must be the tag scripts/push-images.sh printed (letters, digits, "_", ".", "-"), never "${FLOATING_TAG}": the repository's tags are immutable.`,
        },
      ],
    });

    new AwsProvider(this, "aws", {
      region: edge.region,
      defaultTags: [{ tags: { Terraform: "true", Environment: edge.namespace, Project: "tls-edge", Service: edge.serviceName } }],
    });
    new TlsProvider(this, "tls");
    const partition = new DataAwsPartition(this, "partition").partition;
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;

    const net = this.networkOf(edge.network, network);
    const subnetIds = [...net.subnetIds];

    this.key = new MeshKey(this, "log_key", {
      alias: edge.names.keyAlias,
      purpose: `the logs and certificate secrets of ${edge.serviceName}`,
      accountId,
      region: edge.region,
      partition,
      logGroups: [edge.names.logGroup],
    });
    this.certificate = new TlsEdgeCertificate(this, "certificate", { dnsName: edge.dnsName, secretNamePrefixes: edge.names.certificateSecrets, kmsKeyArn: this.key.key.arn });

    if (edge.interfaceEndpoints.length > 0) {
      this.endpoints = new AwsApiEndpoints(this, "aws_endpoints", {
        vpcId: net.vpcId,
        vpcCidr: net.vpcCidr,
        subnetIds,
        names: edge.names.endpoints,
      });
    }

    const tagIsUnset = Op.eq(this.appImageTag.value, Token.nullValue());
    // A local, so the container definitions hold a plain reference (valid JSON before Terraform evaluates it).
    const imageTag = new TerraformLocal(this, "app_image_tag_or_unset", Fn.conditional(tagIsUnset, UNSET_IMAGE_TAG, this.appImageTag.value));
    imageTag.overrideLogicalId("app_image_tag_or_unset");
    this.service = new TlsEdgeService(this, "tls_edge", {
      edge,
      vpcId: net.vpcId,
      vpcCidr: net.vpcCidr,
      subnetIds,
      desiredCount: Token.asNumber(Fn.conditional(tagIsUnset, 0, edge.desiredCount)),
      kmsKeyArn: this.key.key.arn,
      appImageTag: imageTag.asString,
      certificate: this.certificate,
      // Tasks start once what the plan lists exists (the boot-order rule reads the same list).
      dependsOn: edge.startsAfter.flatMap((prerequisite) => (prerequisite === "mesh-secrets" ? this.certificate.secretVersions : [])),
      awsApiAccess: this.endpoints
        ? { type: "vpc-endpoints", endpointSecurityGroupId: this.endpoints.securityGroup!.id, s3PrefixListId: this.endpoints.s3PrefixListId }
        : { type: "internet" },
    });

    const { service } = this;
    this.output("service_dns_name", `${service.discoveryService.name}.${service.namespace.name}`, "Name clients in the VPC call: https://<this>/service");
    this.output("cloud_map_namespace", service.namespace.name, "Cloud Map private DNS namespace (a Route 53 private zone in the VPC)");
    this.output("ecr_repository_url", service.appRepository.repositoryUrl, "ECR repository of the app image (scripts/push-images.sh pushes here)");
    this.output("envoy_repository_url", service.envoyRepository.repositoryUrl, "ECR repository the pinned Envoy image is mirrored into");
    this.output(
      "envoy_source_image",
      edge.envoyImage.source,
      "The official Envoy image of versions.envoy (default: the pinned one in lib/versions.ts) that scripts/push-images.sh mirrors",
    );
    this.output("envoy_image_tag", edge.envoyImage.mirrorTag, "Tag of the Envoy mirror the task definition uses");
    this.output("ecs_cluster_name", service.cluster.name, "ECS cluster of the service");
    this.output("ecs_service_name", service.ecsService.name, "ECS service (0 tasks until app_image_tag is set)");
    this.output("log_group_name", service.logGroup.name, "CloudWatch log group of Envoy (access log) and the app");
    this.output("ca_certificate_pem", this.certificate.caCertPem, "CA that signed Envoy's certificate (public): curl --cacert it instead of -k");
  }

  /** The mesh's network as passed, or the spec's existing VPC (its CIDR, when the spec leaves it out, read from the VPC). */
  private networkOf(network: TlsEdgeNetwork, mesh: TlsEdgeNetworkRefs | undefined): TlsEdgeNetworkRefs {
    const id = this.node.id;
    if (network.from === "mesh") {
      if (mesh) return mesh;
      throw new Error(
        `${id}: tlsEdge.network is { from: "mesh" } but no mesh network was passed: pass the mesh stack's { vpcId, vpcCidr, subnetIds }, or set tlsEdge.network to an existing VPC ({ vpcId, vpcCidr, subnetIds })`,
      );
    }
    if (mesh) throw new Error(`${id}: tlsEdge.network names an existing VPC, so no mesh network may be passed as well: pass undefined, or set tlsEdge.network to { from: "mesh" }`);
    const vpcCidr = network.vpcCidr ?? new DataAwsVpc(this, "vpc", { id: network.vpcId }).cidrBlock;
    return { vpcId: network.vpcId, vpcCidr, subnetIds: network.subnetIds };
  }

  private output(name: string, value: unknown, description: string): void {
    new TerraformOutput(this, name, { value, description }).overrideLogicalId(name);
  }
}
