// The consul-ecs 0.10.0 configuration judge, judged: a realistic dataplane task configuration
// passes, and each kind of mistake is reported at its path, or the judge proves nothing.
import { describe, expect, it } from "vitest";
import { judgeConsulEcsConfig } from "../tools/judges/consul-ecs-config";
import { DEFAULT_VERSIONS } from "../lib/versions";
import { CONSUL_ECS_REFERENCE_VERSION, countFields, type ConsulEcsConfig } from "../tools/judges/consul-ecs-reference";

/** A dataplane task of the service "web" with one upstream, as the lead's template should render it. */
const WEB = {
  bootstrapDir: "/consul",
  consulServers: {
    hosts: "exec=discover -q addrs provider=aws region=us-east-1 tag_key=consul-ecs-mesh:server tag_value=prod-mesh",
    defaults: { tls: true, tlsServerName: "server.prod.consul" },
    grpc: { port: 8503 },
    http: { port: 8501, https: true },
  },
  consulLogin: { enabled: true, method: "iam-ecs-service-token", datacenter: "prod" },
  service: { name: "web", port: 8080 },
  proxy: {
    upstreams: [{ destinationName: "api", localBindPort: 9100, config: { passive_health_check: { interval: "10s", max_failures: 5 } } }],
  },
  transparentProxy: { enabled: false },
  healthSyncContainers: ["app"],
  logLevel: "INFO",
} as const satisfies ConsulEcsConfig;

type Mutable = Record<string, any>;
/** A deep copy of WEB to break. */
const web = (): Mutable => structuredClone(WEB) as Mutable;

/** Asserts one finding at `path` whose message matches `message`. */
function expectFinding(findings: readonly string[], path: string, message: RegExp): void {
  const atPath = findings.filter((f) => f.startsWith(`${path}: `));
  expect(atPath, `no finding at ${path}; got:\n${findings.join("\n")}`).not.toEqual([]);
  expect(
    atPath.some((f) => message.test(f)),
    `findings at ${path} do not match ${message}:\n${atPath.join("\n")}`,
  ).toBe(true);
}

