import { Construct, Node } from "constructs";
import { TerraformElement, TerraformStack } from "cdktf";

/**
 * What every stack of this project shares: Terraform >= 1.9 (variable validation that refers
 * to other variables) and readable resource addresses.
 */
export abstract class MeshBaseStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.addOverride("terraform.required_version", ">= 1.9.0");
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
