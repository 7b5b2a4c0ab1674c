import { Construct } from "constructs";
import { Fn, Op, type TerraformVariable, Token } from "cdktf";
import { awsRegionVariable, namedVariable } from "./named-variable";
import { ENI_LIMITS } from "../aws-limits";
import { INSTANCE_TYPE, MAX_CLUSTER_NAME } from "../spec/schema";

/** The broadest admin_cidr accepted without admin_cidr_allow_broad: one office or VPN range. */
const ADMIN_CIDR_MIN_PREFIX = 24;

export interface MeshVariablesProps {
  readonly clusterName: string;
  readonly region: string;
  /** The zones' availability zones when the spec names every one. @default the region's first available zones */
  readonly availabilityZones?: readonly string[];
  /** How many zones the network has: availability_zones must name that many. */
  readonly zoneCount: number;
  readonly consulInstanceType: string;
  readonly ecsInstanceType: string;
  /** Architecture the AMIs are looked up for: an instance type of the other one cannot boot them. */
  readonly consulArchitecture: "x86_64" | "arm64";
  readonly ecsArchitecture: "x86_64" | "arm64";
  /** Hosts the ENI budget counts: the fixed hosts, or the Auto Scaling group's maximum size. */
  readonly ecsHostCount: number;
  /** awsvpc tasks the EC2 services need in total: the ECS instance type must have ENIs for them. */
  readonly ec2TaskCount: number;
}

// Matches Graviton (arm64) instance types: an attribute letter "g" after the generation digit.
const ARM64_TYPE = "^[a-z]+[0-9]+[a-z-]*g[a-z-]*\\\\.";

/**
 * The original variables.tf: deploy-time knobs with types, descriptions, the spec's values as
 * defaults and validation that fails at plan time with a message saying what to change.
 */
export class MeshVariables extends Construct {
  public readonly clusterName: string;
  public readonly region: string;
  /** The zones' availability zones: the variable, or the region's first available zones when it is null. */
  public readonly availabilityZones: TerraformVariable;
  public readonly consulInstanceType: string;
  public readonly ecsInstanceType: string;
  public readonly adminCidr: TerraformVariable;
  public readonly keyName: TerraformVariable;
  /** 1 when admin_cidr is set, else 0: the count of rules that open anything to it. */
  public readonly adminAccessCount: number;
  /** 1 when both admin_cidr and aws_ec2_key are set, else 0: SSH exists only then. */
  public readonly sshAccessCount: number;

