// Judges the Consul config entries a stack synthesizes (consul_config_entry resources) against the
// field table of consul-config-entry-reference.ts: unknown fields (with a did-you-mean), wrong value
// types, values outside Consul's enumerations, Enterprise-only and read-only fields, missing required
// fields, and the cross-field checks of Consul's Validate for these kinds. Every finding is one
// string naming the resource and the field path.
import { closest } from "../../lib/issues";
import { checkScalar, isObject } from "./consul-value-types";
import { CONFIG_ENTRY_KINDS, CONFIG_ENTRY_REFERENCE_VERSION, type EntryField, type EntryTable } from "./consul-config-entry-reference";

/** Judges one entry: its kind and name (the resource's) and its config_json body. */
export function judgeConfigEntry(kind: string, name: string, config: unknown): string[] {
  const table = CONFIG_ENTRY_KINDS[kind];
  if (!table)
    return [
      `kind ${JSON.stringify(kind)}: no field table for it (Consul ${CONFIG_ENTRY_REFERENCE_VERSION}); add its fields to consul-config-entry-reference.ts from Consul's source`,
    ];
  if (!isObject(config)) return [`(config_json): expected an object, got ${describe(config)}`];
  const findings: string[] = [];
  for (const key of ["Kind", "Name"] as const) if (key in config) findings.push(`${key}: set by the resource's ${key.toLowerCase()}; remove it from config_json`);
  const entry = { ...config, Kind: kind, Name: name };
  judgeTable(table, entry, "", findings);
  findings.push(...validate(kind, entry));
  return findings;
}

