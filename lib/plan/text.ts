// How the plan describes text without rendering it: a template name and the plan values it
// prints (TemplateText), and the places where a construct supplies a Terraform reference at
// synth time (Slot: a secret ARN, a log group name). The render stage resolves both
// (lib/render/text.ts); the plan never imports a renderer.

/** A value only a construct knows (a Terraform reference), filled in by name when the text is rendered. */
export interface Slot {
  readonly slot: string;
}

/** A value a template may print: plain data, a slot, or another text rendered first. */
export type TextValue = string | number | boolean | null | Slot | TemplateText | readonly TextValue[] | { readonly [key: string]: TextValue };

/** Text rendered from templates/<template> with a context of plan values. */
export interface TemplateText {
  readonly template: string;
  readonly context: { readonly [key: string]: TextValue };
  /** Strip the trailing newline (a one-line program passed as an argument). */
  readonly trim?: true;
  /** The text is JSON: parsed (so it must be valid) and written compactly. */
  readonly json?: true;
}

/** The ECS cluster's name in a host's user data: the cluster's Terraform reference, so the hosts depend on the cluster. */
export const HOST_CLUSTER_SLOT = "clusterName";

export function slot(name: string): Slot {
  return { slot: name };
}

/** A slot of each name of a table of slot names, under the same keys. */
export function slots<Names extends { readonly [key: string]: string }>(names: Names): { readonly [K in keyof Names]: Slot } {
  return Object.fromEntries(Object.entries(names).map(([key, name]) => [key, slot(name)])) as { readonly [K in keyof Names]: Slot };
}

export function isSlot(value: unknown): value is Slot {
  return typeof value === "object" && value !== null && "slot" in value && Object.keys(value).length === 1;
}

export function isTemplateText(value: unknown): value is TemplateText {
  return typeof value === "object" && value !== null && "template" in value && "context" in value;
}

/** A typed constructor per template: the context type is the template's contract. */
export function templateText<Context extends { readonly [key: string]: TextValue }>(template: string, options: { readonly trim?: true; readonly json?: true } = {}) {
  return (context: Context): TemplateText => ({ template, context, ...options });
}