  constructor(scope: Construct, id: string, props: MeshVariablesProps) {
    super(scope, id);
    this.clusterName = namedVariable(this, "cluster_name", {
      type: "string",
      default: props.clusterName,
      description: "Name of the ECS cluster and prefix of every resource name",
      validation: [
        {
          condition: `\${can(regex("^[a-z][a-z0-9-]{1,${MAX_CLUSTER_NAME - 1}}$", var.cluster_name))}`,
          errorMessage: `cluster_name must be 2-${MAX_CLUSTER_NAME} lowercase letters, digits or '-', starting with a letter (longer names overflow IAM name prefixes).`,
        },
      ],
    }).stringValue;
    this.region = awsRegionVariable(this, props.region).stringValue;
    this.availabilityZones = namedVariable(this, "availability_zones", {
      type: "list(string)",
      nullable: true,
      default: props.availabilityZones ?? null,
      description: `Availability zones of the ${props.zoneCount} zone(s), in order; null picks the region's first available zones`,
      validation: [
        {
          condition: `\${var.availability_zones == null ? true : (length(var.availability_zones) == ${props.zoneCount} && alltrue([for z in var.availability_zones : startswith(z, var.aws_region)]))}`,
          errorMessage: `availability_zones must list ${props.zoneCount} zone(s) of aws_region, such as us-east-1a for us-east-1.`,
        },
      ],
    });
    this.consulInstanceType = namedVariable(this, "consul_instance_size", {
      type: "string",
      default: props.consulInstanceType,
      description: `EC2 instance type of the Consul server (${props.consulArchitecture})`,
      validation: [instanceTypeRule("consul_instance_size"), architectureRule("consul_instance_size", props.consulArchitecture)],
    }).stringValue;
    const perHost = Object.entries(ENI_LIMITS)
      .map(([type, enis]) => `"${type}" = ${enis - 1}`)
      .join(", ");
    this.ecsInstanceType = namedVariable(this, "ecs_instance_size", {
      type: "string",
      default: props.ecsInstanceType,
      description: `EC2 instance type of the ${props.ecsHostCount} ECS hosts (${props.ecsArchitecture}); each runs ENIs - 1 awsvpc tasks`,
      validation: [
        instanceTypeRule("ecs_instance_size"),
        architectureRule("ecs_instance_size", props.ecsArchitecture),
        {
          // Types missing from the table pass here; the spec validator warns about them at synth.
          condition: `\${lookup({${perHost}}, var.ecs_instance_size, ${props.ec2TaskCount}) * ${props.ecsHostCount} >= ${props.ec2TaskCount}}`,
          errorMessage: `ecs_instance_size has too few network interfaces: ${props.ecsHostCount} hosts must run ${props.ec2TaskCount} awsvpc tasks (ENIs - 1 per host). Choose a larger type or lower the desired counts.`,
        },
      ],
    }).stringValue;
    this.adminCidr = namedVariable(this, "admin_cidr", {
      type: "string",
      nullable: true,
      default: null,
      description: "CIDR allowed to the Consul UI and (with aws_ec2_key) SSH. null, the default, keeps both closed",
      validation: [
        {
          condition: "${var.admin_cidr == null ? true : can(cidrhost(var.admin_cidr, 0))}",
          errorMessage: "admin_cidr must be a CIDR block such as 203.0.113.7/32.",
        },
        {
          condition: '${var.admin_cidr == null ? true : tonumber(split("/", var.admin_cidr)[1]) > 0}',
          errorMessage: "admin_cidr must not be the whole internet (/0).",
        },
        {
          condition: `\${var.admin_cidr == null ? true : (var.admin_cidr_allow_broad || tonumber(split("/", var.admin_cidr)[1]) >= ${ADMIN_CIDR_MIN_PREFIX})}`,
          errorMessage: `admin_cidr must be /${ADMIN_CIDR_MIN_PREFIX} or narrower (an office or VPN range): it opens the Consul UI and SSH. Set admin_cidr_allow_broad = true to accept a broader one deliberately.`,
        },
      ],
    });
    namedVariable(this, "admin_cidr_allow_broad", {
      type: "bool",
      default: false,
      description: `Accept an admin_cidr broader than /${ADMIN_CIDR_MIN_PREFIX} (never the whole internet)`,
    });
    this.keyName = namedVariable(this, "aws_ec2_key", {
      type: "string",
      nullable: true,
      default: null,
      description: "EC2 key pair for SSH; null, the default, means no key: reach hosts with SSM Session Manager",
    });
    this.adminAccessCount = Token.asNumber(Fn.conditional(Op.eq(this.adminCidr.value, Token.nullValue()), 0, 1));
    this.sshAccessCount = Token.asNumber(Fn.conditional(Op.and(Op.neq(this.adminCidr.value, Token.nullValue()), Op.neq(this.keyName.value, Token.nullValue())), 1, 0));
  }
}

/** The variable reaches a resource verbatim: it must be an instance type name, nothing else (no "${" either). */
function instanceTypeRule(name: string) {
  return {
    condition: `\${can(regex("${INSTANCE_TYPE.source.replace(/\\/g, "\\\\")}", var.${name}))}`,
    errorMessage: `${name} must be an EC2 instance type such as t3.small.`,
  };
}

function architectureRule(name: string, architecture: "x86_64" | "arm64") {
  const matches = `can(regex("${ARM64_TYPE}", var.${name}))`;
  return {
    condition: `\${${architecture === "arm64" ? matches : `!${matches}`}}`,
    errorMessage: `${name} must be an ${architecture} instance type: the AMI is looked up for ${architecture}. Change the spec to switch architecture.`,
  };
}