/** Judges every consul_config_entry of a synthesized stack; each finding starts with the resource's id. */
export function judgeConfigEntries(stack: { readonly resource?: Readonly<Record<string, unknown>> }): string[] {
  const resources = (stack.resource?.consul_config_entry ?? {}) as Readonly<Record<string, { kind: string; name: string; config_json: string }>>;
  const findings: string[] = [];
  for (const id of Object.keys(resources).sort()) {
    const { kind, name, config_json } = resources[id]!;
    let config: unknown;
    try {
      config = JSON.parse(config_json);
    } catch (error) {
      findings.push(`consul_config_entry.${id}: config_json is not JSON: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    for (const finding of judgeConfigEntry(kind, name, config)) findings.push(`consul_config_entry.${id} (${kind} ${name}): ${finding}`);
  }
  return findings;
}

function judgeTable(table: EntryTable, obj: Readonly<Record<string, unknown>>, path: string, out: string[]): void {
  for (const key of Object.keys(obj).sort()) {
    const at = join(path, key);
    const field = table[key];
    if (!field) {
      const suggestion = Object.keys(table).find((k) => k.toLowerCase() === key.toLowerCase()) ?? closest(key, Object.keys(table));
      out.push(`${at}: unknown field${path ? ` in ${path}` : ""}${suggestion ? `; did you mean ${suggestion}?` : ""}`);
      continue;
    }
    if (field.enterprise) out.push(`${at}: a Consul Enterprise field; Consul CE ${CONFIG_ENTRY_REFERENCE_VERSION} refuses it`);
    if (field.readOnly) out.push(`${at}: computed by Consul, which ignores a written value; remove it`);
    checkValue(field, obj[key], at, out);
  }
  for (const [key, field] of Object.entries(table)) if (field.required && !(key in obj)) out.push(`${path || "(entry)"}: missing ${key}, which Consul requires`);
}

function checkValue(field: EntryField, value: unknown, path: string, out: string[]): void {
  const wrong = (expected: string) => out.push(`${path}: expected ${expected}, got ${describe(value)}`);
  const scalar = checkScalar(field, value, path, describe);
  if (scalar) {
    out.push(...scalar);
    return;
  }
  switch (field.type) {
    case "stringMap":
      if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) wrong("a map of strings");
      return;
    case "block":
      if (!isObject(value)) wrong("an object");
      else judgeTable(field.keys, value, path, out);
      return;
    case "blockList":
      if (!Array.isArray(value) || !value.every(isObject)) wrong("a list of objects");
      else value.forEach((item, i) => judgeTable(field.keys, item, `${path}[${i}]`, out));
      return;
    case "blockMap":
      if (!isObject(value) || !Object.values(value).every(isObject)) wrong("a map of objects");
      else for (const key of Object.keys(value).sort()) judgeTable(field.keys, value[key] as Record<string, unknown>, `${path}.${key}`, out);
      return;
  }
}

/** The cross-field checks of Consul's Validate for the kinds in the table (config_entry_discoverychain.go, config_entry_intentions.go). */
function validate(kind: string, entry: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  const list = (v: unknown) => (Array.isArray(v) ? v.filter(isObject) : []);
  const obj = (v: unknown) => (isObject(v) ? v : undefined);
  const paths = (http: Readonly<Record<string, unknown>>, at: string) => {
    const given = ["PathExact", "PathPrefix", "PathRegex"].filter((k) => http[k] !== undefined && http[k] !== "");
    if (given.length > 1) out.push(`${at}: sets ${given.join(" and ")}; Consul takes at most one of PathExact, PathPrefix or PathRegex`);
    for (const k of ["PathExact", "PathPrefix"])
      if (typeof http[k] === "string" && http[k] !== "" && !(http[k] as string).startsWith("/")) out.push(`${at}.${k}: must start with "/"`);
    list(http.Header).forEach((h, j) => {
      const tests = ["Present", "Exact", "Prefix", "Suffix", "Regex"].filter((k) => h[k] !== undefined && h[k] !== "" && h[k] !== false);
      if (tests.length !== 1) out.push(`${at}.Header[${j}]: Consul takes exactly one of Present, Exact, Prefix, Suffix or Regex, got ${tests.length}`);
    });
  };
  // config_entry_mesh.go: GetName is always "mesh"; another name is a second, ignored entry.
  if (kind === "mesh" && entry.Name !== "mesh") out.push(`Name: ${JSON.stringify(entry.Name)}; Consul's mesh entry is named "mesh"`);
  if (kind === "service-intentions") {
    list(entry.Sources).forEach((source, i) => {
      const at = `Sources[${i}]`;
      const permissions = list(source.Permissions);
      if ((source.Action !== undefined) === permissions.length > 0) out.push(`${at}: Consul takes exactly one of Action or Permissions`);
      permissions.forEach((p, k) => {
        const http = obj(p.HTTP);
        if (!http || Object.keys(http).length === 0) out.push(`${at}.Permissions[${k}]: HTTP is required and must match something`);
        else paths(http, `${at}.Permissions[${k}].HTTP`);
      });
    });
  }
  if (kind === "service-router") {
    list(entry.Routes).forEach((route, i) => {
      const http = obj(obj(route.Match)?.HTTP);
      if (http) paths(http, `Routes[${i}].Match.HTTP`);
      const destination = obj(route.Destination);
      if (destination?.PrefixRewrite && !(http?.PathExact || http?.PathPrefix)) out.push(`Routes[${i}].Destination.PrefixRewrite: needs PathExact or PathPrefix in the match`);
    });
  }
  if (kind === "service-splitter") {
    // Validate: the weights add up to 100 (to within 0.01, as Consul compares float32 sums).
    const splits = list(entry.Splits);
    if (splits.length === 0) out.push("Splits: Consul requires at least one split");
    const sum = splits.reduce((total, s) => total + (typeof s.Weight === "number" ? s.Weight : 0), 0);
    if (splits.length > 0 && Math.abs(sum - 100) > 0.01) out.push(`Splits: the weights add up to ${sum}; Consul requires 100`);
  }
  if (kind === "service-resolver") {
    const subsets = obj(entry.Subsets) ?? {};
    for (const name of Object.keys(subsets).sort())
      if (!SUBSET_NAME.test(name)) out.push(`Subsets.${name}: a subset name must be a DNS label (lowercase letters, digits and '-'); Consul uses it in SNI names`);
    if (typeof entry.DefaultSubset === "string" && entry.DefaultSubset !== "" && !(entry.DefaultSubset in subsets))
      out.push(`DefaultSubset: ${JSON.stringify(entry.DefaultSubset)} is not one of the Subsets`);
  }
  return out;
}

/** Consul's validateServiceSubset (config_entry_discoverychain.go: "valid DNS subdomain elements" for SNI names): a DNS label. */
const SUBSET_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
