import type { Construct } from "constructs";
import { Fn, Op, TerraformLocal, TerraformOutput, type TerraformVariable, Token } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets";
import { MeshBaseStack, type StateBackend } from "./base-stack";
import { namedVariable } from "../lib/constructs/named-variable";
import { TlsEdgeService } from "../lib/constructs/tls-service";
import { TlsEdgeCertificate } from "../lib/constructs/tls-edge-certificate";
import { AwsApiEndpoints } from "../lib/constructs/aws-api-endpoints";
import { MeshKey } from "../lib/constructs/mesh-key";
import { IMAGE_TAG } from "../lib/aws-limits";
import { FLOATING_TAG } from "../lib/image-reference";
import type { TlsEdgeMeshNetwork, TlsEdgePlan } from "../lib/plan/types";

/** The network of the tasks: its VPC, the VPC's CIDR (the default HTTPS clients) and the tasks' subnets. */
export interface TlsEdgeNetworkRefs {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly subnetIds: readonly string[];
}

/** What the mesh's parameters hold: a VPC ID, and subnet IDs joined by commas. */
const VPC_ID_PATTERN = "^vpc-[0-9a-f]{8,17}$";
const SUBNET_IDS_PATTERN = "^subnet-[0-9a-f]{8,17}(,subnet-[0-9a-f]{8,17})*$";

/** What the mesh's Prometheus parameters hold: a workspace's ARN, and its remote-write URL, both in the edge's region. */
function prometheusParameterPatterns(region: string): { readonly workspaceArn: string; readonly remoteWriteUrl: string } {
  return {
    workspaceArn: `^arn:aws(-[a-z]+)*:aps:${region}:[0-9]{12}:workspace/ws-[0-9A-Za-z-]+$`,
    remoteWriteUrl: `^https://aps-workspaces\\.${region}\\.amazonaws\\.com(\\.cn)?/workspaces/ws-[0-9A-Za-z-]+/api/v1/remote_write$`,
  };
}

/** Image tag used in the task definition before app_image_tag is set (the service then runs 0 tasks). */
export const UNSET_IMAGE_TAG = "app-image-tag-unset";

/**
 * System 2: TLS all the way to the container, as its own stack (own provider, variables and
 * state). With the spec's network `{ from: mesh }` it runs in the mesh's VPC, which it finds
 * through SSM String parameters the mesh writes (never the mesh's state, which holds its
 * secrets); otherwise in the VPC and subnets of yours the spec names, as the original did. The
 * region is the spec's.
 */
export class TlsEdgeStack extends MeshBaseStack {
  public readonly service: TlsEdgeService;
  public readonly certificate: TlsEdgeCertificate;
  /** Encrypts the log group and the certificate secrets. */
  public readonly key: MeshKey;
  /** Present when the tasks reach AWS APIs through VPC endpoints. */
  public readonly endpoints?: AwsApiEndpoints;
  public readonly appImageTag: TerraformVariable;