describe("consul-ecs config judge", () => {
  it(`is written for consul-ecs ${CONSUL_ECS_REFERENCE_VERSION} and covers its fields`, () => {
    expect(CONSUL_ECS_REFERENCE_VERSION).toBe("0.10.0");
    // The pinned consul-ecs must be the one the table was read for: moving it means reviewing the table.
    expect(DEFAULT_VERSIONS.consulEcs).toBe(CONSUL_ECS_REFERENCE_VERSION);
    // 98 properties in v0.10.0's config/schema.json, plus proxy.expose and its 6 fields (decoded by Go, never validated).
    expect(countFields()).toBe(105);
  });

  it("passes a realistic dataplane task configuration, as an object and as text", () => {
    expect(judgeConsulEcsConfig(WEB)).toEqual([]);
    expect(judgeConsulEcsConfig(JSON.stringify(WEB, null, 2))).toEqual([]);
  });

  it("accepts the 0.10.0 outlier detection fields (only the project rule objects)", () => {
    const config = web();
    config.service.networkResilienceConfig = {
      enabled: true,
      outlierDetection: {
        interval: 10_000_000_000,
        maxFailures: 5,
        consecutive5xx: 5,
        consecutiveGatewayFailure: 3,
        enforcingConsecutiveGatewayFailure: 100,
        maxEjectionPercent: 50,
      },
    };
    const findings = judgeConsulEcsConfig(config);
    expect(findings).toHaveLength(1);
    expectFinding(findings, "service.networkResilienceConfig.enabled", /project rule.*EnforcingConsecutiveGatewayFailure.*hashicorp\/consul#23563.*mesh-init fails/);
  });

  it("reports an unknown top-level key, with a did-you-mean", () => {
    const config = web();
    config.healthSyncContainer = ["app"];
    expectFinding(judgeConsulEcsConfig(config), "healthSyncContainer", /unknown key at the top level; did you mean healthSyncContainers\?.*additionalProperties: false/);
    const misplaced = web();
    misplaced.port = 8080;
    expectFinding(judgeConsulEcsConfig(misplaced), "port", /port belongs at .*service\.port/);
  });

  it("reports a misspelt upstream key at its path, and the required key it leaves missing", () => {
    const config = web();
    config.proxy.upstreams[0] = { destinationNam: "api", localBindPort: 9100 };
    const findings = judgeConsulEcsConfig(config);
    expectFinding(findings, "proxy.upstreams[0].destinationNam", /unknown key in proxy\.upstreams\[0\]; did you mean destinationName\?.*rejects it/);
    expectFinding(findings, "proxy.upstreams[0].destinationName", /missing; the consul-ecs 0\.10\.0 schema requires it/);
  });

  it("flags unknown keys where the real schema is lax, and says so", () => {
    const config = web();
    config.consulServers.grpc = { prot: 8503 };
    config.proxy.publicListenerPrt = 21000;
    const findings = judgeConsulEcsConfig(config);
    expectFinding(findings, "consulServers.grpc.prot", /did you mean port\?.*does not reject unknown keys here.*this judge is stricter/);
    expectFinding(findings, "proxy.publicListenerPrt", /did you mean publicListenerPort\?.*this judge is stricter/);
  });

  it("reports wrong types, null where the schema has none, and number spellings Go refuses", () => {
    const config = web();
    config.service.port = "8080";
    config.service.tags = null; // nullable: fine
    config.consulServers.defaults.tls = "true";
    config.gateway = null;
    expectFinding(judgeConsulEcsConfig(config), "service.port", /expected an integer, got the string "8080"/);
    expectFinding(judgeConsulEcsConfig(config), "consulServers.defaults.tls", /expected true or false/);
    expectFinding(judgeConsulEcsConfig(config), "gateway", /null is not allowed here/);
    expect(judgeConsulEcsConfig(config).filter((f) => f.startsWith("service.tags"))).toEqual([]);

    const text = JSON.stringify(WEB).replace('"port":8080', '"port":8080.0');
    expectFinding(judgeConsulEcsConfig(text), "service.port", /write 8080, not 8080\.0: Go's encoding\/json cannot decode/);

    const untyped = web();
    untyped.proxy.healthCheckPort = "22000"; // untyped in the schema, a Go int
    expectFinding(judgeConsulEcsConfig(untyped), "proxy.healthCheckPort", /expected an integer.*schema does not check it, but consul-ecs decodes it into a Go int/);
  });

  it("reports missing required fields", () => {
    const config = web();
    delete config.bootstrapDir;
    config.proxy.upstreams.push({ destinationName: "db" });
    const findings = judgeConsulEcsConfig(config);
    expectFinding(findings, "bootstrapDir", /missing/);
    expectFinding(findings, "proxy.upstreams[1].localBindPort", /missing/);
    const empty = web();
    empty.bootstrapDir = "";
    expectFinding(judgeConsulEcsConfig(empty), "bootstrapDir", /must not be empty/);
  });

  it("reports enum, pattern, range and uniqueness violations", () => {
    const config = web();
    config.logLevel = "VERBOSE";
    config.service.name = "Web";
    config.proxy.upstreams[0].destinationType = "Service";
    config.healthSyncContainers = ["app", "app"];
    config.service.networkResilienceConfig = { enabled: false, outlierDetection: { maxEjectionPercent: 150 } };
    const findings = judgeConsulEcsConfig(config);
    expectFinding(findings, "logLevel", /"VERBOSE" is not one of TRACE, DEBUG, INFO, WARN, ERROR/);
    expectFinding(findings, "service.name", /"Web" does not match/);
    expectFinding(findings, "proxy.upstreams[0].destinationType", /did you mean service\? \(case matters\)/);
    expectFinding(findings, "healthSyncContainers[1]", /duplicate of healthSyncContainers\[0\]/);
    expectFinding(findings, "service.networkResilienceConfig.outlierDetection.maxEjectionPercent", /above the maximum 100/);
    expectFinding(findings, "service.networkResilienceConfig.outlierDetection", /ignored: networkResilienceConfig\.enabled is not true/);
  });

  it("rejects the keys only the stale docs page still lists", () => {
    const config = web();
    config.consulHTTPAddr = "http://consul:8500";
    config.service.checks = [{ checkId: "web-http", http: "http://localhost:8080/health", interval: "10s" }];
    const findings = judgeConsulEcsConfig(config);
    expectFinding(findings, "consulHTTPAddr", /not a consul-ecs 0\.10\.0 key \(last in consul-ecs 0\.6\.2.*docs page still lists it.*use consulServers\.hosts/);
    expectFinding(findings, "service.checks", /not a consul-ecs 0\.10\.0 key.*healthSyncContainers/);
  });

  it("flags networkResilienceConfig.enabled as a project rule", () => {
    const config = web();
    config.service.networkResilienceConfig = { enabled: true };
    const findings = judgeConsulEcsConfig(config);
    expect(findings).toHaveLength(1);
    expectFinding(findings, "service.networkResilienceConfig.enabled", /^service\.networkResilienceConfig\.enabled: project rule: must not be true/);
  });

  it("reports what the schema accepts but consul-ecs or Consul fails on or ignores", () => {
    const noProxy = web();
    delete noProxy.proxy;
    expectFinding(judgeConsulEcsConfig(noProxy), "proxy", /nil pointer and panics/);

    const loginOff = web();
    loginOff.consulLogin.enabled = false;
    expectFinding(judgeConsulEcsConfig(loginOff), "consulLogin.method", /ignored: consulLogin\.enabled is not true/);

    const upstreams = web();
    upstreams.proxy.upstreams.push({ destinationName: "api", localBindPort: 9101 }, { destinationName: "db", localBindPort: 9100 });
    const findings = judgeConsulEcsConfig(upstreams);
    expectFinding(findings, "proxy.upstreams[1]", /the same upstream as proxy\.upstreams\[0\].*mesh-init retries it forever/);
    expectFinding(findings, "proxy.upstreams[2].localBindPort", /127\.0\.0\.1:9100 is also the listener of proxy\.upstreams\[0\]/);

    const ports = web();
    ports.proxy.upstreams[0].localBindPort = 20000;
    ports.service.port = 19000;
    const portFindings = judgeConsulEcsConfig(ports);
    expectFinding(portFindings, "proxy.upstreams[0].localBindPort", /20000 is also the Envoy public listener/);
    expectFinding(portFindings, "service.port", /19000 is also the Envoy admin listener/);

    const dataplane = web();
    dataplane.healthSyncContainers = ["app", "consul-dataplane"];
    expectFinding(judgeConsulEcsConfig(dataplane), "healthSyncContainers[1]", /always synced/);
  });

  it("reports text-level problems: empty, not JSON, duplicate keys", () => {
    expect(judgeConsulEcsConfig("")).toEqual(['(root): "CONSUL_ECS_CONFIG_JSON" isn\'t populated (consul-ecs refuses an empty value)']);
    expect(judgeConsulEcsConfig("{")[0]).toMatch(/^\(root\): not valid JSON/);
    expect(judgeConsulEcsConfig("[]")).toEqual(["(root): expected an object, got an array"]);
    const text = JSON.stringify(WEB).replace('"service":{', '"service":{"port":80,');
    expectFinding(judgeConsulEcsConfig(text), "service.port", /duplicate key/);
  });

  it("types a template context from the table", () => {
    // @ts-expect-error service.port is an integer in the table, so the derived type refuses a string
    const wrong: ConsulEcsConfig = { bootstrapDir: "/consul", consulServers: { hosts: "h" }, service: { port: "8080" } };
    // @ts-expect-error logLevel is an enum
    const level: ConsulEcsConfig = { bootstrapDir: "/consul", consulServers: { hosts: "h" }, logLevel: "VERBOSE" };
    expectFinding(judgeConsulEcsConfig(wrong), "service.port", /expected an integer/);
    expectFinding(judgeConsulEcsConfig(level), "logLevel", /is not one of/);
  });
});
