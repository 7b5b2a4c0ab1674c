// The offline traffic evaluator (tools/traffic-evaluator.ts) on the config entries each example
// synthesizes: seeded requests over every ordered pair of services, checked against the spec's
// intent read here from the spec itself (not from lib/plan), and hand-written entries for what no
// example emits yet (splitters, resolvers with subsets, routes to versions).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSpecFile } from "../lib/pipeline";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { HTTP_METHODS, meshSpecSchema, type MeshSpec, type MeshSpecInput, type PermissionSpec } from "../lib/spec/schema";
import { type ConsulEntry, entriesOfStack, evaluateFilter, normalizeInboundPath, TrafficEvaluator, type TrafficRequest } from "../tools/traffic-evaluator";
import { synthAllStacks } from "./support/synth";
import { seededRandom } from "./support/prng";

const pick = <T>(rnd: () => number, items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;

/** A string the regex matches, for the forms the fixtures use (literals, ., [..], \d, groups with ? * +); undefined for others. */
function sampleRegex(pattern: string, rnd: () => number): string | undefined {
  let i = 0;
  const seq = (): string | undefined => {
    let out = "";
    while (i < pattern.length && pattern[i] !== ")") {
      let unit: () => string | undefined;
      const c = pattern[i]!;
      if (c === "|") return undefined;
      if (c === "(") {
        const start = ++i;
        let depth = 1;
        for (; i < pattern.length && depth > 0; i++) depth += pattern[i] === "(" ? 1 : pattern[i] === ")" ? -1 : 0;
        const inner = pattern.slice(start, i - 1);
        unit = () => sampleRegex(inner, rnd);
      } else if (c === "[") {
        const end = pattern.indexOf("]", i);
        const body = pattern.slice(i + 1, end);
        i = end + 1;
        const chars: string[] = [];
        for (let k = 0; k < body.length; k++)
          if (body[k + 1] === "-" && body[k + 2] !== undefined) {
            for (let code = body.charCodeAt(k); code <= body.charCodeAt(k + 2); code++) chars.push(String.fromCharCode(code));
            k += 2;
          } else chars.push(body[k]!);
        unit = () => pick(rnd, chars);
      } else if (c === "\\") {
        const d = pattern[i + 1];
        i += 2;
        unit = () => (d === "d" ? String(Math.floor(rnd() * 10)) : d!);
      } else {
        i++;
        unit = () => (c === "." ? pick(rnd, ["a", "z", "7", "-"]) : c);
      }
      const q = pattern[i];
      const [min, max] = q === "?" ? [0, 1] : q === "*" ? [0, 3] : q === "+" ? [1, 3] : [1, 1];
      if (q === "?" || q === "*" || q === "+") i++;
      const n = min + Math.floor(rnd() * (max - min + 1));
      for (let k = 0; k < n; k++) {
        const s = unit();
        if (s === undefined) return undefined;
        out += s;
      }
    }
    return out;
  };
  const result = seq();
  return i === pattern.length ? result : undefined;
}

// --- The spec's intent, read from the spec (MeshSpec), independently of lib/plan. ---

const fullMatch = (re: string, s: string) => new RegExp(`^(?:${re})$`).test(s);

function permissionMatches(p: PermissionSpec, req: TrafficRequest): boolean {
  const headers = new Map(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  // Envoy matches the path without its query.
  const path = req.path.split("?")[0]!;
  if (p.methods && !p.methods.includes(req.method as never)) return false;
  if (p.pathExact !== undefined && path !== p.pathExact) return false;
  if (p.pathPrefix !== undefined && !path.startsWith(p.pathPrefix)) return false;
  if (p.pathRegex !== undefined && !fullMatch(p.pathRegex, path)) return false;
  return p.headers.every((h) => {
    const v = headers.get(h.name.toLowerCase());
    // Envoy: a missing header fails every value test, inverted or not; an inverted present test matches it.
    if (v === undefined) return h.present === true && h.invert;
    const hit =
      h.present === true ||
      (h.exact !== undefined && v === h.exact) ||
      (h.prefix !== undefined && v.startsWith(h.prefix)) ||
      (h.suffix !== undefined && v.endsWith(h.suffix)) ||
      (h.regex !== undefined && fullMatch(h.regex, v));
    return hit !== h.invert;
  });
}

interface Intent {
  readonly allowed: boolean;
  /** Who decides: the caller's own intention or upstream, a "*" intention of the spec, or nobody (the default deny). */
  readonly governedBy: "own" | "wildcard" | "none";
  readonly permission?: number;
}

/** What the spec says of a request: an explicit intention wins, a declared upstream allows, a "*" intention next, else deny. */
function intent(spec: MeshSpec, req: TrafficRequest): Intent {
  const last = <T>(xs: readonly T[], f: (x: T) => boolean) => [...xs].reverse().find(f);
  const own = last(spec.intentions, (i) => i.source === req.source && i.destination === req.destination);
  const declared = spec.services[req.source]?.upstreams.some((u) => u.destination === req.destination) ?? false;
  const wildcard = last(spec.intentions, (i) => i.source === "*" && i.destination === req.destination);
  const governing = own ?? (declared ? { action: "allow" as const, permissions: undefined } : wildcard);
  const governedBy = own || declared ? "own" : wildcard ? "wildcard" : "none";
  if (!governing) return { allowed: false, governedBy };
  if (!governing.permissions) return { allowed: governing.action === "allow", governedBy };
  if (spec.services[req.destination]?.protocol === "tcp") return { allowed: false, governedBy };
  const index = governing.permissions.findIndex((p) => permissionMatches(p, req));
  return index < 0 ? { allowed: false, governedBy } : { allowed: governing.permissions[index]!.action === "allow", governedBy, permission: index };
}

const ms = (d: string) => Number(/^(\d+)/.exec(d)![1]) * { ms: 1, s: 1000, m: 60_000 }[/(ms|s|m)$/.exec(d)![1] as "ms" | "s" | "m"];

/**
 * The path the destination's permissions see, written apart from the evaluator: the WHATWG URL
 * parser removes "." and ".." segments (also as %2e, either case) and reads "\\" as "/", as
 * Chromium's canonicalizer (Envoy's normalize_path) does; Chromium also decodes an escaped
 * unreserved character, which WHATWG keeps, so that is done here after. A spec whose
 * permissions test a path asks for "//" merged and escaped slashes refused (README: L7).
 * "rejected" when the listener answers 400.
 */
function inboundPath(spec: MeshSpec, path: string): string {
  const testsPath = spec.intentions.some((i) => i.permissions?.some((p) => p.pathExact ?? p.pathPrefix ?? p.pathRegex));
  const q = path.indexOf("?");
  const [raw, query] = q < 0 ? [path, ""] : [path.slice(0, q), path.slice(q)];
  if (testsPath && /%2f|%5c/i.test(raw)) return "rejected";
  let out = new URL(`http://h${raw}`).pathname.replace(/%([0-9a-f]{2})/gi, (escaped, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9._~-]/.test(c) ? c : escaped;
  });
  // Envoy's merge keeps one leading and one trailing slash: "//" stays "//".
  if (testsPath) out = /^\/+$/.test(out) ? (out.length > 1 ? "//" : "/") : out.replace(/\/{2,}/g, "/");
  return out + query;
}

/** Ways a caller can write a path that the listener reads as another: dot segments, doubled and back slashes, escapes, a query. */
function disguise(path: string, rnd: () => number): string {
  const at = (p: string) => {
    const slashes = [...p].flatMap((c, i) => (c === "/" ? [i] : []));
    return pick(rnd, slashes.length ? slashes : [0]);
  };
  const dot = () => pick(rnd, [".", "%2e", "%2E"]);
  const insert = (p: string, text: string) => {
    const i = at(p);
    return `${p.slice(0, i)}${text}${p.slice(i)}`;
  };
  const forms: ((p: string) => string)[] = [
    (p) => insert(p, `/${dot()}`),
    (p) => insert(p, `/decoy/${dot()}${dot()}`),
    (p) => `/public/${dot()}${dot()}${p}`,
    (p) => insert(p, "/"),
    (p) => insert(p, "//"),
    (p) => insert(p, "\\"),
    (p) => insert(p, pick(rnd, ["/%2F", "/%2f", "%5C", "/%5c"])),
    (p) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
    (p) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    (p) => `${p}/${dot()}`,
    (p) => `${p}/${dot()}${dot()}`,
    (p) => `${p}${dot()}${dot()}${dot()}`,
    (p) => `${p}?next=/admin/../x`,
    (p) => p.replace(/\/[a-z][^/]*$/, "/%20$&"),
  ];
  let out = path;
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) out = pick(rnd, forms)(out);
  return out;
}

