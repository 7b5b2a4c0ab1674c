import { Construct } from "constructs";
import { DataAwsSecretsmanagerSecretVersions } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-versions";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SECRET_RECOVERY_WINDOW_DAYS } from "../facts";
import { TLS_EDGE_CA_FIELDS } from "../plan/tls-edge";
import type { TlsEdgeCaPlan } from "../plan/types";

export interface TlsEdgeCertificateProps {
  /** The service's DNS name, <service>.<namespace>, for the secrets' descriptions. */
  readonly dnsName: string;
  /** The name_prefix of each secret (the plan's). */
  readonly secretNamePrefixes: { readonly ca: string; readonly caCertificate: string };
  /** The CA generation the tasks pin. */
  readonly ca: TlsEdgeCaPlan;
  /** Customer-managed KMS key of both secrets (CKV_AWS_149). */
  readonly kmsKeyArn: string;
}

/**
 * The containers of the edge CA's secrets, without a value: scripts/tls-edge-ca.sh makes the CA
 * with openssl on the operator's machine and writes it (generation by generation, under the
 * plan's version ID), so no key is in Terraform state or plan. Each task makes its own server key
 * at start and signs it with this CA (lib/plan/tls-edge.ts): no server key is stored anywhere.
 * Clients trust the CA certificate, which the second secret holds alone (no key).
 */
export class TlsEdgeCertificate extends Construct {
  /** {CertPEM, KeyPEM} of the CA: only the tasks' init container reads it (ECS secrets, execution role). */
  public readonly caSecret: SecretsmanagerSecret;
  /** The CA certificate (PEM) and the previous generation's during a rotation: what clients trust. */
  public readonly caCertificateSecret: SecretsmanagerSecret;
  /** The version IDs of each secret (IDs and labels only, never a value): the ECS service checks that the pinned generation exists. */
  public readonly caVersions: DataAwsSecretsmanagerSecretVersions;
  public readonly caCertificateVersions: DataAwsSecretsmanagerSecretVersions;
  /** ECS valueFrom of the CA's certificate and key, pinned to this generation's version. */
  public readonly caCertificateValueFrom: string;
  public readonly caPrivateKeyValueFrom: string;

  constructor(scope: Construct, id: string, props: TlsEdgeCertificateProps) {
    super(scope, id);
    const secret = (secretId: string, namePrefix: string, description: string) =>
      new SecretsmanagerSecret(this, secretId, { namePrefix, description, kmsKeyId: props.kmsKeyArn, recoveryWindowInDays: SECRET_RECOVERY_WINDOW_DAYS });
    this.caSecret = secret(
      "ca",
      props.secretNamePrefixes.ca,
      `CA of ${props.dnsName} ({${TLS_EDGE_CA_FIELDS.certificate}, ${TLS_EDGE_CA_FIELDS.privateKey}}), written by scripts/tls-edge-ca.sh; the tasks' init container signs with it`,
    );
    this.caCertificateSecret = secret(
      "ca_certificate",
      props.secretNamePrefixes.caCertificate,
      `CA certificate (PEM) clients of ${props.dnsName} trust, written by scripts/tls-edge-ca.sh`,
    );
    this.caVersions = new DataAwsSecretsmanagerSecretVersions(this, "ca_versions", { secretId: this.caSecret.arn });
    this.caCertificateVersions = new DataAwsSecretsmanagerSecretVersions(this, "ca_certificate_versions", { secretId: this.caCertificateSecret.arn });
    // arn:...:secret:<name>:<json-key>:<version-stage>:<version-id> (ECS: specifying sensitive data, Secrets Manager).
    const pinned = (field: string) => `${this.caSecret.arn}:${field}::${props.ca.versionId}`;
    this.caCertificateValueFrom = pinned(TLS_EDGE_CA_FIELDS.certificate);
    this.caPrivateKeyValueFrom = pinned(TLS_EDGE_CA_FIELDS.privateKey);
  }

  /** A Terraform condition: this generation's version exists in both secrets (what scripts/tls-edge-ca.sh writes). */
  public generationWritten(versionId: string): string {
    const has = (versions: DataAwsSecretsmanagerSecretVersions) =>
      `contains(data.aws_secretsmanager_secret_versions.${versions.friendlyUniqueId}.versions[*].version_id, "${versionId}")`;
    return `${has(this.caVersions)} && ${has(this.caCertificateVersions)}`;
  }
}
