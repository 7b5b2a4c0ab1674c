import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";

export interface LogEncryptionKeyProps {
  readonly alias: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

/**
 * A customer-managed KMS key for the mesh's CloudWatch log groups (CKV_AWS_158), usable by
 * CloudWatch Logs only for log groups of this account and region, with yearly rotation.
 */
export class LogEncryptionKey extends Construct {
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: LogEncryptionKeyProps) {
    super(scope, id);
    const { accountId, region, partition } = props;
    this.key = new KmsKey(this, "key", {
      description: "Encrypts the mesh's CloudWatch log groups",
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
            Sid: "CloudWatchLogsOfThisAccount",
            Effect: "Allow",
            Principal: { Service: `logs.${region}.amazonaws.com` },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*` } },
          },
        ],
      }),
    });
    new KmsAlias(this, "alias", { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
  }
}
