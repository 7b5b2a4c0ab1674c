import type { Construct } from "constructs";
import { TerraformVariable } from "cdktf";

export interface NamedVariableConfig {
  readonly type: string;
  /** undefined: the variable is required (no default); null: optional, null by default. */
  readonly default: string | boolean | readonly string[] | null | undefined;
  readonly nullable?: boolean;
  readonly description: string;
  readonly validation?: { condition: string; errorMessage: string }[];
}

/** A Terraform variable named exactly `name`, whatever construct holds it. */
export function namedVariable(scope: Construct, name: string, config: NamedVariableConfig): TerraformVariable {
  const { default: defaultValue, ...rest } = config;
  const v = new TerraformVariable(scope, name, rest);
  v.overrideLogicalId(name);
  // CDKTF drops a null default (and crashes on it): set defaults through an override so a
  // nullable variable stays optional.
  if (defaultValue !== undefined) v.addOverride("default", defaultValue);
  return v;
}