/** The route the spec asks for: its callers' timeout and retries (the traffic rule makes them agree), on an L7 destination. */
function intendedRoute(spec: MeshSpec, destination: string): { timeoutMs?: number; numRetries?: number } {
  if ((spec.services[destination]?.protocol ?? "tcp") === "tcp") return {};
  const asks = Object.values(spec.services).flatMap((s) => s.upstreams.filter((u) => u.destination === destination));
  const timeout = asks.find((u) => u.timeout !== undefined)?.timeout;
  const attempts = Math.max(1, ...asks.map((u) => u.retries.attempts));
  return { ...(timeout ? { timeoutMs: ms(timeout) } : {}), ...(attempts > 1 ? { numRetries: attempts - 1 } : {}) };
}

const versionTarget = (service: string, version: string) => ({ service, subset: version, filter: `Service.Meta.version == "${version}"` });

/** Who serves a request to `service` when no route picks: its split's versions with weight, else its default version (the first by name), else itself. */
function intendedSplits(spec: MeshSpec, service: string): { weight: number; target: object }[] {
  const versions = Object.keys(spec.services[service]?.versions ?? {}).sort();
  if (versions.length === 0) return [{ weight: 100, target: { service } }];
  const split = spec.services[service]!.split;
  if (!split) return [{ weight: 100, target: versionTarget(service, versions[0]!) }];
  return Object.entries(split)
    .filter(([, weight]) => weight > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([version, weight]) => ({ weight, target: versionTarget(service, version) }));
}

