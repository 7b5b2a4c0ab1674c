import { Construct } from "constructs";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Fn } from "cdktf";
import { EphemeralResource } from "./ephemeral";
import { SECRET_RECOVERY_WINDOW_DAYS } from "../facts";
import type { MeshNames } from "../plan/names";

export interface ConsulSecretsProps {
  /** The name_prefix of every secret and the service token parameters' names (the plan's). */
  readonly names: MeshNames["consulSecrets"];
  /** Customer-managed KMS key of every secret (CKV_AWS_149); readers need kms:Decrypt on it. */
  readonly kmsKeyArn: string;
  /** One ACL token per service, scoped to the service and its sidecar by a service identity. */
  readonly serviceNames: readonly string[];
}

/** A Secrets Manager secret and the attribute of its value that consumers read. */
export interface SecretRef {
  readonly secret: SecretsmanagerSecret;
  /** ECS `valueFrom`: the ARN, or "<arn>:<json-key>::" for one key of a JSON secret. */
  readonly valueFrom: string;
}

/** A service's token, and the SSM parameter under the servers' sync path that names its secret. */
export interface ServiceTokenSecret extends SecretRef {
  readonly parameter: SsmParameter;
}

/**
 * Bumping it writes a new value into every write-only secret version: the only way Terraform
 * rewrites one, since plans open the ephemeral values but never compare them.
 */
const WRITE_ONLY_VERSION = 1;

/**
 * Every key, certificate and token of the secure mesh, delivered through Secrets Manager: to
 * tasks as ECS secrets and to the Consul server, which reads them at boot with its instance role.
 * Nothing secret is written into user data, a container's environment, or a non-sensitive output.
 * The gossip key and the ACL tokens come from ephemeral values through write-only arguments, so
 * neither state nor plan holds them. The RPC CA (key and certificate) is made by the first server
 * to boot, which writes both secrets: Terraform creates them empty and never sees a value. Each
 * server makes its own key and certificate on its data volume; none is in Secrets Manager.
 */
export class ConsulSecrets extends Construct {
  public readonly gossipKey: SecretRef;
  /** The RPC CA's certificate (public), which tasks and the intentions stack read; the first server writes it. */
  public readonly caCert: SecretRef;
  /** The RPC CA's key and certificate as one JSON value ({CertPEM, KeyPEM}); the first server writes it, only the servers read it. */
  public readonly rpcCaKey: SecretRef;
  public readonly managementToken: SecretRef;
  public readonly agentToken: SecretRef;
  /**
   * Per agent service: its token, and a parameter under serviceTokenPath naming its secret. The
   * servers reconcile Consul's tokens with the parameters under that path, so each service's
   * token is its own resources: adding, removing or moving a service touches nothing shared.
   */
  public readonly serviceTokens: ReadonlyMap<string, ServiceTokenSecret>;
  /** The SSM path the servers list the service token parameters under. */
  public readonly serviceTokenPath: string;
  /** Parameters naming the management token and CA certificate secrets, which the intentions stack reads by name. */
  public readonly intentionsParameters: { readonly managementToken: SsmParameter; readonly caCert: SsmParameter };
  private readonly kmsKeyArn: string;
  private readonly secretVersions = new Map<SecretsmanagerSecret, SecretsmanagerSecretVersion>();

  constructor(scope: Construct, id: string, props: ConsulSecretsProps) {
    super(scope, id);
    this.kmsKeyArn = props.kmsKeyArn;
    const { names } = props;

    // Gossip encryption: 32 bytes, base64, the shape `consul keygen` produces and the servers check. The pinned
    // random provider has no ephemeral random_bytes, so the bytes are 32 alphanumerics (about 190 bits).
    const gossip = this.ephemeralPassword("gossip_key_password");
    this.gossipKey = this.writeOnlySecret("gossip_key", names.gossipKey, "Consul gossip encryption key", Fn.base64encode(gossip));

    // A private CA for Consul's own TLS (agent RPC, HTTPS API); Connect's mTLS uses Consul's built-in CA. The
    // servers make it (templates/user-data/consul-server.sh.hbs): Terraform cannot sign with a key it does not
    // hold in state (terraform-provider-tls #645, #728).
    this.caCert = this.serverWrittenSecret("ca_cert", names.caCert, "Consul RPC CA certificate (public), written by the first server to boot");
    this.rpcCaKey = this.serverWrittenSecret("rpc_ca_key", names.rpcCaKey, "Consul RPC CA key and certificate (JSON), written by the first server to boot; servers only");

    const management = tokenIds(this.ephemeralPassword("management_token_password"));
    this.managementToken = this.writeOnlySecret("management_token", names.managementToken, "Consul ACL management token (full access)", management.secretId);
    this.agentToken = this.token("agent_token", names.agentToken, "Consul ACL token of the client agents in tasks");

    const handOff = (id: string, name: string, secret: SecretRef, what: string) =>
      new SsmParameter(this, id, {
        name,
        description: `The secret of ${what}, for the intentions stack (an ARN, no secret)`,
        type: "String",
        tier: "Standard",
        value: secret.secret.arn,
      });
    this.intentionsParameters = {
      managementToken: handOff("intentions_management_token_parameter", names.intentionsParameters.managementToken, this.managementToken, "Consul's management token"),
      caCert: handOff("intentions_ca_cert_parameter", names.intentionsParameters.caCert, this.caCert, "Consul's CA certificate"),
    };

    this.serviceTokenPath = names.serviceTokenPath;
    this.serviceTokens = new Map(
      [...props.serviceNames].sort().map((service) => {
        const tokenNames = names.serviceTokens.get(service)!;
        const token = this.token(`service_token_${service}`, tokenNames.secret, `Consul ACL token of ${service} and its sidecar`);
        const parameter = new SsmParameter(this, `service_token_${service}_parameter`, {
          name: tokenNames.parameter,
          description: `The secret of ${service}'s Consul ACL token, which the Consul servers keep in sync (an ARN, no secret)`,
          type: "String",
          tier: "Standard",
          value: token.secret.arn,
        });
        return [service, { ...token, parameter }];
      }),
    );
  }