  constructor(scope: Construct, id: string, edge: TlsEdgePlan, backend?: StateBackend) {
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
    const partition = new DataAwsPartition(this, "partition").partition;
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;

    const net = this.networkOf(edge);
    const prometheus = this.prometheusOf(edge);
    const subnetIds = [...net.subnetIds];

    this.key = new MeshKey(this, "log_key", {
      alias: edge.names.keyAlias,
      purpose: `the logs and certificate secrets of ${edge.serviceName}`,
      accountId,
      region: edge.region,
      partition,
      logGroups: [edge.names.logGroup, ...(edge.names.metrics ? [edge.names.metrics.metricsLogGroup] : [])],
    });
    this.certificate = new TlsEdgeCertificate(this, "certificate", { dnsName: edge.dnsName, secretNamePrefixes: edge.names.caSecrets, ca: edge.ca, kmsKeyArn: this.key.key.arn });

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
      // Tasks run once what the plan lists exists (the boot-order rule reads the same list): the CA
      // generation they pin, which scripts/tls-edge-ca.sh writes outside Terraform.
      preconditions: edge.startsAfter.flatMap((prerequisite) => {
        if (prerequisite !== "edge-ca") throw new Error(`${id}: the TLS edge cannot wait for ${prerequisite}`);
        return [
          {
            condition: `\${var.app_image_tag == null || (${this.certificate.generationWritten(edge.ca.versionId)})}`,
            errorMessage: `The TLS edge CA generation ${edge.ca.generation} (version ${edge.ca.versionId}) is not written yet: run scripts/tls-edge-ca.sh, then apply again (the tasks' init container reads that version).`,
          },
        ];
      }),
      ...(prometheus ? { prometheus } : {}),
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
    this.output("cpu_architecture", edge.cpuArchitecture, "CPU architecture of the tasks (X86_64 or ARM64): scripts/push-images.sh builds and mirrors images of its platform");
    if (edge.collectorImage && service.collectorRepository) {
      // What scripts/push-images.sh mirrors beside Envoy when the edge ships metrics or traces.
      this.output("collector_repository_url", service.collectorRepository.repositoryUrl, "ECR repository the pinned metrics collector image is mirrored into");
      this.output("collector_source_image", edge.collectorImage.source, "The collector image of versions.otelCollector (lib/versions.ts) that scripts/push-images.sh mirrors");
      this.output("collector_image_tag", edge.collectorImage.mirrorTag, "Tag of the collector mirror the task definition uses");
    }
    this.output("ecs_cluster_name", service.cluster.name, "ECS cluster of the service");
    this.output("ecs_service_name", service.ecsService.name, "ECS service (0 tasks until app_image_tag is set)");
    this.output("log_group_name", service.logGroup.name, "CloudWatch log group of Envoy (access log) and the app");
    this.output(
      "ca_certificate_secret_arn",
      this.certificate.caCertificateSecret.arn,
      "Secret with the CA certificate(s) clients trust (no key): aws secretsmanager get-secret-value, then curl --cacert it instead of -k",
    );
    // What scripts/tls-edge-ca.sh writes where (ARNs and version IDs, nothing secret).
    this.output(
      "ca_generation",
      {
        caSecretArn: this.certificate.caSecret.arn,
        caCertificateSecretArn: this.certificate.caCertificateSecret.arn,
        versionId: edge.ca.versionId,
        previousVersionId: edge.ca.previousVersionId ?? "",
        commonName: edge.ca.commonName,
        days: edge.ca.days,
      },
      "The CA generation the tasks pin, for scripts/tls-edge-ca.sh",
    );
  }

  /**
   * The mesh's Prometheus workspace the collector remote-writes to: an existing one's ARN and URL
   * from the plan, or the one the mesh creates from the parameters it publishes (never its state).
   * Anyone with ssm:PutParameter could rewrite them, so each must have its shape in the edge's region.
   */
  private prometheusOf(edge: TlsEdgePlan): { readonly workspaceArn: string; readonly remoteWriteUrl: string } | undefined {
    const prometheus = edge.metrics?.prometheus;
    if (!prometheus) return undefined;
    if (prometheus.workspace === "existing") return { workspaceArn: prometheus.arn, remoteWriteUrl: prometheus.remoteWriteUrl };
    const patterns = prometheusParameterPatterns(edge.region);
    const { parameters } = prometheus;
    return {
      workspaceArn: this.meshParameter("mesh_prometheus_workspace_arn", parameters.workspaceArn, patterns.workspaceArn, `a Prometheus workspace ARN in ${edge.region}`).value,
      remoteWriteUrl: this.meshParameter("mesh_prometheus_remote_write_url", parameters.remoteWriteUrl, patterns.remoteWriteUrl, `a Prometheus remote-write URL in ${edge.region}`)
        .value,
    };
  }