/** The spec's routes in order (first match), then the split: the version or service each request should reach. */
function intendedTargets(spec: MeshSpec, req: TrafficRequest): { routed: boolean; splits: { weight: number; target: object }[] } {
  const service = spec.services[req.destination];
  const l7 = (service?.protocol ?? "tcp") !== "tcp";
  const route = l7 ? service!.routes.find((r) => permissionMatches({ ...r, action: "allow" } as PermissionSpec, req)) : undefined;
  if (!route) return { routed: false, splits: intendedSplits(spec, req.destination) };
  if (route.version) return { routed: true, splits: [{ weight: 100, target: versionTarget(req.destination, route.version) }] };
  return { routed: true, splits: intendedSplits(spec, route.service!) };
}

/** Seeded requests for every ordered pair of services: methods, and paths and headers derived from the destination's permissions. */
function requests(spec: MeshSpec, seed: number): TrafficRequest[] {
  const rnd = seededRandom(seed);
  const names = Object.keys(spec.services).sort();
  const out: TrafficRequest[] = [];
  for (const destination of names) {
    const routes = spec.services[destination]?.routes ?? [];
    // Routes match like permissions (methods, path, headers): their paths and headers are drawn the same way.
    const permissions = [
      ...spec.intentions.filter((i) => i.destination === destination).flatMap((i) => i.permissions ?? []),
      ...routes.map((r) => ({ ...r, action: "allow" }) as PermissionSpec),
    ];
    const paths = new Set(["/", `/r${Math.floor(rnd() * 1000)}`]);
    for (const p of permissions) {
      if (p.pathExact) [p.pathExact, `${p.pathExact}x`, p.pathExact.slice(0, -1) || "/x"].forEach((x) => paths.add(x));
      if (p.pathPrefix) [p.pathPrefix, `${p.pathPrefix}sub/${Math.floor(rnd() * 100)}`, `/zz${p.pathPrefix}`, p.pathPrefix.slice(0, -1) || "/x"].forEach((x) => paths.add(x));
      if (p.pathRegex) {
        const hits = [0, 1, 2].map(() => sampleRegex(p.pathRegex!, rnd)).filter((s): s is string => s !== undefined);
        expect(hits.length, `a hit for ${p.pathRegex}`).toBeGreaterThan(0);
        for (const hit of hits) [hit, `${hit}~`, `/q${hit}`].forEach((x) => paths.add(x));
      }
    }
    // Each path also written as a caller could disguise it.
    for (const p of [...paths]) for (let k = 0; k < 3; k++) paths.add(disguise(p, rnd));
    // Header sets: none, each test's name with a hitting and a missing value, and all at once.
    const tests = permissions.flatMap((p) => p.headers);
    const value = (h: (typeof tests)[number], hit: boolean): string => {
      const v = h.exact ?? (h.prefix ? `${h.prefix}-${Math.floor(rnd() * 9)}` : h.suffix ? `x${h.suffix}` : h.regex ? (sampleRegex(h.regex, rnd) ?? "v") : "any");
      return hit ? v : `~${v}~`;
    };
    const headerSets: Record<string, string>[] = [{}];
    for (const h of tests) headerSets.push({ [h.name]: value(h, true) }, { [h.name.toUpperCase()]: value(h, false) });
    if (tests.length > 0) {
      headerSets.push(Object.fromEntries(tests.map((h) => [h.name, value(h, true)])));
      // Every test satisfied: a hit where it counts, a miss where it is inverted.
      headerSets.push(Object.fromEntries(tests.map((h) => [h.name, value(h, !h.invert)])));
    }
    const methods = [...new Set([...permissions.flatMap((p) => p.methods ?? []), "GET", "POST"])];
    for (const source of names)
      for (const p of paths)
        for (const headers of headerSets) {
          out.push({ source, destination, method: pick(rnd, methods), path: p, headers });
          out.push({ source, destination, method: pick(rnd, HTTP_METHODS), path: p, headers });
        }
  }
  return out;
}

