// L7 traffic management: the spec's fields and defaults, the config entries the plan decides and
// the intentions stack synthesizes, and each call-graph rule with a failing and a passing fixture.
import * as fs from "node:fs";
import { allErrors, configEntries as entries, trafficErrors as errors, trafficIssues as traffic } from "./support/traffic";
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { meshSpecSchema, type MeshSpecInput } from "../lib/spec/schema";
import { checkTraffic, MAX_PATH_STEPS } from "../lib/rules/traffic";
import { RULES } from "../lib/rules";
import { loadSpecFile } from "../lib/pipeline";
import { trafficTable } from "../tools/render";
import { planOf, synthAllStacks } from "./support/synth";
import { TrafficEvaluator } from "../tools/traffic-evaluator";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import type { TemplateText } from "../lib/plan/text";
import { unnormalizedPart } from "../lib/plan/request-paths";
import { seededRandom } from "./support/prng";

type Upstream = { destination: string; timeout?: string; retries?: object; limits?: object };

/** Services with an app on 8080, each calling its upstreams on 127.0.0.1:9001... (one task each, so the ports may repeat). */
function mesh(services: Record<string, { protocol?: string; upstreams?: Upstream[] }>, rest: Partial<MeshSpecInput> = {}): MeshSpecInput {
  return {
    ...DEFAULT_SPEC,
    services: Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        {
          image: "hashicorp/http-echo:1.0.0",
          user: "65534",
          port: 8080,
          command: ["-listen=127.0.0.1:8080"],
          ...(s.protocol ? { protocol: s.protocol } : {}),
          upstreams: (s.upstreams ?? []).map((u, i) => ({ localBindPort: 9001 + i, ...u })),
        },
      ]),
    ),
    ...rest,
  } as MeshSpecInput;
}

