// Every Consul config entry the intentions stack synthesizes, judged field by field against the
// config-entry reference of the pinned Consul (tools/judges/consul-config-entry-reference.ts); and
// the judge itself judged: each kind of mistake is reported with its path, or it proves nothing.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSpecFile } from "../lib/pipeline";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import { DEFAULT_VERSIONS } from "../lib/versions";
import { judgeConfigEntries, judgeConfigEntry } from "../tools/judges/consul-config-entries";
import { CONFIG_ENTRY_REFERENCE_VERSION } from "../tools/judges/consul-config-entry-reference";
import { synthAllStacks } from "./support/synth";

const EXAMPLES = fs
  .readdirSync("examples")
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => path.join("examples", f));

/** Every L7 field at once: protocol, permissions with headers, a router with retries, limits. */
const L7_SPEC: MeshSpecInput = {
  ...DEFAULT_SPEC,
  services: {
    ...DEFAULT_SPEC.services,
    "http-server": { ...DEFAULT_SPEC.services["http-server"]!, protocol: "http" },
    "http-client": {
      ...DEFAULT_SPEC.services["http-client"]!,
      upstreams: [
        {
          destination: "http-server",
          localBindPort: 8085,
          timeout: "1500ms",
          retries: { attempts: 3, on: ["connect-failure"], statusCodes: [503], idempotent: true },
          limits: { maxConnections: 10, maxPendingRequests: 5, maxConcurrentRequests: 20 },
        },
      ],
    },
  },
  intentions: [
    {
      source: "http-client",
      destination: "http-server",
      permissions: [
        { action: "deny", pathPrefix: "/internal" },
        { action: "allow", pathExact: "/admin", headers: [{ name: "x-debug", regex: "^1$", invert: true }] },
        { action: "allow", methods: ["GET"], pathRegex: "/v[0-9]+/.*" },
      ],
    },
  ],
};

describe("the config entries the project synthesizes", () => {
  it("are judged against the reference of the pinned Consul", () => expect(CONFIG_ENTRY_REFERENCE_VERSION).toBe(DEFAULT_VERSIONS.consul));

  it.each(EXAMPLES)("%s: every entry passes", (file) => {
    const intentions = synthAllStacks(loadSpecFile(file).spec as MeshSpecInput).intentions;
    expect(Object.keys(intentions.resource.consul_config_entry).length).toBeGreaterThan(0);
    expect(judgeConfigEntries(intentions)).toEqual([]);
  });

  it("every L7 field at once passes", () => {
    const intentions = synthAllStacks(L7_SPEC).intentions;
    expect(Object.values(intentions.resource.consul_config_entry).map((e: any) => e.kind)).toEqual(
      expect.arrayContaining(["service-defaults", "service-router", "service-intentions", "mesh"]),
    );
    expect(judgeConfigEntries(intentions)).toEqual([]);
  });
});

