import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";

/** Where resources live, for their ARNs: the partition (aws, aws-cn, aws-us-gov), the region and the account. */
export interface AwsAccount {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

export interface AwsServiceRoleProps {
  /** IAM name_prefix: at most 38 characters, because Terraform appends 26. */
  readonly namePrefix: string;
  readonly description: string;
  /** The AWS service that assumes the role. */
  readonly assumedBy: "ec2.amazonaws.com" | "ecs-tasks.amazonaws.com" | "vpc-flow-logs.amazonaws.com";
  /** AWS-managed policy names, attached with non-exclusive aws_iam_role_policy_attachment. */
  readonly managedPolicies?: readonly string[];
  /** The partition of the managed policy ARNs (aws, aws-cn, aws-us-gov). */
  readonly partition: string;
  /** Inline policy documents by name (least privilege that managed policies cannot express); a function gets the role's own ARN. */
  readonly inlinePolicies?: Readonly<Record<string, object | ((roleArn: string) => object)>>;
  /** Creates an instance profile for EC2. @default false */
  readonly instanceProfile?: boolean;
  /** IAM path (an auth method may trust every role under it). @default "/" */
  readonly path?: string;
  /** Tags of the role itself (an auth method may read them). @default none */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Who the service may assume the role for (confused deputy): the account, and an ARN pattern of
   * the resources (aws:SourceAccount, aws:SourceArn). @default none (any caller of the service)
   */
  readonly assumedFor?: { readonly account: string; readonly arnLike: string };
}

/**
 * An IAM role for one AWS service and one purpose. Policies are attached one by one with
 * aws_iam_role_policy_attachment: the original's aws_iam_policy_attachment is exclusive and
 * silently detaches the policy from every other role in the account.
 */
export class AwsServiceRole extends Construct {
  public readonly role: IamRole;
  public readonly instanceProfile?: IamInstanceProfile;
  /** The inline policies and attachments: what must exist before the role's user acts. */
  public readonly policies: readonly (IamRolePolicy | IamRolePolicyAttachment)[];

  constructor(scope: Construct, id: string, props: AwsServiceRoleProps) {
    super(scope, id);
    if (props.instanceProfile && props.assumedBy !== "ec2.amazonaws.com") {
      throw new Error(`${this.node.path}: an instance profile needs a role assumed by ec2.amazonaws.com, not ${props.assumedBy}`);
    }
    const inline = Object.entries(props.inlinePolicies ?? {}).sort(([a], [b]) => a.localeCompare(b));
    this.role = new IamRole(this, "role", {
      namePrefix: props.namePrefix,
      description: props.description,
      ...(props.path ? { path: props.path } : {}),
      ...(props.tags ? { tags: { ...props.tags } } : {}),
      assumeRolePolicy: JSON.stringify(
        policyDocument({
          Effect: "Allow",
          Principal: { Service: props.assumedBy },
          Action: "sts:AssumeRole",
          ...(props.assumedFor ? { Condition: { StringEquals: { "aws:SourceAccount": props.assumedFor.account }, ArnLike: { "aws:SourceArn": props.assumedFor.arnLike } } } : {}),
        }),
      ),
    });
    // aws_iam_role_policy rather than the role's inline_policy block, which the provider deprecates.
    const policies: (IamRolePolicy | IamRolePolicyAttachment)[] = inline.map(
      ([name, document]) =>
        new IamRolePolicy(this, `policy_${name}`, {
          namePrefix: `${name}-`,
          role: this.role.id,
          policy: JSON.stringify(typeof document === "function" ? document(this.role.arn) : document),
        }),
    );
    for (const policy of [...(props.managedPolicies ?? [])].sort()) {
      policies.push(
        new IamRolePolicyAttachment(this, `attach_${policy.split("/").pop()}`, {
          role: this.role.name,
          policyArn: `arn:${props.partition}:iam::aws:policy/${policy}`,
        }),
      );
    }
    this.policies = policies;
    if (props.instanceProfile) {
      this.instanceProfile = new IamInstanceProfile(this, "instance_profile", {
        namePrefix: props.namePrefix,
        role: this.role.name,
      });
    }
  }
}

/**
 * What an instance needs for SSM Session Manager and port forwarding, and nothing more:
 * AmazonSSMManagedInstanceCore would also grant ssm:GetParameter* on every parameter of the
 * account. (AWS documents this set as AWSCloud9SSMInstanceProfile; ec2messages serves only
 * Run Command on old agents.) The session channels have no resource type: "*" is the only choice.
 */
export function sessionManagerPolicy(instances: AwsAccount): object {
  return policyDocument(
    allow(["ssm:UpdateInstanceInformation"], [`arn:${instances.partition}:ec2:${instances.region}:${instances.accountId}:instance/*`]),
    allow(SSM_SESSION_CHANNELS, "*"),
  );
}

/** The SSM session channels (Session Manager, ECS Exec): AWS offers no resource-level permissions for them. */
export const SSM_SESSION_CHANNELS = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"];

/** An IAM policy document (version 2012-10-17) of these statements. */
export function policyDocument(...statements: readonly object[]): object {
  return { Version: "2012-10-17", Statement: statements };
}

/** A statement that allows these actions on these resources, under a condition when one is given. */
export function allow(actions: readonly string[], resource: string | readonly string[], condition?: object): object {
  return { Effect: "Allow", Action: actions, Resource: resource, ...(condition ? { Condition: condition } : {}) };
}

/** A resource policy statement that denies these actions on these resources to every principal the condition matches. */
export function denyAll(sid: string, actions: string | readonly string[], resource: string | readonly string[], condition: object): object {
  return { Sid: sid, Effect: "Deny", Principal: "*", Action: actions, Resource: resource, Condition: condition };
}
