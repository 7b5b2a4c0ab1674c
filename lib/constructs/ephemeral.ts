import type { Construct } from "constructs";
import { TerraformElement, TerraformStack, Token, ref } from "cdktf";

export interface EphemeralResourceProps {
  /** The ephemeral resource type, for example "random_password". */
  readonly type: string;
  /** Its arguments, in Terraform's own (snake_case) names. */
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * An `ephemeral "<type>" "<name>"` block (Terraform >= 1.10): a value opened on every plan and
 * apply and never written to state or plan. CDKTF 0.21 has no class for it, so this element
 * writes the block itself; the project's cdktf patch renders it for `cdktf synth --hcl`.
 * Its attributes are valid only in write-only arguments (`*_wo`), provider blocks, locals and
 * other ephemeral blocks: Terraform refuses a plan that would persist one.
 */
export class EphemeralResource extends TerraformElement {
  public readonly type: string;
  public readonly config: Readonly<Record<string, unknown>>;

  constructor(scope: Construct, id: string, props: EphemeralResourceProps) {
    super(scope, id, `ephemeral.${props.type}`);
    this.type = props.type;
    this.config = props.config;
  }

  /** `ephemeral.<type>.<name>.<attribute>` as a token: composes with Fn.* (a raw "${...}" string would be escaped). */
  public attribute(name: string): string {
    return Token.asString(ref(`ephemeral.${this.type}.${this.friendlyUniqueId}.${name}`, TerraformStack.of(this)));
  }

  public override toTerraform(): Record<string, unknown> {
    return { ephemeral: { [this.type]: { [this.friendlyUniqueId]: this.config } } };
  }

  public override toHclTerraform(): Record<string, unknown> {
    return this.toTerraform();
  }
}