describe("judgeConfigEntry", () => {
  it("rejects a misspelt field with a suggestion, and an unknown one where it stands", () => {
    expect(judgeConfigEntry("service-defaults", "api", { Protocl: "http", UpstreamConfig: { Overrides: [{ Name: "db", Limits: { MaxConnection: 5 } }] } })).toEqual([
      "Protocl: unknown field; did you mean Protocol?",
      "UpstreamConfig.Overrides[0].Limits.MaxConnection: unknown field in UpstreamConfig.Overrides[0].Limits; did you mean MaxConnections?",
    ]);
    expect(judgeConfigEntry("service-router", "api", { Routes: [{ Destination: { PerTryTimeout: "1s" } }] })).toEqual([
      "Routes[0].Destination.PerTryTimeout: unknown field in Routes[0].Destination",
    ]);
  });

  it("judges the mesh entry's request normalization: a misspelt field, a value outside Consul's set, another name", () => {
    expect(judgeConfigEntry("mesh", "default", { HTTP: { Incoming: { RequestNormalization: { MergeSlash: true, PathWithEscapedSlashesAction: "REJECT" } } } })).toEqual([
      "HTTP.Incoming.RequestNormalization.MergeSlash: unknown field in HTTP.Incoming.RequestNormalization; did you mean MergeSlashes?",
      expect.stringMatching(/^HTTP\.Incoming\.RequestNormalization\.PathWithEscapedSlashesAction: "REJECT" is not one of "", "IMPLEMENTATION_SPECIFIC_DEFAULT", /),
      'Name: "default"; Consul\'s mesh entry is named "mesh"',
    ]);
  });

  it("rejects wrong types and values outside Consul's sets", () => {
    expect(
      judgeConfigEntry("service-router", "api", {
        Routes: [
          {
            Match: { HTTP: { PathPrefix: "/", Methods: ["FETCH"] } },
            Destination: { RequestTimeout: 5, NumRetries: "2", RetryOn: ["5xx", "timeout"], RetryOnStatusCodes: [503, 700] },
          },
        ],
      }),
    ).toEqual([
      'Routes[0].Destination.NumRetries: expected an integer, got string "2"',
      'Routes[0].Destination.RequestTimeout: expected a duration string such as "10s", got number 5',
      expect.stringMatching(/^Routes\[0\]\.Destination\.RetryOn: "timeout" is not one of "5xx", /),
      "Routes[0].Destination.RetryOnStatusCodes: 700 is outside 100-599",
      'Routes[0].Match.HTTP.Methods: "FETCH" is not one of "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"',
    ]);
    expect(judgeConfigEntry("service-defaults", "api", { Protocol: "https" })).toEqual(['Protocol: "https" is not one of "tcp", "http", "http2", "grpc"']);
  });

  it("applies Consul's cross-field checks: one of Action or Permissions, one path match, one header test", () => {
    expect(
      judgeConfigEntry("service-intentions", "api", {
        Sources: [
          { Name: "web", Action: "allow", Permissions: [{ Action: "allow", HTTP: { PathExact: "/a", PathPrefix: "/b", Header: [{ Name: "x", Exact: "1", Prefix: "2" }] } }] },
          { Name: "batch" },
        ],
      }),
    ).toEqual([
      "Sources[0]: Consul takes exactly one of Action or Permissions",
      "Sources[0].Permissions[0].HTTP: sets PathExact and PathPrefix; Consul takes at most one of PathExact, PathPrefix or PathRegex",
      "Sources[0].Permissions[0].HTTP.Header[0]: Consul takes exactly one of Present, Exact, Prefix, Suffix or Regex, got 2",
      "Sources[1]: Consul takes exactly one of Action or Permissions",
    ]);
  });

  it("flags Enterprise and read-only fields, Kind or Name in the body, and a kind without a table", () => {
    expect(judgeConfigEntry("service-intentions", "api", { Kind: "service-intentions", Sources: [{ Name: "web", Action: "allow", Namespace: "team", Precedence: 9 }] })).toEqual([
      "Kind: set by the resource's kind; remove it from config_json",
      "Sources[0].Namespace: a Consul Enterprise field; Consul CE 2.0.1 refuses it",
      "Sources[0].Precedence: computed by Consul, which ignores a written value; remove it",
    ]);
    expect(judgeConfigEntry("ingress-gateway", "edge", {})).toEqual([expect.stringMatching(/^kind "ingress-gateway": no field table for it/)]);
  });

  it("judges a service-resolver's subsets: a misspelt field, a subset name Consul refuses, a DefaultSubset that is no subset", () => {
    const good = { DefaultSubset: "v1", Subsets: { v1: { Filter: "Service.Meta.version == v1" }, v2: { Filter: "Service.Meta.version == v2", OnlyPassing: true } } };
    expect(judgeConfigEntry("service-resolver", "api", good)).toEqual([]);
    expect(judgeConfigEntry("service-resolver", "api", { DefaultSubset: "v3", Subsets: { v1: { Filtr: "Service.Meta.version == v1" }, V_2: { Filter: 2 } } })).toEqual([
      "Subsets.V_2.Filter: expected a string, got number 2",
      "Subsets.v1.Filtr: unknown field in Subsets.v1; did you mean Filter?",
      "Subsets.V_2: a subset name must be a DNS label (lowercase letters, digits and '-'); Consul uses it in SNI names",
      'DefaultSubset: "v3" is not one of the Subsets',
    ]);
    expect(judgeConfigEntry("service-resolver", "api", { Subsets: ["v1"] })).toEqual(["Subsets: expected a map of objects, got a list"]);
  });

  it("judges a service-splitter: weights add up to 100, each within 0-100, fields of a split", () => {
    expect(
      judgeConfigEntry("service-splitter", "api", {
        Splits: [
          { Weight: 90, ServiceSubset: "v1" },
          { Weight: 10, ServiceSubset: "v2" },
        ],
      }),
    ).toEqual([]);
    expect(
      judgeConfigEntry("service-splitter", "api", {
        Splits: [
          { Weight: 90, ServiceSubset: "v1" },
          { Weight: 20, ServiceSubst: "v2" },
        ],
      }),
    ).toEqual(["Splits[1].ServiceSubst: unknown field in Splits[1]; did you mean ServiceSubset?", "Splits: the weights add up to 110; Consul requires 100"]);
    expect(judgeConfigEntry("service-splitter", "api", { Splits: [{ Weight: 150 }, { ServiceSubset: "v2" }] })).toEqual([
      "Splits[0].Weight: 150 is outside 0-100",
      "Splits[1]: missing Weight, which Consul requires",
      "Splits: the weights add up to 150; Consul requires 100",
    ]);
  });
});
