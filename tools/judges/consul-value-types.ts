// The value types both Consul judges read: the agent configuration's key table
// (consul-reference.ts, judged by consul-config.ts) and the config entries' field table
// (consul-config-entry-reference.ts, judged by consul-config-entries.ts). One switch checks a value
// against a scalar or list type for both; each judge walks its own containers (HCL gives a block
// as a one-element list, a config entry is JSON).

/** Types a value is checked against directly; a judge's containers (maps, blocks) are its own. */
export type ScalarType = "string" | "int" | "number" | "bool" | "duration" | "stringList" | "intList";

/** A scalar type with the bounds a table may put on it. */
export interface ScalarSpec {
  readonly type: string;
  /** The values Consul accepts (a string, or each string of a list). @default any */
  readonly oneOf?: readonly string[];
  /** @default none */
  readonly min?: number;
  /** @default none */
  readonly max?: number;
}

/** Go's time.ParseDuration syntax: "0", or signed sequences of decimal numbers with units. */
export const DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The findings for a value of a scalar type at `path` (a wrong shape, a value outside oneOf, a
 * number outside min-max), [] when it fits, or none when `spec.type` is not a scalar type (the
 * judge's own containers). `describe` words the value as the judge does.
 */
export function checkScalar(spec: ScalarSpec, value: unknown, path: string, describe: (value: unknown) => string): string[] | undefined {
  const wrong = (expected: string) => [`${path}: expected ${expected}, got ${describe(value)}`];
  const outside = (values: readonly string[], v: string) => `${path}: ${JSON.stringify(v)} is not one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
  const beyond = (n: number) => (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max);
  switch (spec.type as ScalarType) {
    case "string":
      if (typeof value !== "string") return wrong("a string");
      return spec.oneOf && !spec.oneOf.includes(value) ? [outside(spec.oneOf, value)] : [];
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) return wrong("an integer");
      return spec.min !== undefined && value < spec.min ? wrong(`an integer of at least ${spec.min}`) : [];
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return wrong("a number");
      return beyond(value) ? [`${path}: ${value} is outside ${spec.min}-${spec.max}`] : [];
    case "bool":
      return typeof value === "boolean" ? [] : wrong("true or false");
    case "duration":
      return typeof value === "string" && DURATION.test(value) ? [] : wrong('a duration string such as "10s"');
    case "stringList":
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) return wrong("a list of strings");
      return spec.oneOf ? value.filter((v) => !spec.oneOf!.includes(v)).map((v) => outside(spec.oneOf!, v)) : [];
    case "intList":
      if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) return wrong("a list of integers");
      return (value as number[]).filter(beyond).map((v) => `${path}: ${v} is outside ${spec.min}-${spec.max}`);
    default:
      return undefined;
  }
}