describe("the spec", () => {
  it("documents every L7 field in the JSON Schema (npm run schema): protocol, upstream policy, permissions, versions, split, routes, traffic", () => {
    const schema = JSON.parse(fs.readFileSync("schema/mesh-spec.schema.json", "utf8"));
    const service = schema.properties.services.additionalProperties.properties;
    /** Every property under a node, with its path, that has no description (anyOf and oneOf branches included). */
    const undocumented = (node: any, at: string): string[] => {
      if (node === null || typeof node !== "object") return [];
      const own = Object.entries<any>(node.properties ?? {}).flatMap(([k, v]) => [...(v.description ? [] : [`${at}.${k}`]), ...undocumented(v, `${at}.${k}`)]);
      const nested = [node.items, node.additionalProperties, ...(node.anyOf ?? []), ...(node.oneOf ?? [])].flatMap((n) => undocumented(n, at));
      return [...own, ...nested];
    };
    const l7 = {
      "services.*.protocol": service.protocol,
      "services.*.upstreams[].timeout": service.upstreams.items.properties.timeout,
      "services.*.upstreams[].retries": service.upstreams.items.properties.retries,
      "services.*.upstreams[].limits": service.upstreams.items.properties.limits,
      "services.*.versions": service.versions,
      "services.*.split": service.split,
      "services.*.routes": service.routes,
      "intentions[].permissions": schema.properties.intentions.items.properties.permissions,
      traffic: schema.properties.traffic,
    };
    for (const [at, node] of Object.entries(l7)) {
      expect(node?.description, at).toEqual(expect.any(String));
      expect(undocumented(node, at), at).toEqual([]);
    }
    // Not vacuous: the walk reaches the nested fields.
    expect(undocumented({ properties: { retries: { description: "x", properties: { attempts: {} } } } }, "u")).toEqual(["u.retries.attempts"]);
  });

  it("defaults to tcp with no timeout, retries or limits: an empty object is the same as none", () => {
    const spec = meshSpecSchema.parse(mesh({ web: { upstreams: [{ destination: "api", retries: {}, limits: {} }] }, api: {} }));
    expect(spec.services.api!.protocol).toBe("tcp");
    expect(spec.services.web!.upstreams[0]).toMatchObject({ retries: { attempts: 1, on: [], statusCodes: [], idempotent: false }, limits: {} });
    expect(spec.services.web!.upstreams[0]!.timeout).toBeUndefined();
    expect(spec.traffic.maxRetryAmplification).toBe(4);
  });

  it.each([
    ["retries without a condition", { destination: "api", retries: { attempts: 3 } }, "services.web.upstreams[0].retries.on", /need a condition/],
    ["a duration without a unit", { destination: "api", timeout: "5" }, "services.web.upstreams[0].timeout", /must be a duration/],
  ])("refuses %s", (_, upstream, path, message) => {
    const issues = allErrors(mesh({ web: { upstreams: [upstream] }, api: { protocol: "http" } }));
    expect(issues).toEqual([expect.objectContaining({ path, message: expect.stringMatching(message) })]);
  });

  it.each([
    ["lookahead", "^/api/(?!admin)", /uses lookaround \(\?!, which RE2/],
    ["lookbehind", "(?<=v1)/users", /uses lookaround \(\?<=/],
    ["a backreference", "^/(a+)/\\1$", /uses backreference \\1/],
    ["a named group in PCRE form", "^/(?<id>[0-9]+)$", /named group other than \(\?P<name>/],
    ["an atomic group", "^/(?>a+)$", /atomic group/],
    ["a possessive quantifier", "^/a++$", /possessive quantifier/],
  ])("refuses a path or header regex RE2 cannot compile: %s", (_, regex, message) => {
    const spec = (permission: object) =>
      mesh(
        { web: { upstreams: [{ destination: "api" }] }, api: { protocol: "http" } },
        { intentions: [{ source: "web", destination: "api", permissions: [permission] }] as never },
      );
    expect(allErrors(spec({ action: "allow", pathRegex: regex }))).toEqual([
      expect.objectContaining({ path: "intentions[0].permissions[0].pathRegex", message: expect.stringMatching(message) }),
    ]);
    expect(allErrors(spec({ action: "allow", headers: [{ name: "x-v", regex }] }))).toEqual([
      expect.objectContaining({ path: "intentions[0].permissions[0].headers[0].regex", message: expect.stringMatching(message) }),
    ]);
  });

  it("takes RE2 regexes: (?P<name>), escapes, classes, lazy quantifiers and flags", () => {
    const spec = mesh(
      { web: { upstreams: [{ destination: "api" }] }, api: { protocol: "http" } },
      { intentions: [{ source: "web", destination: "api", permissions: [{ action: "allow", pathRegex: "(?i)^/(?P<id>[0-9]+)/\\(?=[(?=]+?$" }] }] as never },
    );
    expect(allErrors(spec)).toEqual([]);
  });

  it("takes an intention's action or its permissions, not both, and a permission must match something", () => {
    const base = mesh({ web: { upstreams: [{ destination: "api" }] }, api: { protocol: "http" } });
    expect(allErrors({ ...base, intentions: [{ source: "web", destination: "api", action: "allow", permissions: [{ action: "allow", methods: ["GET"] }] }] as never })).toEqual([
      expect.objectContaining({ path: "intentions[0]", message: expect.stringMatching(/exactly one of action \(L4\) or permissions \(L7\)/) }),
    ]);
    expect(allErrors({ ...base, intentions: [{ source: "web", destination: "api", permissions: [{ action: "allow" }] }] as never })).toEqual([
      expect.objectContaining({ path: "intentions[0].permissions[0]", message: expect.stringMatching(/matches every request/) }),
    ]);
  });
});

describe("dataplane tasks", () => {
  // The L7 settings are config entries every proxy reads, whatever runs it: consul-ecs's config carries each
  // upstream as the agent's registration does, and nothing the entries decide (a registration's upstream config would decide it twice).
  const threeTier = loadSpecFile("examples/three-tier.yaml").spec as MeshSpecInput;
  const dataplane = { ...threeTier, architecture: "dataplane" } as MeshSpecInput;

  it("get the same config entries as agent tasks, and a consul-ecs config whose upstreams carry only the bind and the passive health check", () => {
    expect(allErrors(dataplane)).toEqual([]);
    const agentEntries = synthAllStacks(threeTier).intentions.resource.consul_config_entry;
    expect(synthAllStacks(dataplane).intentions.resource.consul_config_entry).toEqual(agentEntries);
    expect(Object.values(agentEntries).map((e: any) => e.kind)).toEqual(expect.arrayContaining(["service-defaults", "service-router", "service-splitter", "service-resolver"]));
    for (const service of planOf(dataplane).services.flatMap((s) => (s.versions.length > 0 ? s.versions : [s]))) {
      const init = service.task.containers.find((c) => c.name === DATAPLANE_CONTAINERS.meshInit)!;
      const config = init.environment!.find((e) => e.name === "CONSUL_ECS_CONFIG_JSON")!.value as TemplateText;
      const upstreams = (config.context as any).proxy.upstreams as { destinationName: string; config: object }[];
      expect(
        upstreams.map((u) => u.destinationName),
        service.name,
      ).toEqual(service.upstreams.map((u) => u.destination));
      for (const u of upstreams)
        expect(
          Object.keys(u.config).filter((k) => k !== "passive_health_check"),
          service.name,
        ).toEqual([]);
    }
  });
});

describe("the config entries", () => {
  const l7 = mesh(
    {
      web: {
        protocol: "http",
        upstreams: [
          {
            destination: "api",
            timeout: "4s",
            retries: { attempts: 2, on: ["connect-failure", "reset"], statusCodes: [503] },
            limits: { maxConnections: 64, maxPendingRequests: 32 },
          },
        ],
      },
      api: { protocol: "http" },
    },
    {
      intentions: [
        { source: "web", destination: "api", permissions: [{ action: "allow", methods: ["GET", "HEAD"], pathPrefix: "/v1/", headers: [{ name: "x-tenant", present: true }] }] },
      ],
    },
  );

  it("synthesize service-defaults, a service-router and L7 permissions, each waiting for the protocol it needs", () => {
    expect(allErrors(l7)).toEqual([]);
    const all = entries(synthAllStacks(l7).intentions);
    expect(all.traffic_defaults_api).toEqual({ kind: "service-defaults", name: "api", config: { Protocol: "http" }, dependsOn: undefined });
    expect(all.traffic_defaults_web).toEqual({
      kind: "service-defaults",
      name: "web",
      config: { Protocol: "http", UpstreamConfig: { Overrides: [{ Name: "api", Limits: { MaxConnections: 64, MaxPendingRequests: 32 } }] } },
      dependsOn: undefined,
    });
    expect(all.traffic_router_api).toEqual({
      kind: "service-router",
      name: "api",
      config: {
        Routes: [{ Match: { HTTP: { PathPrefix: "/" } }, Destination: { RequestTimeout: "4s", NumRetries: 1, RetryOn: ["connect-failure", "reset"], RetryOnStatusCodes: [503] } }],
      },
      dependsOn: ["consul_config_entry.traffic_defaults_api"],
    });
    expect(all.service_intentions_api).toEqual({
      kind: "service-intentions",
      name: "api",
      config: {
        Sources: [
          {
            Name: "web",
            Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/v1/", Header: [{ Name: "x-tenant", Present: true }], Methods: ["GET", "HEAD"] } }],
            Description: "intentions[0] of the spec",
          },
        ],
      },
      dependsOn: ["consul_config_entry.traffic_defaults_api", "consul_config_entry.service_intentions_request_normalization"],
    });
    // A permission tests a path: the global mesh entry normalizes paths first (no "//" or %2F past a path deny).
    expect(all.service_intentions_request_normalization).toEqual({
      kind: "mesh",
      name: "mesh",
      config: { HTTP: { Incoming: { RequestNormalization: { InsecureDisablePathNormalization: false, MergeSlashes: true, PathWithEscapedSlashesAction: "REJECT_REQUEST" } } } },
      dependsOn: undefined,
    });
    // The summary output says an L7 source's permissions decide, not one action.
    expect(synthAllStacks(l7).intentions.output.intentions.value.api).toEqual(["web:permissions"]);
  });

  it("write no mesh entry when no permission tests a path (methods and headers only)", () => {
    const methodsOnly = mesh(
      { web: { upstreams: [{ destination: "api" }] }, api: { protocol: "http" } },
      { intentions: [{ source: "web", destination: "api", permissions: [{ action: "allow", methods: ["GET"], headers: [{ name: "x-tenant", present: true }] }] }] },
    );
    expect(planOf(methodsOnly).meshEntry).toBeUndefined();
    expect(Object.values(entries(synthAllStacks(methodsOnly).intentions)).map((e: any) => e.kind)).not.toContain("mesh");
    expect(entries(synthAllStacks(methodsOnly).intentions).service_intentions_api.dependsOn).toEqual(["consul_config_entry.traffic_defaults_api"]);
  });

  it("are none for a tcp mesh without L7 fields: the default spec synthesizes only its intentions", () => {
    expect(planOf(DEFAULT_SPEC).traffic.entries).toEqual({ serviceDefaults: [], serviceResolvers: [], serviceSplitters: [], serviceRouters: [] });
    expect(Object.values(entries(synthAllStacks(DEFAULT_SPEC).intentions)).map((e: any) => e.kind)).toEqual(["service-intentions", "service-intentions"]);
  });

  it("give every edge the destination's policy and what its intention allows", () => {
    expect(planOf(l7).traffic.edges).toEqual([
      {
        source: "web",
        destination: "api",
        path: "services.web.upstreams[0]",
        protocol: "http",
        timeoutMs: 4000,
        attempts: 2,
        idempotent: false,
        methods: ["GET", "HEAD"],
        allowed: "allow GET,HEAD /v1/*[x-tenant]",
      },
    ]);
  });
});

describe("L7 settings need an L7 destination", () => {
  const fixture = (protocol?: string) =>
    mesh(
      {
        web: { upstreams: [{ destination: "api", timeout: "2s", retries: { attempts: 2, on: ["reset"] }, limits: { maxConcurrentRequests: 10 } }] },
        api: protocol ? { protocol } : {},
      },
      { intentions: [{ source: "web", destination: "api", permissions: [{ action: "allow", methods: ["GET"] }] }] },
    );

  it("fails on tcp", () => {
    expect(errors(fixture()).map((e) => e.path)).toEqual([
      "intentions[0].permissions",
      "services.web.upstreams[0].timeout",
      "services.web.upstreams[0].retries",
      "services.web.upstreams[0].limits.maxConcurrentRequests",
    ]);
    expect(errors(fixture())[0]!.message).toMatch(/api speaks tcp.*set services\.api\.protocol to http, http2 or grpc/);
  });

  it("passes on http", () => expect(errors(fixture("http"))).toEqual([]));
});

describe("callers of one destination agree on its router", () => {
  const fixture = (otherTimeout: string | undefined) =>
    mesh({
      aa: { upstreams: [{ destination: "api", timeout: "3s" }] },
      bb: { upstreams: [{ destination: "api", ...(otherTimeout ? { timeout: otherTimeout } : {}) }] },
      api: { protocol: "http" },
    });

  it("fails when two ask for different timeouts, naming both", () => {
    expect(errors(fixture("5s"))).toEqual([
      {
        path: "services.bb.upstreams[0]",
        message: expect.stringMatching(
          /^asks api's router for timeout 5s, no retries, but services\.aa\.upstreams\[0\] asks for timeout 3s, no retries: Consul applies one service-router/,
        ),
      },
    ]);
  });

  it("passes when one declares and the other inherits", () => {
    expect(errors(fixture(undefined))).toEqual([]);
    expect(planOf(fixture(undefined)).traffic.edges.map((e) => `${e.source}:${e.timeoutMs}`)).toEqual(["aa:3000", "bb:3000"]);
  });
});

describe("every declared upstream is allowed something", () => {
  const fixture = (action: "allow" | "deny") =>
    mesh(
      { web: { upstreams: [{ destination: "api" }] }, api: { protocol: "http" } },
      { intentions: [{ source: "web", destination: "api", permissions: [{ action, pathPrefix: "/admin" }] }] },
    );

  it("fails when its permissions only deny", () => {
    expect(errors(fixture("deny"))).toEqual([{ path: "services.web.upstreams[0]", message: expect.stringMatching(/the permissions of intentions\[0\] allow it no request/) }]);
  });

  it("passes with an allow", () => expect(errors(fixture("allow"))).toEqual([]));
});

/** web calls api, an http service, and its one intention to api has these permissions. */
const webCallsHttpApi = (permissions: object[]) =>
  mesh({ web: { upstreams: [{ destination: "api" }] }, api: { protocol: "http" } }, { intentions: [{ source: "web", destination: "api", permissions }] as never });

describe("a deny does not rest on an inverted value test", () => {
  // Envoy: a request without the header matches no inverted value test, so "deny unless x-role is admin" lets it through.
  const fixture = (header: object, action = "deny") =>
    webCallsHttpApi([
      { action, pathPrefix: "/admin", headers: [header] },
      { action: "allow", pathPrefix: "/" },
    ]);

  it("fails on a deny with an inverted exact, prefix, suffix or regex test, pointing to the present test", () => {
    expect(errors(fixture({ name: "x-role", exact: "admin", invert: true }))).toEqual([
      {
        path: "intentions[0].permissions[0].headers[0].invert",
        message: expect.stringMatching(/never matches a request without x-role.*put a deny with \{ name: x-role, present: true, invert: true \} before this permission/),
      },
    ]);
  });

  it("passes for an inverted present test, or an inverted value test on an allow", () => {
    expect(errors(fixture({ name: "x-role", present: true, invert: true }))).toEqual([]);
    expect(errors(fixture({ name: "x-role", exact: "admin", invert: true }, "allow"))).toEqual([]);
  });
});

describe("a permission path is in the form Envoy normalizes requests to", () => {
  // Every proxy's inbound listener normalizes the path before RBAC (lib/plan/request-paths.ts): a path not in that form matches nothing.
  const deny = (test: object) =>
    webCallsHttpApi([
      { action: "deny", ...test },
      { action: "allow", pathPrefix: "/" },
    ]);
  const rejects = (test: object, field: string, write: string) =>
    expect(errors(deny(test)), JSON.stringify(test)).toEqual([
      {
        path: `intentions[0].permissions[0].${field}`,
        message: expect.stringContaining(`so this deny never fires (the requests it means pass it); write ${field}: ${JSON.stringify(write)}`),
      },
    ]);

  it("fails on dot segments, %2e, a backslash, an escaped letter, repeated slashes, an escaped slash, a query, or a raw character clients encode, naming the form to write", () => {
    rejects({ pathPrefix: "//admin" }, "pathPrefix", "/admin");
    rejects({ pathPrefix: "/public/../admin" }, "pathPrefix", "/admin");
    rejects({ pathExact: "/./admin" }, "pathExact", "/admin");
    rejects({ pathPrefix: "/%2e%2E/admin" }, "pathPrefix", "/admin");
    rejects({ pathPrefix: "/\\admin" }, "pathPrefix", "/admin");
    rejects({ pathExact: "/%61dmin" }, "pathExact", "/admin");
    rejects({ pathPrefix: "/admin%2Fusers" }, "pathPrefix", "/admin/users");
    rejects({ pathExact: "/admin?debug=1" }, "pathExact", "/admin");
    rejects({ pathExact: "/caf\u00e9 menu" }, "pathExact", "/caf%C3%A9%20menu");
    expect(errors(deny({ pathPrefix: "/admin%2Fusers" }))[0]!.message).toMatch(/refuse a path with an escaped slash \(%2F, %5C\) with 400 before any intention/);
    expect(errors(webCallsHttpApi([{ action: "allow", pathPrefix: "/api//v1" }]))).toContainEqual({
      path: "intentions[0].permissions[0].pathPrefix",
      message: expect.stringMatching(/repeated slashes merged\), so this allow never allows; write pathPrefix: "\/api\/v1"$/),
    });
  });

  it("fails on a regex every match of which needs a part normalization removes", () => {
    for (const [regex, part] of [
      ["/admin//.*", "//"],
      ["/api/\\.\\./.+", "/.."],
      ["/%2e%2e/[a-z]+", "%2e"],
      ["/(a|b)\\\\c", "\\"],
      ["/x%2F[0-9]+", "%2F"],
    ])
      expect(errors(deny({ pathRegex: regex })), regex).toEqual([
        { path: "intentions[0].permissions[0].pathRegex", message: expect.stringContaining(`every path this regex matches contains ${JSON.stringify(part)}`) },
      ]);
  });

  it("passes on normalized paths, and on a regex whose unnormalized parts are optional or in an alternation", () => {
    for (const test of [
      { pathPrefix: "/admin" },
      { pathPrefix: "/admin/" },
      { pathExact: "/.well-known/a..b/%20%3A" },
      { pathRegex: "/admin(//)?.*" },
      { pathRegex: "/a/*b" },
      { pathRegex: "/x|//y" },
      { pathRegex: "/a/[./]+/b" },
      { pathRegex: "/v[0-9]+\\.[0-9]+/.*" },
    ])
      expect(errors(deny(test)), JSON.stringify(test)).toEqual([]);
  });

  it("accepts only fixed points of the evaluator's normalizer, and suggests one for every path it refuses (property)", () => {
    const rnd = seededRandom(21);
    const alphabet = ["/", "/", "/", ".", ".", "%", "2", "e", "E", "f", "F", "5", "c", "4", "1", "a", "b", "\\", "?", ";", "{", " ", "\u00e9", "~", "-"];
    const paths = [
      ...new Set(Array.from({ length: 300 }, () => `/${Array.from({ length: 1 + Math.floor(rnd() * 9) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join("")}`)),
    ];
    const field = (k: number) => (k % 2 === 0 ? "pathExact" : "pathPrefix");
    const spec = webCallsHttpApi([...paths.map((path, k) => ({ action: "deny", [field(k)]: path })), { action: "allow", pathPrefix: "/" }]);
    const refused = new Map(
      errors(spec)
        .filter((e) => /\.path(Exact|Prefix)$/.test(e.path))
        .map((e) => [Number(/permissions\[(\d+)\]/.exec(e.path)![1]), /write path(?:Exact|Prefix): (".*")$/.exec(e.message)![1]!] as const),
    );
    const evaluator = TrafficEvaluator.fromStack(synthAllStacks(spec).intentions);
    const normalize = (path: string) => evaluator.normalizedPath(path);
    let accepted = 0;
    paths.forEach((path, k) => {
      const write = refused.get(k);
      if (write === undefined) {
        accepted++;
        expect(normalize(path), path).toBe(path);
      } else expect(normalize(JSON.parse(write)), `${path} -> ${write}`).toBe(JSON.parse(write));
    });
    // Not vacuous: the draw holds both kinds.
    expect(accepted).toBeGreaterThan(20);
    expect(refused.size).toBeGreaterThan(50);
    // The parts the regex check looks for are exactly absent from every normalized path.
    for (const path of paths) {
      let normal: string | undefined;
      try {
        normal = normalize(path.split(/[?#]/)[0]!);
      } catch {
        continue;
      }
      if (normal !== undefined) expect(unnormalizedPart(normal, evaluator.inboundNormalization()), `${path} -> ${normal}`).toBeUndefined();
    }
  });
});

describe("an allow behind an earlier deny does not count", () => {
  // /tmp/rev/v2.yaml: Consul takes the first matching permission, so deny / hides the allow after it.
  const fixture = (deny: object) =>
    webCallsHttpApi([
      { action: "deny", ...deny },
      { action: "allow", methods: ["GET", "HEAD"], pathPrefix: "/api" },
    ]);
  const denied = { path: "services.web.upstreams[0]", message: expect.stringMatching(/the permissions of intentions\[0\] allow it no request/) };

  it("fails when a header-free deny covers the allow's methods and path", () => {
    expect(errors(fixture({ pathPrefix: "/" }))).toContainEqual(denied);
    expect(errors(fixture({ pathPrefix: "/ap", methods: ["GET", "HEAD", "POST"] }))).toContainEqual(denied);
  });

  it("passes when the deny misses a method, a path, or tests a header", () => {
    expect(errors(fixture({ pathPrefix: "/", methods: ["GET"] }))).toEqual([]);
    expect(errors(fixture({ pathPrefix: "/admin" }))).toEqual([]);
    expect(errors(fixture({ pathPrefix: "/", headers: [{ name: "x-debug", present: true }] }))).toEqual([]);
  });
});

describe("a * intention that denies is not outranked by a declared caller", () => {
  // /tmp/rev/v1b.yaml and v3b.yaml: web's upstream gives it an exact source, which Consul matches before *.
  const fixture = (intentions: object[], upstreams: Upstream[] = [{ destination: "api" }]) =>
    mesh({ web: { upstreams }, batch: {}, api: { protocol: "http" } }, { intentions: intentions as never });
  const star = {
    source: "*",
    destination: "api",
    permissions: [
      { action: "deny", methods: ["DELETE"] },
      { action: "allow", methods: ["GET"] },
    ],
  };

  it("fails for a deny permission or action, naming the callers and the fix", () => {
    expect(errors(fixture([star]))).toContainEqual({
      path: "intentions[0]",
      message: expect.stringMatching(/web declares api as an upstream.*the deny never applies to web\. Write an intention per caller \(source: web, destination: api\)/),
    });
    expect(errors(fixture([{ source: "*", destination: "api", action: "deny" }])).map((e) => e.path)).toContain("intentions[0]");
  });

  it("passes when each caller has its own intention, or nobody declares the upstream", () => {
    const own = { source: "web", destination: "api", permissions: [{ action: "allow", methods: ["GET"] }] };
    expect(errors(fixture([own, { source: "*", destination: "api", action: "deny" }]))).toEqual([]);
    expect(errors(fixture([{ source: "*", destination: "api", action: "deny" }], []))).toEqual([]);
  });
});

describe("an allow permission serves a declared upstream", () => {
  const fixture = (source: string) =>
    mesh(
      { web: { upstreams: [{ destination: "api" }] }, batch: {}, api: { protocol: "http" } },
      {
        intentions: [
          {
            source,
            destination: "api",
            permissions: [
              { action: "allow", methods: ["GET"] },
              { action: "deny", pathPrefix: "/" },
            ],
          },
        ],
      },
    );

  it("fails when the source does not call the destination (a dead permission)", () => {
    expect(errors(fixture("batch"))).toEqual([
      { path: "intentions[0].permissions[0]", message: expect.stringMatching(/allows requests nothing makes: batch declares no upstream api/) },
    ]);
  });

  it("fails for * when every caller has a source of its own (a declared upstream allows everything, and Consul matches it first)", () => {
    expect(errors(fixture("*"))).toContainEqual({
      path: "intentions[0].permissions[0]",
      message: expect.stringMatching(/every caller of api \(web\) has a source of its own, which Consul matches before \*/),
    });
  });

  it("passes for the caller's own intention", () => expect(errors(fixture("web"))).toEqual([]));
});

describe("the timeout budget along each call path", () => {
  // edge -> web -> api -> db: web tries api 3 times, and each try can wait api's 2s for db.
  const chain = (webTimeout: string) =>
    mesh({
      edge: { upstreams: [{ destination: "web", timeout: "10s" }] },
      web: { protocol: "http", upstreams: [{ destination: "api", timeout: webTimeout, retries: { attempts: 3, on: ["5xx"], idempotent: true } }] },
      api: { protocol: "http", upstreams: [{ destination: "db", timeout: "2s" }] },
      db: { protocol: "http" },
    });

  it("fails when the inner retries outlive the outer timeout, naming the whole path", () => {
    expect(errors(chain("4s"))).toEqual([
      {
        path: "services.web.upstreams[0].timeout",
        message:
          "call path edge -> web -> api -> db: web tries api 3 times, and each try waits up to 2s for api's call to db, 6s in all, beyond the 4s web allows for api: the outer timeout cuts the inner calls short while they still work. Raise this timeout to at least 6s, or lower api's timeout for db or the attempts",
      },
    ]);
  });

  it("passes when the outer timeout covers them", () => expect(errors(chain("6s"))).toEqual([]));

  it("counts Consul's 15s default for an L7 call without a timeout", () => {
    const spec = mesh({ web: { upstreams: [{ destination: "api" }] }, api: { protocol: "http", upstreams: [{ destination: "db", timeout: "20s" }] }, db: { protocol: "http" } });
    expect(errors(spec).map((e) => e.message)).toEqual([
      expect.stringMatching(/^call path web -> api -> db: web's call to api waits up to 20s for api's call to db, beyond the 15s \(Consul's default\)/),
    ]);
  });

  it("adds up the callee's own calls: one after another is their worst case", () => {
    const spec = (timeout: string) =>
      mesh({
        web: { upstreams: [{ destination: "api", timeout }] },
        api: {
          protocol: "http",
          upstreams: [
            { destination: "db", timeout: "2s" },
            { destination: "cache", timeout: "3s" },
          ],
        },
        db: { protocol: "http" },
        cache: { protocol: "http" },
      });
    expect(errors(spec("4s"))).toEqual([
      {
        path: "services.web.upstreams[0].timeout",
        message:
          "call path web -> api -> cache: web's call to api waits up to 5s for api's calls to cache (3s) and db (2s), one after another at worst, beyond the 4s web allows for api: the outer timeout cuts the inner calls short while they still work. Raise this timeout to at least 5s, or lower api's timeouts for its upstreams",
      },
    ]);
    expect(errors(spec("5s"))).toEqual([]);
  });

  it("ends on a cycle: a call back to the caller is not a nested call", () => {
    const spec = mesh({ aa: { protocol: "http", upstreams: [{ destination: "bb", timeout: "1s" }] }, bb: { protocol: "http", upstreams: [{ destination: "aa", timeout: "1s" }] } });
    expect(errors(spec)).toEqual([]);
  });
});

describe("the timeout budget through a route to another service", () => {
  // web -> api, whose router hands /orders to orders, which calls db: web's timeout for api covers orders's call too.
  const routed = (webTimeout: string) => {
    const spec = mesh(
      {
        web: { upstreams: [{ destination: "api", timeout: webTimeout }] },
        api: { protocol: "http" },
        orders: { protocol: "http", upstreams: [{ destination: "db", timeout: "4s" }] },
        db: { protocol: "http" },
      },
      { intentions: [{ source: "web", destination: "orders", action: "allow" }] },
    );
    (spec.services as Record<string, Record<string, unknown>>).api!.routes = [{ pathPrefix: "/orders", service: "orders" }];
    return spec;
  };

  it("fails when the routed service's calls outlive the caller's timeout, naming the route in the path", () => {
    expect(errors(routed("3s"))).toEqual([
      {
        path: "services.web.upstreams[0].timeout",
        message:
          "call path web -> api (routed to orders) -> db: web's call to api (routed to orders) waits up to 4s for orders's call to db, beyond the 3s web allows for api: the outer timeout cuts the inner calls short while they still work. Raise this timeout to at least 4s, or lower orders's timeout for db",
      },
    ]);
  });

  it("passes when the caller's timeout covers them", () => expect(errors(routed("5s"))).toEqual([]));
});

describe("a timeout over a tcp call", () => {
  // web -> api (timeout) -> db over tcp: nothing bounds api's call to db.
  const fixture = (timeout?: string) =>
    mesh({ web: { upstreams: [{ destination: "api", ...(timeout ? { timeout } : {}) }] }, api: { protocol: "http", upstreams: [{ destination: "db" }] }, db: {} });

  it("warns, naming the call path, when the caller's timeout cannot cover the callee's tcp calls", () => {
    expect(traffic(fixture("3s")).warnings).toEqual([
      {
        path: "services.web.upstreams[0].timeout",
        message: expect.stringMatching(/^call path web -> api -> db: api calls db over tcp, which no timeout bounds, so web's 3s may end/),
      },
    ]);
    expect(traffic(fixture("3s")).errors).toEqual([]);
  });

  it("is quiet without a declared timeout", () => expect(traffic(fixture()).warnings).toEqual([]));
});

describe("retry amplification", () => {
  const retrying = (destination: string) => ({ destination, timeout: "30s", retries: { attempts: 2, on: ["connect-failure"], idempotent: true } });
  const chain = (max?: number) =>
    mesh(
      {
        aa: { protocol: "http", upstreams: [retrying("bb")] },
        bb: { protocol: "http", upstreams: [retrying("cc")] },
        cc: { protocol: "http", upstreams: [retrying("dd")] },
        dd: { protocol: "http" },
      },
      max === undefined ? {} : { traffic: { maxRetryAmplification: max } },
    );

  it("fails when the attempts along a path multiply past the bound (default 4)", () => {
    expect(errors(chain()).filter((e) => e.path.endsWith(".attempts"))).toEqual([
      {
        path: "services.cc.upstreams[0].retries.attempts",
        message: expect.stringMatching(/^call path aa -> bb -> cc -> dd multiplies attempts to 8 \(2 x 2 x 2\), over traffic\.maxRetryAmplification 4/),
      },
    ]);
  });

  it("passes under a bound the spec raises", () => expect(errors(chain(8)).filter((e) => e.path.endsWith(".attempts"))).toEqual([]));

  // aa retries bb, whose router hands /orders to orders, which retries dd 3 times: a failure of dd becomes 6 requests.
  const routed = (max?: number) => {
    const spec = mesh(
      {
        aa: { protocol: "http", upstreams: [retrying("bb")] },
        bb: { protocol: "http" },
        orders: { protocol: "http", upstreams: [{ ...retrying("dd"), retries: { attempts: 3, on: ["connect-failure"], idempotent: true } }] },
        dd: { protocol: "http" },
      },
      { intentions: [{ source: "aa", destination: "orders", action: "allow" }], ...(max === undefined ? {} : { traffic: { maxRetryAmplification: max } }) },
    );
    (spec.services as Record<string, Record<string, unknown>>).bb!.routes = [{ pathPrefix: "/orders", service: "orders" }];
    return spec;
  };

  it("follows a route to another service: its retries multiply the caller's", () => {
    const attempts = (spec: MeshSpecInput) => errors(spec).filter((e) => e.path.endsWith(".attempts"));
    expect(attempts(routed())).toEqual([
      {
        path: "services.orders.upstreams[0].retries.attempts",
        message: expect.stringMatching(/^call path aa -> bb \(routed to orders\) -> dd multiplies attempts to 6 \(2 x 3\), over traffic\.maxRetryAmplification 4/),
      },
    ]);
    expect(attempts(routed(6))).toEqual([]);
  });

  it("terminates on a cycle of retrying calls: a path ends where it would repeat a service, and each is reported once", () => {
    const thrice = (destination: string) => ({ ...retrying(destination), retries: { attempts: 3, on: ["connect-failure"], idempotent: true } });
    const spec = mesh({
      aa: { protocol: "http", upstreams: [thrice("bb")] },
      bb: { protocol: "http", upstreams: [thrice("cc")] },
      cc: { protocol: "http", upstreams: [thrice("aa")] },
    });
    const found = errors(spec).filter((e) => e.path.endsWith(".attempts"));
    expect(found.map((e) => e.message.split(" multiplies")[0])).toEqual(["call path aa -> bb -> cc", "call path bb -> cc -> aa", "call path cc -> aa -> bb"]);
    expect(traffic(spec).warnings).toEqual([]);
  });

  it("bounds the walk on a dense graph, with a warning instead of a hang", () => {
    // 14 services each calling every other with retries: more simple paths than MAX_PATH_STEPS.
    const names = Array.from({ length: 14 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    const spec = mesh(Object.fromEntries(names.map((n) => [n, { protocol: "http", upstreams: names.filter((o) => o !== n).map((o) => retrying(o)) }])), {
      traffic: { maxRetryAmplification: 100 },
    });
    const started = Date.now();
    const result = traffic(spec);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.warnings).toEqual([{ path: "traffic.maxRetryAmplification", message: expect.stringContaining(`${MAX_PATH_STEPS} steps`) }]);
  });
});

describe("retries repeat only idempotent requests", () => {
  const fixture = (intention: object | undefined, idempotent = false, protocol = "http") =>
    mesh(
      { web: { upstreams: [{ destination: "api", retries: { attempts: 2, on: ["reset"], idempotent } }] }, api: { protocol } },
      intention ? { intentions: [{ source: "web", destination: "api", ...intention }] as never } : {},
    );

  it("fails when the caller may send POST or PATCH (a plain allow lets it send anything)", () => {
    expect(errors(fixture(undefined))).toEqual([
      { path: "services.web.upstreams[0].retries.idempotent", message: expect.stringMatching(/let web send POST, PATCH, CONNECT: Envoy would repeat/) },
    ]);
    expect(errors(fixture(undefined, false, "grpc"))[0]!.message).toMatch(/every gRPC call is a POST/);
  });

  it("passes when it retries only failures before the request was sent (connect-failure, refused-stream)", () => {
    const unsent = (on: string[], statusCodes: number[] = []) =>
      mesh({ web: { upstreams: [{ destination: "api", retries: { attempts: 2, on, statusCodes } }] }, api: { protocol: "http" } });
    expect(errors(unsent(["connect-failure", "refused-stream"]))).toEqual([]);
    expect(errors(unsent(["connect-failure", "reset"])).map((e) => e.path)).toEqual(["services.web.upstreams[0].retries.idempotent"]);
    expect(errors(unsent(["connect-failure"], [503])).map((e) => e.path)).toEqual(["services.web.upstreams[0].retries.idempotent"]);
  });

  it("passes when its permissions allow only idempotent methods, or it declares its requests idempotent", () => {
    expect(errors(fixture({ permissions: [{ action: "allow", methods: ["GET", "PUT"] }] }))).toEqual([]);
    expect(errors(fixture(undefined, true))).toEqual([]);
  });
});

describe("retries through a route to another service", () => {
  // web may send api only GET, but api's router hands /orders to orders, whose intentions decide those requests, and retries them too.
  const routed = (orders: object, route: object = {}) => {
    const spec = mesh(
      { web: { upstreams: [{ destination: "api", retries: { attempts: 2, on: ["reset"] } }] }, api: { protocol: "http" }, orders: { protocol: "http" } },
      {
        intentions: [
          { source: "web", destination: "api", permissions: [{ action: "allow", methods: ["GET"] }] },
          { source: "web", destination: "orders", ...orders },
        ] as never,
      },
    );
    (spec.services as Record<string, Record<string, unknown>>).api!.routes = [{ pathPrefix: "/orders", service: "orders", ...route }];
    return spec;
  };

  it("fails when the route's target lets the caller send POST, naming the route", () => {
    expect(errors(routed({ action: "allow" }))).toEqual([
      {
        path: "services.web.upstreams[0].retries.idempotent",
        message: expect.stringContaining(
          "let web send POST, PATCH, CONNECT (POST, PATCH, CONNECT through api's routes[0] to orders, whose intentions decide them): Envoy would repeat",
        ),
      },
    ]);
  });

  it("passes when the route or the target's permissions carry only idempotent methods, and counts those permissions as used", () => {
    expect(errors(routed({ action: "allow" }, { methods: ["GET", "PUT"] }))).toEqual([]);
    // Not a dead permission: web's requests reach orders through api's route.
    expect(errors(routed({ permissions: [{ action: "allow", methods: ["GET"] }] }))).toEqual([]);
  });
});

describe("the rules list", () => {
  it("runs the traffic rule with the others", () => expect(RULES).toContain(checkTraffic));
});

describe("npm run render", () => {
  it("prints the edge matrix: who calls whom, what the intentions allow, the timeout, the retries and the split", () => {
    expect(trafficTable(loadSpecFile("examples/three-tier.yaml").plan).split("\n")).toEqual([
      "source  destination  protocol  allowed                            timeout  retries                                    split",
      "------  -----------  --------  ---------------------------------  -------  -----------------------------------------  ------------------------------------",
      "api     db-proxy     tcp       *                                  -        -                                          -",
      "web     api          http      deny * /admin*; allow GET,HEAD /*  3s       2 attempts on 5xx, connect-failure, reset  [x-canary=1] -> v2; v1 90 %, v2 10 %",
    ]);
    expect(trafficTable(planOf(mesh({ web: { upstreams: [{ destination: "api" }] }, api: { protocol: "grpc" } })))).toContain(
      "web     api          grpc      *        15s (default)  -        -",
    );
  });
});
