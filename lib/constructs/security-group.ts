import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";

export interface SecurityGroupProps {
  readonly vpcId: string;
  /** Name prefix; Terraform appends a unique suffix so replacements can be created before destroy. */
  readonly namePrefix: string;
  readonly description: string;
}

/** A rule's peer: a CIDR block, another security group, or a managed prefix list (a gateway endpoint's). */
export type Peer = { readonly cidr: string } | { readonly securityGroupId: string } | { readonly prefixListId: string };

export interface RuleOptions {
  /** Required on every rule (CKV_AWS_23): reviewers read it in the plan. */
  readonly description: string;
  /** @default "tcp" */
  readonly protocol?: "tcp" | "udp" | "-1";
  /** Omit for protocol "-1" (all traffic). */
  readonly fromPort?: number;
  /** Defaults to fromPort. */
  readonly toPort?: number;
  readonly peer: Peer;
  /** Terraform count, for rules that exist only when an optional variable is set. */
  readonly count?: number;
}

/**
 * A security group with standalone rule resources (aws_vpc_security_group_*_rule), one per
 * port and peer: each rule has its own description and ID, and adding one never rewrites the
 * others, unlike inline rules or the older aws_security_group_rule.
 */
export class MeshSecurityGroup extends Construct {
  public readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: SecurityGroupProps) {
    super(scope, id);
    this.securityGroup = new SecurityGroup(this, "group", {
      namePrefix: props.namePrefix,
      description: props.description,
      vpcId: props.vpcId,
      lifecycle: { createBeforeDestroy: true },
    });
  }

  public get id(): string {
    return this.securityGroup.id;
  }

  public allowIngress(id: string, rule: RuleOptions): VpcSecurityGroupIngressRule {
    return new VpcSecurityGroupIngressRule(this, `ingress_${id}`, this.ruleConfig(rule));
  }

  public allowEgress(id: string, rule: RuleOptions): VpcSecurityGroupEgressRule {
    return new VpcSecurityGroupEgressRule(this, `egress_${id}`, this.ruleConfig(rule));
  }

  private ruleConfig(rule: RuleOptions) {
    const protocol = rule.protocol ?? "tcp";
    const ports = protocol === "-1" ? {} : { fromPort: rule.fromPort, toPort: rule.toPort ?? rule.fromPort };
    return {
      securityGroupId: this.securityGroup.id,
      description: rule.description,
      ipProtocol: protocol,
      ...ports,
      ...(rule.count === undefined ? {} : { count: rule.count }),
      ...("cidr" in rule.peer
        ? { cidrIpv4: rule.peer.cidr }
        : "prefixListId" in rule.peer
          ? { prefixListId: rule.peer.prefixListId }
          : { referencedSecurityGroupId: rule.peer.securityGroupId }),
    };
  }
}
