import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { MeshNames } from "../plan/names";
import { type AwsAccount, allow, denyAll, policyDocument } from "./aws-service-role";

export interface SnapshotBucketProps extends AwsAccount {
  /** The bucket's and the restore role's name prefixes (the plan's); Terraform appends a unique suffix. */
  readonly names: MeshNames["snapshots"];
  readonly kmsKeyArn: string;
  /** Days a snapshot is kept (older versions too). */
  readonly retentionDays: number;
}

/** The object reads the restore role has, and nobody else: a snapshot holds every token's secret and the Connect CA key. */
const SNAPSHOT_READS = ["s3:GetObject", "s3:GetObjectVersion"];

/**
 * Where the Consul servers save their snapshots: private (public access blocked, bucket owner
 * owns every object, TLS only), versioned, encrypted with the mesh's KMS key (an object written
 * with another key or another kind of encryption is refused), snapshots expired after the
 * retention period. A snapshot is the whole control plane (every ACL token's secret, the Connect
 * CA's private key), so only the restore role may read one: the servers may only write, and any
 * other principal of the account, whatever its IAM policies say, is denied by the bucket policy.
 */
export class SnapshotBucket extends Construct {
  public readonly bucket: S3Bucket;
  /** The only principal that may read snapshots; operators assume it to restore (README). */
  public readonly restoreRole: IamRole;

  constructor(scope: Construct, id: string, props: SnapshotBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, "bucket", { bucketPrefix: props.names.bucketPrefix });
    const bucket = this.bucket.id;
    this.restoreRole = new IamRole(this, "restore_role", {
      namePrefix: props.names.restoreRolePrefix,
      description: "Reads Consul snapshots for a restore (README: Snapshots and restore); assumable by principals of this account that IAM allows to",
      assumeRolePolicy: JSON.stringify(policyDocument({ Effect: "Allow", Principal: { AWS: `arn:${props.partition}:iam::${props.accountId}:root` }, Action: "sts:AssumeRole" })),
    });
    new IamRolePolicy(this, "restore_role_policy", {
      namePrefix: "read-snapshots-",
      role: this.restoreRole.id,
      policy: JSON.stringify(
        policyDocument(
          allow(["s3:ListBucket"], [this.bucket.arn]),
          allow(["s3:GetObject"], [`${this.bucket.arn}/snapshots/*`]),
          allow(["kms:Decrypt"], [props.kmsKeyArn], { StringEquals: { "kms:ViaService": `s3.${props.region}.amazonaws.com` } }),
        ),
      ),
    });
    new S3BucketPublicAccessBlock(this, "public_access_block", { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketVersioningA(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      rule: [
        {
          id: "expire-snapshots",
          status: "Enabled",
          filter: [{ prefix: "snapshots/" }],
          expiration: [{ days: props.retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.retentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    new S3BucketPolicy(this, "policy", {
      bucket,
      policy: JSON.stringify(
        policyDocument(
          denyAll("TlsOnly", "s3:*", [this.bucket.arn, `${this.bucket.arn}/*`], { Bool: { "aws:SecureTransport": "false" } }),
          // Every write names SSE-KMS and the mesh's key itself: a request without the headers is refused
          // too (the servers upload each snapshot in one PutObject, which carries both).
          denyAll("MeshKeyOnly", "s3:PutObject", `${this.bucket.arn}/*`, { StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": props.kmsKeyArn } }),
          denyAll("KmsEncryptionOnly", "s3:PutObject", `${this.bucket.arn}/*`, { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } }),
          denyAll("RestoreRoleReadsOnly", SNAPSHOT_READS, `${this.bucket.arn}/*`, { ArnNotEquals: { "aws:PrincipalArn": this.restoreRole.arn } }),
        ),
      ),
    });
  }
}