const svc = (protocol?: string, upstreams: string[] = []) => ({
  image: "hashicorp/http-echo:1.0.0",
  user: "65534",
  port: 8080,
  command: ["-listen=127.0.0.1:8080"],
  ...(protocol ? { protocol } : {}),
  upstreams: upstreams.map((destination, i) => ({ destination, localBindPort: 9001 + i })),
});

/** What no example has yet: regex paths, header tests (present, exact inverted, prefix, suffix inverted, regex) and a "*" deny. */
const L7_FIXTURE = {
  ...DEFAULT_SPEC,
  services: { front: svc(undefined, ["api"]), batch: svc(undefined, ["api"]), ops: svc(), api: svc("http") },
  intentions: [
    {
      source: "front",
      destination: "api",
      permissions: [
        { action: "deny", pathRegex: "/admin(/.*)?" },
        { action: "allow", methods: ["GET"], pathExact: "/health" },
        { action: "allow", pathPrefix: "/v1/", headers: [{ name: "x-tenant", present: true }] },
        { action: "deny", pathPrefix: "/v1/", headers: [{ name: "x-debug", exact: "1", invert: true }] },
        { action: "allow", methods: ["GET", "POST"], pathRegex: "/items/[0-9]+", headers: [{ name: "x-env", prefix: "prod" }] },
      ],
    },
    {
      source: "batch",
      destination: "api",
      permissions: [
        {
          action: "allow",
          methods: ["POST"],
          pathPrefix: "/jobs",
          headers: [
            { name: "authorization", regex: "Bearer .+" },
            { name: "x-canary", suffix: "-canary", invert: true },
          ],
        },
      ],
    },
    { source: "*", destination: "api", action: "deny" },
  ],
} as MeshSpecInput;

const examples = fs
  .readdirSync("examples")
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => path.join("examples", f));
const cases: [string, MeshSpecInput][] = [
  ["the built-in default", DEFAULT_SPEC],
  ...examples.map((f): [string, MeshSpecInput] => [f, loadSpecFile(f).spec as MeshSpecInput]),
  ["the L7 fixture", L7_FIXTURE],
];

describe("traffic evaluator: every edge of every example against the spec's intent", () => {
  it.each(cases)("%s", (name, input) => {
    const spec = meshSpecSchema.parse(input);
    const evaluator = TrafficEvaluator.fromStack(synthAllStacks(input).intentions);
    const seed = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    const all = requests(spec, seed);
    const decided = new Set<string>();
    let allowed = 0;
    let routed = 0;
    // The mesh entry normalizes exactly when a permission tests a path (the other way, a deny walked past).
    const testsPath = spec.intentions.some((i) => i.permissions?.some((p) => p.pathExact ?? p.pathPrefix ?? p.pathRegex));
    expect(evaluator.inboundNormalization()).toEqual({ normalizePath: true, mergeSlashes: testsPath, escapedSlashes: testsPath ? "REJECT_REQUEST" : "KEEP_UNCHANGED" });
    let disguised = 0;
    for (const req of all) {
      const got = evaluator.authorize(req);
      const at = `${JSON.stringify(req)}: ${got.explain}`;
      const inbound = (spec.services[req.destination]?.protocol ?? "tcp") === "tcp" ? req.path : inboundPath(spec, req.path);
      if (inbound !== req.path) disguised++;
      if (inbound === "rejected") {
        expect(got, at).toMatchObject({ allowed: false, by: "normalization" });
        continue;
      }
      const want = intent(spec, { ...req, path: inbound });
      expect(got.allowed, at).toBe(want.allowed);
      expect(got.permission, at).toBe(want.permission);
      if (want.governedBy === "own") expect([got.entry, got.source], at).toEqual([req.destination, req.source]);
      if (want.governedBy === "wildcard") expect([got.entry, got.source], at).toEqual([req.destination, "*"]);
      if (want.governedBy === "none") expect(got.by === "default" || (got.entry === "*" && got.source === "*"), at).toBe(true);
      if (got.permission !== undefined) decided.add(`${got.entry}/${got.source}/${got.permission}`);
      if (got.allowed) allowed++;

      const route = evaluator.route(req);
      const wantRoute = intendedRoute(spec, req.destination);
      const wantTargets = intendedTargets(spec, req);
      if (wantTargets.routed) routed++;
      expect(route.splits, at).toEqual(wantTargets.splits);
      expect(route.requestTimeout === undefined ? undefined : ms(route.requestTimeout), at).toBe(wantRoute.timeoutMs);
      expect(route.numRetries, at).toBe(wantRoute.numRetries);
    }
    // Not vacuous: both answers occur, some paths change on the way in, and every L7 permission of the spec decided some request.
    if (Object.values(spec.services).some((s) => s.protocol !== "tcp")) expect(disguised).toBeGreaterThan(0);
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThan(all.length);
    if (Object.values(spec.services).some((s) => s.routes.length > 0)) expect(routed).toBeGreaterThan(0);
    const permissions = spec.intentions.flatMap((i) => (i.permissions ?? []).map((_, k) => `${i.destination}/${i.source}/${k}`));
    expect([...decided].sort()).toEqual(permissions.sort());
  });
});

