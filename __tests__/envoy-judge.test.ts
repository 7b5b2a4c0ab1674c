// The Envoy judge (tools/judges/envoy.ts) judged: the rendered tls-edge config must pass, and every
// rule must reject a known-bad config with a message that names the path and the reason.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tlsEdgeEnvoyConfigText } from "../lib/plan/tls-edge";
import { renderText } from "../lib/render/text";

const renderEnvoyTlsConfig = ({ appPort }: { appPort: number }) => renderText(tlsEdgeEnvoyConfigText(appPort));
import { DEFAULT_VERSIONS, minorOf } from "../lib/versions";
import { ENVOY_API, ENVOY_API_ROOT, envoyApiStats, judgeEnvoyBootstrap, readEnvoyApiManifest, vendoredEnvoyApiProblems } from "../tools/judges/envoy";
import { compareWithVendored, extractEnvoyApi } from "../tools/vendor-envoy-api";

const rendered = renderEnvoyTlsConfig({ appPort: 8080 });

/**
 * The rendered config with the first `from` replaced by `to`. The TLS listener and its cluster
 * come first, before the ready listener and the admin cluster, which repeat some of its lines.
 */
function mutate(from: string, to: string): string {
  const at = rendered.indexOf(from);
  if (at < 0) throw new Error(`expected ${JSON.stringify(from)} in the rendered config`);
  return rendered.slice(0, at) + to + rendered.slice(at + from.length);
}

const HCM = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
const TLS = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config";
const CLUSTER = "static_resources.clusters[0]";
const UPSTREAM_SOCKET = `${CLUSTER}.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address`;
const ROUTE = `${HCM}.route_config.virtual_hosts[0].routes[0]`;

beforeAll(() => {
  envoyApiStats(); // load the protos once, outside the timed tests
});