  /** The mesh's network from its parameters, or the spec's existing VPC (its CIDR, when the spec leaves it out, read from the VPC). */
  private networkOf(edge: TlsEdgePlan): TlsEdgeNetworkRefs {
    const { network } = edge;
    if (network.from === "mesh") {
      if (edge.meshNetwork) return this.meshNetwork(edge.meshNetwork);
      throw new Error(`${this.node.id}: tlsEdge.network is { from: "mesh" } but the plan has no mesh network: build the TLS edge's plan with the mesh's (buildPlan)`);
    }
    const vpcCidr = network.vpcCidr ?? new DataAwsVpc(this, "vpc", { id: network.vpcId }).cidrBlock;
    return { vpcId: network.vpcId, vpcCidr, subnetIds: network.subnetIds };
  }

  /**
   * The mesh's VPC and subnets by the plan's literal parameter names: no reference to the mesh
   * stack, so cdktf reads no remote state (the mesh's state holds its secrets); the stack
   * dependency (stacks/index.ts) keeps the order. A parameter is writable by anyone in the account
   * with ssm:PutParameter, so each value must have its shape, the VPC must be the mesh's (its CIDR
   * and Name tag) and the subnets exactly the mesh's subnets of that kind in it (their Name tags).
   */
  private meshNetwork(mesh: TlsEdgeMeshNetwork): TlsEdgeNetworkRefs {
    const vpcId = this.meshParameter("mesh_vpc_id", mesh.parameters.vpcId, VPC_ID_PATTERN, "a VPC ID");
    const subnetIds = this.meshParameter("mesh_subnet_ids", mesh.parameters.subnetIds, SUBNET_IDS_PATTERN, "subnet IDs joined by commas");
    const vpc = new DataAwsVpc(this, "mesh_vpc", {
      id: vpcId.value,
      lifecycle: {
        postcondition: [
          {
            condition: `\${self.cidr_block == ${JSON.stringify(mesh.vpcCidr)} && lookup(self.tags, "Name", "") == ${JSON.stringify(mesh.vpcName)}}`,
            errorMessage: `SSM parameter ${mesh.parameters.vpcId} names a VPC that is not the mesh's (CIDR ${mesh.vpcCidr}, Name ${mesh.vpcName}): deploy the mesh stack, or find who changed the parameter.`,
          },
        ],
      },
    });
    const listed = `toset(split(",", data.aws_ssm_parameter.${subnetIds.friendlyUniqueId}.value))`;
    const subnets = new DataAwsSubnets(this, "mesh_subnets", {
      filter: [
        { name: "vpc-id", values: [vpc.id] },
        { name: "tag:Name", values: [...mesh.subnetNames] },
      ],
      lifecycle: {
        postcondition: [
          {
            condition: `\${${listed} == toset(self.ids)}`,
            errorMessage: `SSM parameter ${mesh.parameters.subnetIds} does not list exactly the mesh's ${mesh.subnets} subnets (${mesh.subnetNames.join(", ")}) in its VPC: deploy the mesh stack, or find who changed the parameter.`,
          },
        ],
      },
    });
    // The subnets found (a set, as the ECS service's subnets are): the check above has passed once they are known.
    return { vpcId: vpc.id, vpcCidr: mesh.vpcCidr, subnetIds: subnets.ids };
  }

  /** A String parameter the mesh writes, which must match `pattern` (anyone with ssm:PutParameter could rewrite it). */
  private meshParameter(id: string, name: string, pattern: string, what: string): DataAwsSsmParameter {
    return new DataAwsSsmParameter(this, id, {
      name,
      // A String of IDs and URLs: nothing to decrypt, nothing secret in this stack's state.
      withDecryption: false,
      lifecycle: {
        postcondition: [
          {
            condition: `\${can(regex(${JSON.stringify(pattern)}, self.value))}`,
            errorMessage: `SSM parameter ${name} does not hold ${what}: deploy the mesh stack, or find who changed the parameter.`,
          },
        ],
      },
    });
  }

  private output(name: string, value: unknown, description: string): void {
    new TerraformOutput(this, name, { value, description }).overrideLogicalId(name);
  }
}
