// Resolves the plan's text descriptions: slots become the values a construct binds (Terraform
// references, or stand-ins when a rule measures the worst case), and each TemplateText is
// rendered after the texts and slots inside its context.
import { isSlot, isTemplateText, type Slot, type TemplateText } from "../plan/text";
import { render } from "./templates";

/** Values for the slots of a text, by slot name. */
export type Bindings = Readonly<Record<string, string>>;

/** The type of a plan value once its slots and texts are strings. */
export type Resolved<T> = T extends TemplateText | Slot
  ? string
  : T extends readonly (infer Item)[]
    ? readonly Resolved<Item>[]
    : T extends object
      ? { readonly [K in keyof T]: Resolved<T[K]> }
      : T;

/** A plan value with every slot and text inside it resolved. */
export function resolve<T>(value: T, bindings: Bindings): Resolved<T> {
  return resolveValue(value, bindings) as Resolved<T>;
}

function resolveValue(value: unknown, bindings: Bindings): unknown {
  if (isSlot(value)) {
    const bound = bindings[value.slot];
    if (bound === undefined) throw new Error(`no value bound for slot "${value.slot}" (bound: ${Object.keys(bindings).sort().join(", ") || "none"})`);
    return bound;
  }
  if (isTemplateText(value)) {
    const text = render(value.template, resolveValue(value.context, bindings) as object);
    if (value.json) {
      try {
        return JSON.stringify(JSON.parse(text));
      } catch (error) {
        throw new Error(`${value.template} did not render valid JSON: ${(error as Error).message}`);
      }
    }
    return value.trim ? text.replace(/\n$/, "") : text;
  }
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, bindings));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveValue(item, bindings)]));
  }
  return value;
}

/** The text of a TemplateText. */
export function renderText(text: TemplateText, bindings: Bindings = {}): string {
  return resolveValue(text, bindings) as string;
}