describe("the protos the judge checks against", () => {
  const apiDir = path.join(ENVOY_API_ROOT, ENVOY_API.dataPlaneApiCommit);

  it("loads once, in seconds, and names what it left out", () => {
    const stats = envoyApiStats();
    expect(stats).toBe(envoyApiStats());
    expect(stats.loadMilliseconds).toBeLessThan(10_000);
    expect(stats.protoFiles).toBeGreaterThan(300);
    // These import OpenTelemetry protos that the npm package does not ship.
    expect(stats.skippedFiles).toEqual([
      "envoy/extensions/access_loggers/open_telemetry/v3/logs_service.proto",
      "envoy/extensions/stat_sinks/open_telemetry/v3/open_telemetry.proto",
    ]);
    // Every PGV rule kind used by the loaded protos is evaluated.
    expect(stats.unenforcedRules).toEqual([]);
    expect(ENVOY_API.rootMessage).toBe("envoy.config.bootstrap.v3.Bootstrap");
  });

  it("is the API of the pinned Envoy line: a test to fail when the pin moves past the reviewed line", () => {
    expect(minorOf(DEFAULT_VERSIONS.envoy)).toBe(ENVOY_API.reviewedForEnvoy);
    expect(minorOf(ENVOY_API.envoyRelease)).toBe(ENVOY_API.reviewedForEnvoy);
  });

  it("is the API the README names", () => {
    const readme = fs.readFileSync("README.md", "utf8").replace(/\s+/g, " ");
    expect(readme).toContain(`Envoy ${ENVOY_API.envoyRelease} (envoyproxy/data-plane-api at ${ENVOY_API.dataPlaneApiCommit.slice(0, 7)} of ${ENVOY_API.commitDate}`);
    expect(readme).toContain(`The Envoy judge reads the API of the Envoy ${ENVOY_API.reviewedForEnvoy} line**: data-plane-api ${ENVOY_API.dataPlaneApiCommit.slice(0, 7)}`);
    expect(readme).toContain(`\`${ENVOY_API.depsPackage}\` ${ENVOY_API.depsVersion}`);
  });

  it("is data-plane-api's files at the commit ENVOY_API names, as the MANIFEST lists them", () => {
    const manifest = readEnvoyApiManifest(apiDir);
    expect(manifest).toMatchObject({ commit: ENVOY_API.dataPlaneApiCommit, commitDate: ENVOY_API.commitDate, envoyCommit: ENVOY_API.envoyCommit });
    expect(manifest.files.map((f) => f.path)).toContain("envoy/config/bootstrap/v3/bootstrap.proto");
    expect(vendoredEnvoyApiProblems(apiDir)).toEqual([]);
    // One directory: the commit the judge reads.
    expect(fs.readdirSync(ENVOY_API_ROOT)).toEqual([ENVOY_API.dataPlaneApiCommit]);
  });

  it("finds a hand edit, a removed file and an added one", () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-api-"));
    try {
      fs.cpSync(apiDir, copy, { recursive: true });
      const bootstrap = path.join(copy, "envoy/config/bootstrap/v3/bootstrap.proto");
      fs.writeFileSync(bootstrap, fs.readFileSync(bootstrap, "utf8").replace("string name = 1;", "string nam = 1;"));
      fs.rmSync(path.join(copy, "envoy/config/core/v3/address.proto"));
      fs.writeFileSync(path.join(copy, "envoy/extra.proto"), 'syntax = "proto3";\n');
      const blob = readEnvoyApiManifest(copy).files.find((f) => f.path === "envoy/config/bootstrap/v3/bootstrap.proto")!.blob;
      expect(vendoredEnvoyApiProblems(copy)).toEqual([
        `envoy/config/bootstrap/v3/bootstrap.proto: differs from data-plane-api ${ENVOY_API.dataPlaneApiCommit.slice(0, 7)} (blob ${blob.slice(0, 7)} in MANIFEST)`,
        "envoy/config/core/v3/address.proto: missing",
        "envoy/extra.proto: not in the MANIFEST",
      ]);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  // The mirror of github.com/envoyproxy/data-plane-api the files were extracted from, where present.
  const gitDir = process.env.DATA_PLANE_API_GIT_DIR ?? "/work/.mirror/envoyproxy+data-plane-api/repo";
  it.skipIf(!fs.existsSync(gitDir))("is what tools/vendor-envoy-api.ts extracts from data-plane-api at that commit", () => {
    const extracted = extractEnvoyApi(gitDir, ENVOY_API.dataPlaneApiCommit);
    expect(extracted.manifest.files.length).toBeGreaterThan(300);
    expect(compareWithVendored(extracted)).toEqual([]);
  });

  it("says why a type it could not load cannot be checked", () => {
    const errors = judgeEnvoyBootstrap(
      mutate(
        "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
        "type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig",
      ),
    );
    expect(errors).toEqual([
      `${HCM}.access_log[0].typed_config.@type: cannot check envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig: its proto envoy/extensions/access_loggers/open_telemetry/v3/logs_service.proto imports opentelemetry/proto/common/v1/common.proto, which @grpc/grpc-js-xds does not ship`,
    ]);
  });
});

describe("judgeEnvoyBootstrap on the tls-edge config", () => {
  it("passes the rendered config", () => {
    expect(judgeEnvoyBootstrap(rendered)).toEqual([]);
  });

  it("passes an empty Bootstrap (no field of Bootstrap is required)", () => {
    expect(judgeEnvoyBootstrap("{}")).toEqual([]);
  });

  it("is deterministic", () => {
    const bad = mutate("codec_type: AUTO", "codec_type: FOO\n          statPrefx: x");
    const first = judgeEnvoyBootstrap(bad);
    expect(first).toHaveLength(2);
    expect(judgeEnvoyBootstrap(bad)).toEqual(first);
  });

  it("rejects a misspelt field, with a did-you-mean", () => {
    expect(judgeEnvoyBootstrap(mutate("normalize_path: true", "normalise_path: true"))).toEqual([
      `${HCM}.normalise_path: unknown field "normalise_path" in envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager; did you mean normalize_path?`,
    ]);
  });

  it("rejects v2-only config: `config` instead of `typed_config`", () => {
    const v2 = mutate(
      "      - name: envoy.filters.network.http_connection_manager\n        typed_config:",
      "      - name: envoy.filters.network.http_connection_manager\n        config:",
    );
    expect(judgeEnvoyBootstrap(v2)).toEqual([
      `static_resources.listeners[0].filter_chains[0].filters[0].config: unknown field "config" in envoy.config.listener.v3.Filter; the name is reserved there (a field removed from the API, often a v2 one); did you mean typed_config?`,
    ]);
  });

  it("rejects v2-only config: a v2 @type", () => {
    const v2 = mutate("envoy.extensions.filters.http.router.v3.Router", "envoy.config.filter.http.router.v2.Router");
    expect(judgeEnvoyBootstrap(v2)).toEqual([
      `${HCM}.http_filters[0].typed_config.@type: envoy.config.filter.http.router.v2.Router is a v2 API type, which Envoy no longer accepts; use its v3 counterpart`,
    ]);
  });

  it("rejects v2-only config: `hosts` on a cluster", () => {
    expect(judgeEnvoyBootstrap(mutate("    type: STATIC\n", "    type: STATIC\n    hosts: [{socket_address: {address: 127.0.0.1, port_value: 8080}}]\n"))).toEqual([
      `${CLUSTER}.hosts: unknown field "hosts" in envoy.config.cluster.v3.Cluster; the name is reserved there (a field removed from the API, often a v2 one)`,
    ]);
  });

  it("rejects a string where a port number goes", () => {
    expect(judgeEnvoyBootstrap(mutate("port_value: 8080", 'port_value: "abc"'))).toEqual([
      `${UPSTREAM_SOCKET}.port_value: expected an integer (uint32: a number or a string of digits), got the string "abc"`,
    ]);
  });

  it("rejects an @type that names no message", () => {
    expect(judgeEnvoyBootstrap(mutate("http.router.v3.Router", "http.router.v3.Routr"))).toEqual([
      `${HCM}.http_filters[0].typed_config.@type: unknown message type envoy.extensions.filters.http.router.v3.Routr in the Envoy v3 API; did you mean envoy.extensions.filters.http.router.v3.Router?`,
    ]);
    expect(judgeEnvoyBootstrap(mutate('"@type": type.googleapis.com/envoy.extensions.filters.http.router', '"@type": example.com/envoy.extensions.filters.http.router'))).toEqual([
      `${HCM}.http_filters[0].typed_config.@type: type URL "example.com/envoy.extensions.filters.http.router.v3.Router" must be type.googleapis.com/<full message name>`,
    ]);
  });

  it("rejects an enum value that does not exist, by name or number", () => {
    expect(judgeEnvoyBootstrap(mutate("codec_type: AUTO", "codec_type: FOO"))).toEqual([
      `${HCM}.codec_type: "FOO" is not a value of enum envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType (values: AUTO, HTTP1, HTTP2, HTTP3)`,
    ]);
    expect(judgeEnvoyBootstrap(mutate("codec_type: AUTO", "codec_type: 9"))).toEqual([
      `${HCM}.codec_type: 9 is not a value of enum envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType (values: AUTO=0, HTTP1=1, HTTP2=2, HTTP3=3)`,
    ]);
    expect(judgeEnvoyBootstrap(mutate('tls_minimum_protocol_version: "TLSv1_2"', "tls_minimum_protocol_version: TLSv1_9"))).toEqual([
      `${TLS}.common_tls_context.tls_params.tls_minimum_protocol_version: "TLSv1_9" is not a value of enum envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol; did you mean TLSv1_0? (values: TLS_AUTO, TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3)`,
    ]);
  });

  it('rejects a duration that is not a "<seconds>s" string', () => {
    expect(judgeEnvoyBootstrap(mutate("connect_timeout: 1s", "connect_timeout: 1m"))).toEqual([
      `${CLUSTER}.connect_timeout: expected a duration string such as "1.5s" or "300s", got the string "1m"`,
    ]);
    expect(judgeEnvoyBootstrap(mutate("connect_timeout: 1s", "connect_timeout: 5"))).toEqual([
      `${CLUSTER}.connect_timeout: expected a duration string such as "1.5s" or "300s", got the number 5`,
    ]);
  });

  it("rejects a missing field that a PGV rule requires", () => {
    // HttpConnectionManager.stat_prefix: (validate.rules).string.min_len = 1.
    expect(judgeEnvoyBootstrap(mutate("          stat_prefix: ingress_https\n", ""))).toEqual([
      `${HCM}.stat_prefix: must be at least 1 character, got "" (unset) [PGV string.min_len]`,
    ]);
    // DataSource: oneof specifier with (validate.required) = true.
    expect(judgeEnvoyBootstrap(mutate('filename: "/etc/envoy-tls/key.pem"', "{}"))).toEqual([
      `${TLS}.common_tls_context.tls_certificates[0].private_key: oneof specifier of envoy.config.core.v3.DataSource requires one of filename, inline_bytes, inline_string, environment_variable [PGV validate.required]`,
    ]);
    // Route.match: (validate.rules).message.required = true.
    expect(judgeEnvoyBootstrap(mutate('              - match:\n                  prefix: "/"\n                route:', "              - route:"))).toEqual([
      `${ROUTE}.match: is required [PGV message.required]`,
    ]);
  });

  it("rejects two members of one oneof", () => {
    const both = mutate("          route_config:\n", "          rds: {route_config_name: r, config_source: {ads: {}}}\n          route_config:\n");
    expect(judgeEnvoyBootstrap(both)).toEqual([
      `${HCM}: oneof route_specifier of envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager takes at most one member, got rds, route_config`,
    ]);
  });
});

// The judge read the API of July 2024 (data-plane-api f8b75d1, between Envoy 1.31 and 1.32) before
// it read the 1.37 line's: each case below was judged the other way then.
describe("judgeEnvoyBootstrap knows the Envoy 1.37 API", () => {
  const ADMIN_ADDRESS = "      mode: 384\n";
  const TLS_LISTENER = "    per_connection_buffer_limit_bytes: 32768\n    filter_chains:\n    - transport_socket:\n";

  it("accepts fields added since July 2024 that these configs can use, and checks them", () => {
    // Admin.allow_paths (data-plane-api 634f5d4, 2025-12-09; Envoy 1.37.0): the admin endpoints served.
    expect(judgeEnvoyBootstrap(mutate(ADMIN_ADDRESS, `${ADMIN_ADDRESS}  allow_paths: [{exact: /ready}, {prefix: /stats}]\n`))).toEqual([]);
    expect(judgeEnvoyBootstrap(mutate(ADMIN_ADDRESS, `${ADMIN_ADDRESS}  allow_paths: [{}]\n`))).toEqual([
      "admin.allow_paths[0]: oneof match_pattern of envoy.type.matcher.v3.StringMatcher requires one of exact, prefix, suffix, safe_regex, contains, custom [PGV validate.required]",
    ]);
    // Listener.tcp_keepalive (data-plane-api feb9bf54, 2025-12-26; Envoy 1.37.0).
    expect(judgeEnvoyBootstrap(mutate(TLS_LISTENER, `    tcp_keepalive: {keepalive_time: 300}\n${TLS_LISTENER}`))).toEqual([]);
    expect(judgeEnvoyBootstrap(mutate(TLS_LISTENER, `    tcp_keepalive: {keepalive_time: soon}\n${TLS_LISTENER}`))).toEqual([
      'static_resources.listeners[0].tcp_keepalive.keepalive_time: expected an integer (uint32: a number or a string of digits), got the string "soon" (google.protobuf.UInt32Value)',
    ]);
  });

  it("rejects a field removed since, as Envoy 1.37 does", () => {
    // FilterChain.on_demand_configuration, removed by data-plane-api ca0e469a (2024-10-30): now reserved.
    expect(
      judgeEnvoyBootstrap(mutate(TLS_LISTENER, TLS_LISTENER.replace("- transport_socket:\n", "- on_demand_configuration: {rebuild_timeout: 15s}\n      transport_socket:\n"))),
    ).toEqual([
      'static_resources.listeners[0].filter_chains[0].on_demand_configuration: unknown field "on_demand_configuration" in envoy.config.listener.v3.FilterChain; the name is reserved there (a field removed from the API, often a v2 one)',
    ]);
  });

  it("rejects a type removed since: the OpenCensus tracer", () => {
    // envoy.config.trace.v3.OpenCensusConfig, deleted by data-plane-api 040c2d83 (2024-12-05).
    const tracing = mutate(
      "          stat_prefix: ingress_https\n",
      '          stat_prefix: ingress_https\n          tracing:\n            provider:\n              name: envoy.tracers.opencensus\n              typed_config: {"@type": type.googleapis.com/envoy.config.trace.v3.OpenCensusConfig}\n',
    );
    expect(judgeEnvoyBootstrap(tracing)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${HCM.replace(/[.[\]]/g, "\\$&")}\\.tracing\\.provider\\.typed_config\\.@type: unknown message type envoy\\.config\\.trace\\.v3\\.OpenCensusConfig in the Envoy v3 API`,
        ),
      ),
    ]);
  });

  it("says a service, admin or data message is not configuration", () => {
    expect(judgeEnvoyBootstrap(mutate("envoy.extensions.filters.http.router.v3.Router", "envoy.service.discovery.v3.DiscoveryRequest"))).toEqual([
      `${HCM}.http_filters[0].typed_config.@type: envoy.service.discovery.v3.DiscoveryRequest is not a configuration type: the judge loads Envoy's config, extension and type protos, not its service, admin or data protos (tools/vendor-envoy-api.ts)`,
    ]);
  });
});

describe("judgeEnvoyBootstrap, rule by rule", () => {
  const judge = (yaml: string): string[] => judgeEnvoyBootstrap(yaml);

  it("reads YAML as Envoy does: quoted scalars are strings, yes/on/y are bools", () => {
    expect(judge(mutate("port_value: 8080", 'port_value: "8080"'))).toEqual([]);
    expect(judge(mutate("use_remote_address: true", "use_remote_address: yes"))).toEqual([]);
    expect(judge(mutate("stat_prefix: ingress_https", "stat_prefix: on"))).toEqual([`${HCM}.stat_prefix: expected a string, got the boolean true (quote it)`]);
    expect(judge(mutate("stat_prefix: ingress_https", "stat_prefix: 443"))).toEqual([`${HCM}.stat_prefix: expected a string, got the number 443 (quote it)`]);
    expect(judge(mutate("stat_prefix: ingress_https", 'stat_prefix: "443"'))).toEqual([]);
  });

  it("accepts lowerCamel json names and case-insensitive enum names, as Envoy does", () => {
    expect(judge(mutate("stat_prefix: ingress_https", "statPrefix: ingress_https"))).toEqual([]);
    expect(judge(mutate("codec_type: AUTO", "codecType: auto"))).toEqual([]);
    expect(judge(mutate("codec_type: AUTO", "codec_type: 2"))).toEqual([]);
    expect(judge(mutate("stat_prefix: ingress_https", "statPrefix: a\n          stat_prefix: b"))).toEqual([
      `${HCM}.stat_prefix: field stat_prefix is set twice (as "statPrefix" and "stat_prefix")`,
    ]);
  });

  it("checks bools, lists, mappings and wrapper types", () => {
    expect(judge(mutate("use_remote_address: true", 'use_remote_address: "true"'))).toEqual([
      `${HCM}.use_remote_address: expected a bool (true or false), got the string "true" (google.protobuf.BoolValue)`,
    ]);
    expect(judge(mutate('alpn_protocols: ["h2", "http/1.1"]', "alpn_protocols: h2"))).toEqual([
      `${TLS}.common_tls_context.alpn_protocols: expected a list (repeated string), got the string "h2"`,
    ]);
    expect(judge(mutate("      filters:\n", "      filters:\n      - null\n"))).toEqual([
      "static_resources.listeners[0].filter_chains[0].filters[0]: a list element cannot be null",
    ]);
    expect(judge(mutate("  clusters:\n", "  clusters:\n  - [a]\n"))).toEqual([
      "static_resources.clusters[0]: expected a mapping (message envoy.config.cluster.v3.Cluster), got a list",
    ]);
    expect(judge(mutate("per_connection_buffer_limit_bytes: 32768\n    filter_chains:", "per_connection_buffer_limit_bytes: -1\n    filter_chains:"))).toEqual([
      "static_resources.listeners[0].per_connection_buffer_limit_bytes: -1 is out of range for uint32 [0, 4294967295] (google.protobuf.UInt32Value)",
    ]);
    expect(judge(mutate("per_connection_buffer_limit_bytes: 32768\n    filter_chains:", "per_connection_buffer_limit_bytes: 1.5\n    filter_chains:"))).toEqual([
      "static_resources.listeners[0].per_connection_buffer_limit_bytes: expected an integer (uint32), got the number 1.5, which has a fractional part (google.protobuf.UInt32Value)",
    ]);
  });

  it("takes 64-bit integers as strings, and checks their range", () => {
    const heap = (bytes: string): string =>
      `overload_manager:\n  resource_monitors:\n  - name: envoy.resource_monitors.fixed_heap\n    typed_config:\n      "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig\n      max_heap_size_bytes: ${bytes}\n`;
    expect(judge(heap("1073741824"))).toEqual([]);
    expect(judge(heap('"18446744073709551615"'))).toEqual([]);
    expect(judge(heap("18446744073709551616"))).toEqual([
      "overload_manager.resource_monitors[0].typed_config.max_heap_size_bytes: 18446744073709551616 is out of range for uint64 [0, 18446744073709551615]",
    ]);
  });

  it("checks maps: keys, and values as their message type", () => {
    const metadata = (value: string): string => `node:\n  id: edge\n  metadata: ${value}\n`;
    expect(judge(metadata("{a: 1, b: [x]}"))).toEqual([]); // google.protobuf.Struct is free-form
    expect(judge(metadata("[a]"))).toEqual(["node.metadata: expected a mapping (google.protobuf.Struct), got a list"]);
    const filterMetadata = (value: string): string => `node:\n  id: edge\n  dynamic_parameters: ${value}\n`;
    expect(judge(filterMetadata("{x: {params: {}}}"))).toEqual([]);
    expect(judge(filterMetadata("[x]"))).toEqual(["node.dynamic_parameters: expected a mapping (map<string, xds.core.v3.ContextParams>), got a list"]);
    expect(judge(filterMetadata("{x: {parms: {}}}"))).toEqual(['node.dynamic_parameters["x"].parms: unknown field "parms" in xds.core.v3.ContextParams; did you mean params?']);
  });

  it("checks Any payloads, and TypedStruct payloads as their type_url's message", () => {
    expect(judge(mutate('"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', "dynamic_stats: 3"))).toEqual([
      `${HCM}.http_filters[0].typed_config: "@type" is missing (google.protobuf.Any)`,
    ]);
    const typedStruct = (value: string): string =>
      mutate(
        '"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
        `"@type": type.googleapis.com/xds.type.v3.TypedStruct\n              type_url: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n              value: ${value}`,
      );
    expect(judge(typedStruct("{suppress_envoy_headers: true}"))).toEqual([]);
    expect(judge(typedStruct("{suppress_envoy_header: true}"))).toEqual([
      `${HCM}.http_filters[0].typed_config.value.suppress_envoy_header: unknown field "suppress_envoy_header" in envoy.extensions.filters.http.router.v3.Router; did you mean suppress_envoy_headers?`,
    ]);
  });

  it("checks durations in range and format", () => {
    expect(judge(mutate("connect_timeout: 1s", "connect_timeout: 0.000000001s"))).toEqual([]);
    expect(judge(mutate("connect_timeout: 1s", "connect_timeout: 1.0000000001s"))).toEqual([
      `${CLUSTER}.connect_timeout: expected a duration string such as "1.5s" or "300s", got the string "1.0000000001s"`,
    ]);
    expect(judge(mutate("connect_timeout: 1s", "connect_timeout: 315576000001s"))).toEqual([`${CLUSTER}.connect_timeout: duration 315576000001s exceeds 315576000000s`]);
  });

  it("enforces PGV numeric, duration, repeated, string, bool and header rules", () => {
    expect(judge(mutate("port_value: 8080", "port_value: 65536"))).toEqual([`${UPSTREAM_SOCKET}.port_value: must be <= 65535, got 65536 [PGV uint32.lte]`]);
    expect(judge(mutate("connect_timeout: 1s", "connect_timeout: 0s"))).toEqual([`${CLUSTER}.connect_timeout: must be > 0s, got 0s [PGV duration.gt]`]);
    expect(judge(mutate("request_headers_timeout: 10s", "request_headers_timeout: -1s"))).toEqual([`${HCM}.request_headers_timeout: must be >= 0s, got -1s [PGV duration.gte]`]);
    expect(judge(mutate('domains: ["*"]', "domains: []"))).toEqual([`${HCM}.route_config.virtual_hosts[0].domains: needs at least 1 item, has 0 [PGV repeated.min_items]`]);
    expect(judge(mutate("stat_prefix: ingress_https", 'stat_prefix: ""'))).toEqual([`${HCM}.stat_prefix: must be at least 1 character, got "" [PGV string.min_len]`]);
    expect(judge(mutate("use_remote_address: true", "scheme_header_transformation: {scheme_to_overwrite: ftp}"))).toEqual([
      `${HCM}.scheme_header_transformation.scheme_to_overwrite: must be one of "http", "https", got "ftp" [PGV string.in]`,
    ]);
    expect(judge("stats_flush_on_admin: false\n")).toEqual(["stats_flush_on_admin: must be true [PGV bool.const]"]);
    expect(judge(mutate("            name: local_route\n", '            name: local_route\n            request_headers_to_add: [{header: {key: "x-a\\nb", value: v}}]\n'))).toEqual(
      [`${HCM}.route_config.request_headers_to_add[0].header.key: must be a valid header name (no NUL, CR or LF), got "x-a\\nb" [PGV string.well_known_regex]`],
    );
    expect(judge(mutate('                  prefix: "/"', '                  safe_regex: {regex: x}\n                  prefix: "/"'))).toEqual([
      `${ROUTE}.match: oneof path_specifier of envoy.config.route.v3.RouteMatch takes at most one member, got prefix, safe_regex`,
    ]);
  });

  it("applies a oneof member's PGV rules only when that member is set", () => {
    // StdoutAccessLog.log_format is message.required, but inside oneof access_log_format.
    expect(judge(rendered)).toEqual([]);
    expect(
      judge(mutate("envoy.extensions.access_loggers.stream.v3.StdoutAccessLog", "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog\n              log_format: null")),
    ).toEqual([]);
  });

  it("reports YAML that is not a Bootstrap mapping", () => {
    expect(judge("")).toEqual(["(root): the document is empty (Envoy needs a mapping)"]);
    expect(judge("- a\n")).toEqual(["(root): expected a mapping (the Bootstrap), got a list"]);
    expect(judge("admin: {}\nadmin: {}\n")).toEqual(["(yaml): Map keys must be unique at line 2, column 1:"]);
  });
});