const entry = (kind: string, name: string, config: object): ConsulEntry => ({ kind, name, config: config as Record<string, unknown> });
const req = (over: Partial<TrafficRequest> = {}): TrafficRequest => ({ source: "web", destination: "api", method: "GET", path: "/", ...over });
const httpApi = entry("service-defaults", "api", { Protocol: "http" });

describe("traffic evaluator: intentions", () => {
  it("gives a different answer when a permission order is swapped (the first match decides)", () => {
    const permissions = [
      { Action: "deny", HTTP: { PathPrefix: "/admin" } },
      { Action: "allow", HTTP: { PathPrefix: "/" } },
    ];
    const as = (ps: object[]) => new TrafficEvaluator([httpApi, entry("service-intentions", "api", { Sources: [{ Name: "web", Permissions: ps }] })]);
    const admin = req({ path: "/admin/users" });
    expect(as(permissions).authorize(admin)).toMatchObject({ allowed: false, by: "permission", permission: 0 });
    expect(as([...permissions].reverse()).authorize(admin)).toMatchObject({ allowed: true, by: "permission", permission: 0 });
  });

  it("follows Consul's precedence: exact source before *, an exact destination before the * entry", () => {
    const evaluator = new TrafficEvaluator([
      entry("service-intentions", "*", {
        Sources: [
          { Name: "web", Action: "allow" },
          { Name: "*", Action: "deny" },
        ],
      }),
      entry("service-intentions", "api", { Sources: [{ Name: "*", Action: "deny" }] }),
      entry("service-intentions", "db", { Sources: [{ Name: "*", Action: "allow" }] }),
    ]);
    // */api (8) beats web/* (6); web/* (6) beats */* (5).
    expect(evaluator.authorize(req())).toMatchObject({ allowed: false, entry: "api", source: "*", precedence: 8 });
    expect(evaluator.authorize(req({ destination: "cache" }))).toMatchObject({ allowed: true, entry: "*", source: "web", precedence: 6 });
    expect(evaluator.authorize(req({ source: "batch", destination: "cache" }))).toMatchObject({ allowed: false, entry: "*", source: "*", precedence: 5 });
    expect(evaluator.authorize(req({ source: "batch", destination: "db" }))).toMatchObject({ allowed: true, precedence: 8 });
  });

  it("sends a request no permission matches to the default policy, never to a lower intention", () => {
    const entries = [
      httpApi,
      entry("service-intentions", "api", {
        Sources: [
          { Name: "web", Permissions: [{ Action: "allow", HTTP: { Methods: ["GET"] } }] },
          { Name: "*", Action: "allow" },
        ],
      }),
    ];
    expect(new TrafficEvaluator(entries).authorize(req({ method: "POST" }))).toMatchObject({ allowed: false, by: "no-permission-matched", source: "web" });
    expect(new TrafficEvaluator(entries, "allow").authorize(req({ method: "POST" }))).toMatchObject({ allowed: true, by: "no-permission-matched" });
    expect(new TrafficEvaluator(entries).authorize(req({ source: "other", method: "POST" }))).toMatchObject({ allowed: true, source: "*" });
    expect(new TrafficEvaluator([]).authorize(req())).toMatchObject({ allowed: false, by: "default" });
  });

  it("treats L7 permissions on a tcp destination as deny, as Envoy's RBAC does", () => {
    const evaluator = new TrafficEvaluator([entry("service-intentions", "api", { Sources: [{ Name: "web", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/" } }] }] })]);
    expect(evaluator.authorize(req())).toMatchObject({ allowed: false, by: "not-http" });
  });

  it("matches headers as Envoy does: a missing header fails a value test even inverted; an inverted present test matches it", () => {
    const withHeader = (test: object) =>
      new TrafficEvaluator([httpApi, entry("service-intentions", "api", { Sources: [{ Name: "web", Permissions: [{ Action: "allow", HTTP: { Header: [test] } }] }] })]);
    expect(withHeader({ Name: "X-Env", Exact: "prod", Invert: true }).authorize(req()).allowed).toBe(false);
    expect(withHeader({ Name: "X-Env", Exact: "prod", Invert: true }).authorize(req({ headers: { "x-env": "dev" } })).allowed).toBe(true);
    expect(withHeader({ Name: "X-Env", Present: true, Invert: true }).authorize(req()).allowed).toBe(true);
    expect(withHeader({ Name: "X-Env", Prefix: "PR", IgnoreCase: true }).authorize(req({ headers: { "X-ENV": "prod" } })).allowed).toBe(true);
  });
});

describe("traffic evaluator: request normalization (the mesh entry)", () => {
  // three-tier denies web /admin by PathPrefix: "//admin" and "/%2Fadmin" walk past it unless paths are normalized.
  const stack = synthAllStacks(loadSpecFile("examples/three-tier.yaml").spec as MeshSpecInput).intentions;
  const withEntry = TrafficEvaluator.fromStack(stack);
  const without = new TrafficEvaluator(entriesOfStack(stack).filter((e) => e.kind !== "mesh"));
  const get = (path: string) => req({ destination: "api", path });

  it("denies //admin/users and rejects an escaped slash when the stack writes the mesh entry", () => {
    expect(withEntry.authorize(get("/admin/users"))).toMatchObject({ allowed: false, by: "permission", permission: 0 });
    expect(withEntry.authorize(get("//admin/users"))).toMatchObject({ allowed: false, by: "permission", permission: 0 });
    expect(withEntry.authorize(get("/%2Fadmin/users"))).toMatchObject({ allowed: false, by: "normalization" });
    expect(withEntry.authorize(get("/users"))).toMatchObject({ allowed: true });
  });

  it("lets them through without it (Consul's default keeps // and escaped slashes)", () => {
    expect(without.authorize(get("//admin/users"))).toMatchObject({ allowed: true, by: "permission", permission: 1 });
    expect(without.authorize(get("/%2Fadmin/users")).allowed).toBe(true);
  });

  it("denies a path that reaches /admin through dot segments, a backslash or an escaped letter, with or without the entry", () => {
    // Consul turns Envoy's normalize_path on whatever the mesh entry says, unless InsecureDisablePathNormalization.
    for (const evaluator of [withEntry, without])
      for (const path of ["/public/../admin/users", "/public/%2e%2E/admin", "/./admin", "\\admin\\users", "/%61dmin/users", "/admin/x/.."])
        expect(evaluator.authorize(get(path)), path).toMatchObject({ allowed: false, by: "permission", permission: 0 });
    expect(withEntry.authorize(get("/public/..%2Fadmin"))).toMatchObject({ allowed: false, by: "normalization" });
    expect(withEntry.authorize(get("/admin/../users?next=/admin"))).toMatchObject({ allowed: true, by: "permission", permission: 1 });
  });

  it("reads the settings from the mesh entry: with path normalization disabled, /public/../admin walks past the deny", () => {
    const insecure = new TrafficEvaluator([
      ...entriesOfStack(stack).filter((e) => e.kind !== "mesh"),
      entry("mesh", "mesh", { HTTP: { Incoming: { RequestNormalization: { InsecureDisablePathNormalization: true } } } }),
    ]);
    expect(insecure.inboundNormalization()).toEqual({ normalizePath: false, mergeSlashes: false, escapedSlashes: "KEEP_UNCHANGED" });
    expect(insecure.authorize(get("/public/../admin/users"))).toMatchObject({ allowed: true, by: "permission", permission: 1 });
    const forward = new TrafficEvaluator([entry("mesh", "mesh", { HTTP: { Incoming: { RequestNormalization: { PathWithEscapedSlashesAction: "UNESCAPE_AND_FORWARD" } } } })]);
    expect(forward.normalizedPath("/x/..%2Fadmin%5cusers?a=%2F")).toBe("/admin/users?a=%2F");
    const redirect = new TrafficEvaluator([entry("mesh", "mesh", { HTTP: { Incoming: { RequestNormalization: { PathWithEscapedSlashesAction: "UNESCAPE_AND_REDIRECT" } } } })]);
    expect(() => redirect.normalizedPath("/")).toThrow(/not one the evaluator models/);
  });

  it("normalizes as Envoy's canonicalPath and mergeSlashes do, and refuses what it does not model", () => {
    const envoy = { normalizePath: true, mergeSlashes: true, escapedSlashes: "KEEP_UNCHANGED" } as const;
    const cases: [string, string][] = [
      ["/a/b/../c", "/a/c"],
      ["/../../a", "/a"],
      ["/a/.b/..c/...", "/a/.b/..c/..."],
      ["/a/%2e%2E/%2Eb", "/.b"],
      ["/a%2Fb/%41%7e%25", "/a%2Fb/A~%25"],
      ["/a b", "/a%20b"],
      ["//a//b//", "/a/b/"],
      // mergeSlashes keeps one leading and one trailing slash, so a path of slashes alone stays "//".
      ["///", "//"],
      ["/a/..//b?x=//y", "/b?x=//y"],
    ];
    for (const [path, want] of cases) expect(normalizeInboundPath(path, envoy), path).toBe(want);
    expect(() => normalizeInboundPath("/a#b", envoy)).toThrow(/fragment/);
    expect(() => normalizeInboundPath("/..;/admin", envoy)).toThrow(/does not model/);
  });

  it("routes on the path as the caller sent it (Consul does not normalize the outbound listener)", () => {
    const evaluator = new TrafficEvaluator([
      httpApi,
      entry("service-router", "api", { Routes: [{ Match: { HTTP: { PathPrefix: "/v2/" } }, Destination: { RequestTimeout: "1s" } }] }),
    ]);
    expect(evaluator.route(req({ path: "/v2/x" })).route).toBe(0);
    expect(evaluator.route(req({ path: "/v1/../v2/x" })).route).toBe("default");
  });
});

describe("traffic evaluator: router -> splitter -> resolver", () => {
  const resolver = entry("service-resolver", "api", {
    DefaultSubset: "v1",
    RequestTimeout: "20s",
    Subsets: { v1: { Filter: 'Service.Meta.version == "v1"' }, v2: { Filter: 'Service.Meta.version == "v2"' } },
  });
  const splitter = entry("service-splitter", "api", {
    Splits: [
      { Weight: 90, ServiceSubset: "v1" },
      { Weight: 10, ServiceSubset: "v2" },
    ],
  });
  const instances = [
    { service: "api", meta: { version: "v1" }, id: "api-v1" },
    { service: "api", meta: { version: "v2" }, id: "api-v2" },
  ];

  it("routes a seeded share of 10 % to the canary of a 90/10 splitter", () => {
    const evaluator = new TrafficEvaluator([httpApi, splitter, resolver]);
    const rnd = seededRandom(21);
    const draws = 10_000;
    let canary = 0;
    for (let i = 0; i < draws; i++) if (evaluator.serve(req(), rnd()).subset === "v2") canary++;
    // Binomial(10 000, 0.1): a standard deviation of 30; 5 of them either side.
    expect(canary).toBeGreaterThan(850);
    expect(canary).toBeLessThan(1150);
    const { splits, requestTimeout } = evaluator.route(req());
    expect(splits.map((s) => [s.weight, s.target.subset])).toEqual([
      [90, "v1"],
      [10, "v2"],
    ]);
    // Consul puts a resolver's timeout on the route only when the chain starts at the resolver.
    expect(requestTimeout).toBeUndefined();
    expect(new TrafficEvaluator([httpApi, resolver]).route(req()).requestTimeout).toBe("20s");
    expect(evaluator.instancesOf(splits[1]!.target, instances).map((i) => i.id)).toEqual(["api-v2"]);
  });

  it("takes the first matching route, else the catch-all to the splitter; a subset route skips the splitter", () => {
    const evaluator = new TrafficEvaluator([
      httpApi,
      entry("service-defaults", "search", { Protocol: "http" }),
      splitter,
      resolver,
      entry("service-router", "api", {
        Routes: [
          { Match: { HTTP: { Header: [{ Name: "x-canary", Exact: "1" }] } }, Destination: { ServiceSubset: "v2", RequestTimeout: "2s", NumRetries: 2, RetryOn: ["5xx"] } },
          { Match: { HTTP: { PathPrefix: "/search" } }, Destination: { Service: "search" } },
          { Match: { HTTP: { PathPrefix: "/" } }, Destination: { ServiceSubset: "v1" } },
        ],
      }),
    ]);
    expect(evaluator.route(req({ path: "/search/q", headers: { "X-Canary": "1" } }))).toMatchObject({
      route: 0,
      requestTimeout: "2s",
      numRetries: 2,
      retryOn: ["5xx"],
      splits: [{ weight: 100, target: { service: "api", subset: "v2" } }],
    });
    expect(evaluator.route(req({ path: "/search/q" }))).toMatchObject({ route: 1, splits: [{ weight: 100, target: { service: "search" } }] });
    expect(evaluator.route(req({ path: "/x" }))).toMatchObject({ route: 2, splits: [{ weight: 100, target: { subset: "v1" } }] });
    const noCatchAll = new TrafficEvaluator([httpApi, splitter, resolver, entry("service-router", "api", { Routes: [{ Match: { HTTP: { PathExact: "/only" } } }] })]);
    expect(noCatchAll.route(req({ path: "/other" })).route).toBe("default");
    expect(noCatchAll.route(req({ path: "/other" })).splits).toHaveLength(2);
    const folded = new TrafficEvaluator([httpApi, entry("service-router", "api", { Routes: [{ Match: { HTTP: { PathPrefix: "/Search", CaseInsensitive: true } } }] })]);
    expect(folded.route(req({ path: "/search?q=1" })).route).toBe(0);
  });

  it("flattens a split to another service's splitter, and applies a resolver's redirect and default subset", () => {
    const evaluator = new TrafficEvaluator([
      httpApi,
      entry("service-defaults", "api-next", { Protocol: "http" }),
      entry("service-splitter", "api", {
        Splits: [
          { Weight: 50, ServiceSubset: "v1" },
          { Weight: 50, Service: "api-next" },
        ],
      }),
      entry("service-splitter", "api-next", {
        Splits: [
          { Weight: 80, Service: "api-next" },
          { Weight: 20, Service: "legacy" },
        ],
      }),
      entry("service-resolver", "legacy", { Redirect: { Service: "api", ServiceSubset: "v2" } }),
      resolver,
    ]);
    expect(evaluator.route(req()).splits).toEqual([
      { weight: 50, target: { service: "api", subset: "v1", filter: 'Service.Meta.version == "v1"' } },
      { weight: 40, target: { service: "api-next" } },
      { weight: 10, target: { service: "api", subset: "v2", filter: 'Service.Meta.version == "v2"' } },
    ]);
  });

  it("rejects what Consul rejects: an unknown kind, an unknown subset, weights not adding to 100, a router on tcp", () => {
    expect(() => new TrafficEvaluator([entry("exported-services", "default", {})])).toThrow(/kind "exported-services" is not one the evaluator models/);
    expect(() => new TrafficEvaluator([httpApi, entry("service-router", "api", { Routes: [{ Destination: { ServiceSubset: "v9" } }] }), resolver]).route(req())).toThrow(
      /does not have a subset named "v9"/,
    );
    expect(() => new TrafficEvaluator([httpApi, entry("service-splitter", "api", { Splits: [{ Weight: 90 }] })]).route(req())).toThrow(/add up to 90, not 100/);
    expect(() => new TrafficEvaluator([entry("service-router", "api", { Routes: [] })])).toThrow(/speaks tcp/);
    expect(() => new TrafficEvaluator([httpApi, httpApi])).toThrow(/written twice/);
    expect(() => new TrafficEvaluator([httpApi, entry("service-router", "api", { Routes: [{ Destination: { Service: "db" } }] })]).route(req())).toThrow(
      /inconsistent protocols: db speaks tcp/,
    );
  });

  it("reads a subset filter over the instance's meta and tags, and refuses syntax it does not model", () => {
    const v2 = { meta: { version: "v2", zone: "a" }, tags: ["canary"] };
    expect(evaluateFilter('Service.Meta.version == "v2" and not (Service.Meta.zone != a)', v2)).toBe(true);
    expect(evaluateFilter('Service.Meta.version == "v1" or "canary" in Service.Tags', v2)).toBe(true);
    expect(evaluateFilter('Service.Meta.version == "v1"', v2)).toBe(false);
    expect(() => evaluateFilter("Service.Meta.version matches v.*", v2)).toThrow(/not modelled|does not model/);
  });
});