  /**
   * The versions Terraform writes of some secrets: what must exist before their reader starts. The
   * servers write the CA's secrets, which have no Terraform version (a reader of those waits for the servers).
   */
  public versionsOf(refs: readonly SecretRef[]): SecretsmanagerSecretVersion[] {
    return refs.flatMap((ref) => {
      const version = this.secretVersions.get(ref.secret);
      return version ? [version] : [];
    });
  }

  /** What a server reads at boot (the service tokens come later, through its sync timer). */
  public get serverBootSecrets(): SecretRef[] {
    return [this.gossipKey, this.managementToken, this.agentToken, ...this.serverWrittenSecrets];
  }

  /** What the first server to boot writes (PutSecretValue), and every server reads. */
  public get serverWrittenSecrets(): SecretRef[] {
    return [this.rpcCaKey, this.caCert];
  }

  /** A fresh 32-character alphanumeric value on every plan and apply, never stored. */
  private ephemeralPassword(id: string): string {
    return new EphemeralResource(this, id, { type: "random_password", config: { length: 32, special: false } }).attribute("result");
  }

  /**
   * A secret whose value is write-only, from an ephemeral `value`: neither state nor plan holds it, and
   * Terraform writes it again only when WRITE_ONLY_VERSION changes.
   */
  private writeOnlySecret(id: string, namePrefix: string, description: string, value: string): SecretRef {
    return this.secret(id, namePrefix, description, { secretStringWo: value, secretStringWoVersion: WRITE_ONLY_VERSION });
  }

  /** A secret and its write-only version. */
  private secret(id: string, namePrefix: string, description: string, value: { readonly secretStringWo: string; readonly secretStringWoVersion: number }): SecretRef {
    const ref = this.serverWrittenSecret(id, namePrefix, description);
    this.secretVersions.set(ref.secret, new SecretsmanagerSecretVersion(this, `${id}_value`, { secretId: ref.secret.id, ...value }));
    return ref;
  }

  /** A secret without a Terraform version: its value comes from the servers. */
  private serverWrittenSecret(id: string, namePrefix: string, description: string): SecretRef {
    const secret = new SecretsmanagerSecret(this, id, {
      namePrefix,
      description,
      kmsKeyId: this.kmsKeyArn,
      recoveryWindowInDays: SECRET_RECOVERY_WINDOW_DAYS,
    });
    return { secret, valueFrom: secret.arn };
  }

  /** An ACL token as the JSON the servers create it from (consul-acl-sync, ensure_token): its IDs are fixed here. */
  private token(id: string, namePrefix: string, description: string): SecretRef {
    const ids = tokenIds(this.ephemeralPassword(`${id}_password`));
    const ref = this.writeOnlySecret(id, namePrefix, description, Fn.jsonencode({ AccessorID: ids.accessorId, SecretID: ids.secretId }));
    return { secret: ref.secret, valueFrom: `${ref.secret.arn}:SecretID::` };
  }
}

/**
 * A token's AccessorID and SecretID in the UUID form Consul requires (8-4-4-4-12 lowercase hex), from one
 * ephemeral value: its SHA-256 gives 64 hex characters, the first 32 the accessor, the last 32 the secret.
 * The accessor (not secret) reveals nothing of the secret half. The pinned random provider has no
 * ephemeral random_uuid.
 */
function tokenIds(password: string): { readonly accessorId: string; readonly secretId: string } {
  const hash = Fn.sha256(password);
  const uuid = (start: number) =>
    Fn.format(
      "%s-%s-%s-%s-%s",
      [8, 4, 4, 4, 12].map((length, i, all) => Fn.substr(hash, start + all.slice(0, i).reduce((a, b) => a + b, 0), length)),
    );
  return { accessorId: uuid(0), secretId: uuid(32) };
}
