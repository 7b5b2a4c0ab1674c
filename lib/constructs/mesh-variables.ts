import { Construct } from "constructs";
import { Fn, Op, type TerraformVariable, Token } from "cdktf";
import { namedVariable } from "./named-variable";
import type { MeshSecurityGroup } from "./security-group";

/** The broadest admin_cidr accepted without admin_cidr_allow_broad: one office or VPN range. */
const ADMIN_CIDR_MIN_PREFIX = 24;

/**
 * The mesh stack's deploy-time variables: only values no rule of the spec depends on (who may
 * reach the Consul UI and SSH). Everything a rule checks (names, region, zones, instance types)
 * comes from the spec alone: a different environment is a different spec file.
 */
export class MeshVariables extends Construct {
  public readonly adminCidr: TerraformVariable;
  public readonly keyName: TerraformVariable;
  /** 1 when admin_cidr is set, else 0: the count of rules that open anything to it. */
  public readonly adminAccessCount: number;
  /** 1 when both admin_cidr and aws_ec2_key are set, else 0: SSH exists only then. */
  public readonly sshAccessCount: number;

  constructor(scope: Construct, id: string) {
    super(scope, id);
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

  /** Opens SSH to instances in this group from admin_cidr, only when a key pair is set too (sshAccessCount). */
  public allowSsh(securityGroup: MeshSecurityGroup): void {
    securityGroup.allowIngress("ssh", {
      description: "SSH from admin_cidr (only with aws_ec2_key)",
      fromPort: 22,
      peer: { cidr: this.adminCidr.stringValue },
      count: this.sshAccessCount,
    });
  }
}
