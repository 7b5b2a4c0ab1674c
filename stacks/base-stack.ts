import type { Construct, Node } from "constructs";
import { LocalBackend, S3Backend, TerraformElement, TerraformStack } from "cdktf";

/** Where Terraform keeps state. It holds every generated key and token: use S3 for anything real. */
export type StateBackend =
  | { readonly type: "local" }
  | {
      readonly type: "s3";
      readonly bucket: string;
      readonly region: string;
      /** Key prefix; each stack's state is <prefix>/<stack>.tfstate. */
      readonly keyPrefix: string;
      /** Customer-managed KMS key for the state objects; default is the bucket's encryption. */
      readonly kmsKeyId?: string;
    };

/**
 * The Terraform a stack needs: 1.10 for variable validation that refers to other variables and
 * S3 lock files; 1.11 once it has write-only arguments (`*_wo`), which the ephemeral blocks feed.
 */
export const TERRAFORM_VERSIONS = { base: ">= 1.10.0", writeOnly: ">= 1.11.0" } as const;

/**
 * Whether a Terraform element's configuration (`{ resource: ... }`, `{ ephemeral: ... }`) has an ephemeral
 * block or a write-only argument that is set (an unset argument is there as undefined). Only plain objects
 * and arrays are walked: tokens (Lazy, Fn.*) are other objects and refer back into the tree.
 */
function needsWriteOnly(config: Record<string, unknown>): boolean {
  const hasWriteOnly = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.some(hasWriteOnly);
    if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
    return Object.entries(value).some(([key, inner]) => (key.endsWith("_wo") && inner !== undefined) || hasWriteOnly(inner));
  };
  return "ephemeral" in config || hasWriteOnly(config);
}

/**
 * What every stack of this project shares: the Terraform version its configuration needs, a
 * state backend chosen without code changes, and readable resource addresses.
 */
export abstract class MeshBaseStack extends TerraformStack {
  constructor(scope: Construct, id: string, backend: StateBackend = { type: "local" }) {
    super(scope, id);
    this.addOverride("terraform.required_version", TERRAFORM_VERSIONS.base);
    if (backend.type === "s3") {
      new S3Backend(this, {
        bucket: backend.bucket,
        key: `${backend.keyPrefix}/${id}.tfstate`,
        region: backend.region,
        encrypt: true,
        kmsKeyId: backend.kmsKeyId,
      });
      // Native S3 locking (Terraform >= 1.10), no DynamoDB table needed.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      // Relative to cdktf.out/stacks/<stack>, where cdktf runs Terraform: the project root.
      // CDKTF's default is an absolute path, which would make the JSON differ between clones.
      new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    }
  }

  /** Raises required_version to what the finished stack uses (cdktf calls this before synthesis). */
  public override prepareStack(): void {
    super.prepareStack();
    const elements = this.node.findAll().filter((c): c is TerraformElement => TerraformElement.isTerraformElement(c));
    if (elements.some((e) => needsWriteOnly(e.toTerraform()))) this.addOverride("terraform.required_version", TERRAFORM_VERSIONS.writeOnly);
  }

  /**
   * Resource names from the construct path ("consul_server_instance") instead of CDKTF's
   * hashed IDs, so a reviewer can tell from `terraform plan` where each resource comes from.
   * Construct IDs are chosen to be unique once joined, and stay stable across syntheses.
   */
  protected allocateLogicalId(element: TerraformElement | Node): string {
    const node = TerraformElement.isTerraformElement(element) ? element.node : element;
    const components = node.scopes.slice(node.scopes.indexOf(this) + 1).map((c) => c.node.id);
    return components.join("_").replace(/[^A-Za-z0-9_-]/g, "_");
  }
}
