import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import type { AwsAccount } from "./aws-service-role";

export interface MeshKeyProps extends AwsAccount {
  readonly alias: string;
  /** What the key encrypts, for its description. */
  readonly purpose: string;
  /** Names of the log groups CloudWatch Logs may encrypt with the key (a trailing * matches the rest). */
  readonly logGroups: readonly string[];
}

/**
 * A customer-managed KMS key with yearly rotation: CloudWatch Logs may use it for the mesh's own
 * log groups only (CKV_AWS_158; another log group of the account cannot borrow it); everything
 * else (Secrets Manager secrets, S3 snapshots, ECS Exec sessions) uses it through IAM, each role
 * granted exactly what it needs.
 */
export class MeshKey extends Construct {
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: MeshKeyProps) {
    super(scope, id);
    const { accountId, region, partition } = props;
    this.key = new KmsKey(this, "key", {
      description: `Encrypts ${props.purpose}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            // The account keeps control of the key through IAM (the KMS default key policy).
            Sid: "AccountAdministration",
            Effect: "Allow",
            Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "CloudWatchLogsOfTheMesh",
            Effect: "Allow",
            Principal: { Service: `logs.${region}.amazonaws.com` },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": props.logGroups.map((name) => `arn:${partition}:logs:${region}:${accountId}:log-group:${name}`) } },
          },
        ],
      }),
    });
    new KmsAlias(this, "alias", { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
  }
}
