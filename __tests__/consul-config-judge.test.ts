// Every Consul configuration the project renders, judged key by key against the Consul 2.0.1
// agent configuration reference (tools/judges/consul-reference.ts); and the judge itself judged:
// each kind of mistake must be reported with its path, or the judge proves nothing.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { countKeys, judgeConsulConfig } from "../tools/judges/consul-config";
import { AGENT_CONFIG, CONSUL_REFERENCE_VERSION } from "../tools/judges/consul-reference";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import { SERVER_SLOTS } from "../lib/plan/server";
import { CONTAINER_NAMES } from "../lib/plan/containers";
import type { MeshPlan, ServicePlan } from "../lib/plan/types";
import { renderText } from "../lib/render/text";
import { SERVER_PATHS } from "../lib/facts";
import { CONSUL } from "../lib/versions";
import { planOf, renderServiceTask } from "./support/synth";

const EXAMPLES = fs
  .readdirSync("examples")
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => path.join("examples", f));

const SPECS: [string, MeshPlan][] = [["the default spec", planOf(DEFAULT_SPEC)], ...EXAMPLES.map((file): [string, MeshPlan] => [file, loadSpecFile(file).plan])];

/**
 * The body of the unquoted here-document `<<DELIMITER` in a script, with each shell expansion
 * ($name, ${name}) replaced by a placeholder word, as the shell would fill in a value there.
 */
function expandedHeredoc(script: string, delimiter: string): string {
  const lines = script.split("\n");
  const start = lines.findIndex((line) => line.trimEnd().endsWith(`<<${delimiter}`));
  if (start < 0) throw new Error(`no here-document <<${delimiter} in the script`);
  const end = lines.indexOf(delimiter, start + 1);
  if (end < 0) throw new Error(`here-document <<${delimiter} is not terminated`);
  return `${lines
    .slice(start + 1, end)
    .join("\n")
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, "placeholder-$1")}\n`;
}

/** The server's user data as the ConsulServer construct renders it, with stand-in ARNs. */
function serverUserData(plan: MeshPlan): string {
  const arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:x";
  return renderText(plan.server.nodes[0]!.userData, {
    ...Object.fromEntries(Object.values(SERVER_SLOTS).map((slot) => [slot, arn])),
  });
}

/** The consul-agent container of a service's task, as ECS receives it. */
const agentOf = (service: ServicePlan) => renderServiceTask(service).find((c) => c.name === CONTAINER_NAMES.consulAgent)!;
/** The server's consul.hcl, rendered from the plan. */
const serverConfigOf = (plan: MeshPlan) => renderText(plan.server.nodes[0]!.config);

describe("the reference table", () => {
  it("is written for the pinned Consul release", () => {
    expect(CONSUL_REFERENCE_VERSION).toBe(CONSUL.version);
  });

  it("covers the agent's nested blocks", () => {
    for (const block of ["acl", "addresses", "auto_encrypt", "autopilot", "connect", "dns_config", "limits", "performance", "ports", "telemetry", "tls", "ui_config"]) {
      expect(AGENT_CONFIG[block]?.type, block).toBe("block");
    }
    expect(Object.keys(AGENT_CONFIG.tls!.keys!).sort()).toEqual(["defaults", "grpc", "https", "internal_rpc"]);
    expect(AGENT_CONFIG.acl!.keys!.tokens?.type).toBe("block");
    expect(AGENT_CONFIG.retry_join?.type).toBe("stringList");
    expect(countKeys()).toBeGreaterThan(500);
  });
});

describe.each(SPECS)("rendered Consul configs of %s", (_name, plan) => {
  it("server config and every task's client agent config pass", async () => {
    expect(await judgeConsulConfig(serverConfigOf(plan), "agent", "server.hcl")).toEqual([]);
    for (const service of plan.services.filter((s) => s.architecture === "agent"))
      expect(await judgeConsulConfig(agentOf(service).command[2] as string, "agent", "agent.hcl"), service.name).toEqual([]);
  });

  // Dataplane services register through consul-ecs (consul-ecs-config-judge.test.ts): a spec without agent services is skipped in the report, not passed.
  const agents = plan.services.filter((s) => s.architecture === "agent");
  it.skipIf(agents.length === 0)("every agent service definition passes", async () => {
    for (const service of agents) {
      expect(await judgeConsulConfig(agentOf(service).command[4], "service-definition", `${service.name}.hcl`), service.name).toEqual([]);
    }
  });

  it("the server's consul.hcl and secrets.hcl written by its user data pass", async () => {
    const userData = serverUserData(plan);
    expect(await judgeConsulConfig(expandedHeredoc(userData, "SECRETS"), "agent", "secrets.hcl")).toEqual([]);
    // The main config travels in the user data too: judge the copy the server actually gets.
    const start = userData.indexOf(`cat > ${SERVER_PATHS.configFile} <<'CONSUL_CONFIG'\n`);
    expect(start).toBeGreaterThanOrEqual(0);
    const body = userData.slice(userData.indexOf("\n", start) + 1, userData.indexOf("\nCONSUL_CONFIG\n", start) + 1);
    expect(await judgeConsulConfig(body, "agent", "consul.hcl")).toEqual([]);
  });
});

describe("the client agent's secrets.hcl written by the consul-agent container", () => {
  it("passes", async () => {
    const script = agentOf(planOf(DEFAULT_SPEC).services[0]!).entryPoint[2] as string;
    const body = expandedHeredoc(script, "EOF_SECRETS");
    expect(body).toContain("placeholder-CONSUL_GOSSIP_KEY");
    expect(await judgeConsulConfig(body, "agent", "secrets.hcl")).toEqual([]);
  });
});

describe("judgeConsulConfig", () => {
  const judge = (hcl: string, kind: "agent" | "service-definition" = "agent") => judgeConsulConfig(hcl, kind);

  it("reports an unknown top-level key with a did-you-mean", async () => {
    expect(await judge('datacentre = "dc1"\n')).toEqual(["datacentre: unknown key at the top level; did you mean datacenter?"]);
  });

  it("reports a misspelt nested key with its full path", async () => {
    expect(await judge("tls {\n  defaults {\n    verify_incomming = true\n  }\n}\n")).toEqual([
      "tls.defaults.verify_incomming: unknown key in tls.defaults; did you mean verify_incoming?",
    ]);
  });

  it("reports a key valid elsewhere and says where it belongs", async () => {
    expect(await judge("acl {\n  bootstrap_expect = 1\n}\n")).toEqual(["acl.bootstrap_expect: unknown key in acl; bootstrap_expect belongs at bootstrap_expect (top level)"]);
    // Consul's docs list it at the top level by mistake (hashicorp/consul#22472): it is a performance key.
    expect(await judge("enable_xds_load_balancing = false\n")).toEqual([
      "enable_xds_load_balancing: unknown key at the top level; enable_xds_load_balancing belongs at performance.enable_xds_load_balancing",
    ]);
  });

  it("reports keys Consul parses but refuses at that place", async () => {
    expect(await judge("tls {\n  defaults {\n    verify_server_hostname = true\n  }\n  grpc {\n    verify_outgoing = true\n  }\n}\n")).toEqual([
      "tls.defaults.verify_server_hostname: verify_server_hostname is only valid in tls.internal_rpc (Consul's builder refuses it elsewhere)",
      "tls.grpc.verify_outgoing: Consul makes no outgoing connections on the gRPC port: verify_outgoing is not valid in tls.grpc",
    ]);
  });

  it("reports wrong value types", async () => {
    expect(await judge('bootstrap_expect = "one"\nretry_join = "10.0.0.1"\nports {\n  grpc = "8502"\n}\nacl {\n  enabled = "true"\n  token_ttl = 30\n}\n')).toEqual([
      'acl.enabled: expected true or false, got string "true"',
      'acl.token_ttl: expected a duration string such as "10s", got number 30',
      'bootstrap_expect: expected an integer, got string "one"',
      'ports.grpc: expected an integer, got string "8502"',
      'retry_join: expected a list of strings, got string "10.0.0.1"',
    ]);
  });

  it("reports deprecated keys with the modern name", async () => {
    expect(await judge('verify_incoming = true\nca_file = "/ca.pem"\nacl_master_token = "x"\nacl {\n  tokens {\n    master = "y"\n  }\n}\nui = true\n')).toEqual([
      `acl.tokens.master: deprecated (Consul ${CONSUL_REFERENCE_VERSION} accepts it with a warning); use acl.tokens.initial_management`,
      `acl_master_token: deprecated (Consul ${CONSUL_REFERENCE_VERSION} accepts it with a warning); use acl.tokens.initial_management`,
      `ca_file: deprecated (Consul ${CONSUL_REFERENCE_VERSION} accepts it with a warning); use tls.defaults.ca_file`,
      `ui: deprecated (Consul ${CONSUL_REFERENCE_VERSION} accepts it with a warning); use ui_config.enabled`,
      `verify_incoming: deprecated (Consul ${CONSUL_REFERENCE_VERSION} accepts it with a warning); use tls.defaults.verify_incoming`,
    ]);
  });

  it("reports Enterprise-only and internal keys", async () => {
    expect(await judge('license_path = "/l"\nversion = "9.9.9"\n')).toEqual([
      `license_path: a Consul Enterprise setting; the pinned Consul CE ${CONSUL_REFERENCE_VERSION} ignores or rejects it`,
      "version: not user-configurable; Consul overwrites it with its own value",
    ]);
  });

  it("accepts the keys Consul 2.0 added and those the 1.22.7 table missed", async () => {
    const agent = `default_intention_policy = "deny"
raft_prevote_disabled    = false
experiments              = []
http_config {
  read_timeout        = "15m"
  read_header_timeout = "10s"
  write_timeout       = "15m"
  idle_timeout        = "120s"
}
telemetry {
  certificate {
    enabled                 = true
    cache_duration          = "5m"
    critical_threshold_days = 7
    warning_threshold_days  = 30
    info_threshold_days     = 90
    exclude_auto_renewable  = false
  }
}
connect {
  virtual_ip_cidr_v4 = "240.0.0.0/4"
}
`;
    expect(await judge(agent)).toEqual([]);
    const service = 'service {\n  name = "web"\n  ports = [\n    { name = "http", port = 8080, default = true },\n    { name = "admin", port = 9090 },\n  ]\n}\n';
    expect(await judge(service, "service-definition")).toEqual([]);
  });

  it("types the new 2.0 keys", async () => {
    expect(await judge('http_config {\n  write_timeout = 900\n}\ntelemetry {\n  certificate {\n    warning_threshold_days = "30"\n  }\n}\n')).toEqual([
      'http_config.write_timeout: expected a duration string such as "10s", got number 900',
      'telemetry.certificate.warning_threshold_days: expected an integer, got string "30"',
    ]);
  });

  it("no longer accepts log_sublevels, which no Consul release had", async () => {
    expect(await judge('log_sublevels = { raft = "warn" }\n')).toEqual(["log_sublevels: unknown key at the top level"]);
  });

  it("reports the Enterprise-only multi-port keys of a sidecar", async () => {
    const service = `service {
  name = "web"
  port = 8080
  connect {
    sidecar_service {
      proxy {
        local_service_ports = { http = 8080 }
        upstreams {
          destination_name = "api"
          destination_port = "grpc"
          local_bind_port  = 9001
        }
      }
    }
  }
}
`;
    expect(await judge(service, "service-definition")).toEqual([
      `service.connect.sidecar_service.proxy.local_service_ports: a Consul Enterprise setting; the pinned Consul CE ${CONSUL_REFERENCE_VERSION} ignores or rejects it`,
      `service.connect.sidecar_service.proxy.upstreams[0].destination_port: a Consul Enterprise setting; the pinned Consul CE ${CONSUL_REFERENCE_VERSION} ignores or rejects it`,
    ]);
  });

  it("reports a misspelt key in a service's upstream block", async () => {
    const service = `service {
  name = "web"
  port = 8080
  connect {
    sidecar_service {
      proxy {
        upstreams {
          destination_name = "api"
          local_bind_port  = 9001
        }
        upstreams {
          destination_name = "db"
          local_bnid_port  = 9002
        }
      }
    }
  }
}
`;
    expect(await judge(service, "service-definition")).toEqual([
      "service.connect.sidecar_service.proxy.upstreams[1].local_bnid_port: unknown key in service.connect.sidecar_service.proxy.upstreams[1]; did you mean local_bind_port?",
    ]);
  });

  it("reports mistakes in checks and sidecars of a service definition", async () => {
    const service = `service {
  port = 8080
  check {
    http     = "http://127.0.0.1:8080/health"
    interval = "10 seconds"
    header   = { Accept = "text/plain" }
  }
  connect {
    sidecar_service {
      id = "web-proxy"
      proxy {
        upstreams {
          local_bind_port = 9001
        }
      }
    }
  }
}
`;
    expect(await judge(service, "service-definition")).toEqual([
      'service.check.header.Accept: expected a list of strings, got string "text/plain"',
      'service.check.interval: expected a duration string such as "10s", got string "10 seconds"',
      "service.connect.sidecar_service.id: the sidecar's ID is assigned by Consul (<service-id>-sidecar-proxy) and cannot be overridden",
      "service.connect.sidecar_service.proxy.upstreams[0]: missing destination_name, which Consul requires",
      "service: missing name, which Consul requires",
    ]);
  });

  it("keeps agent settings out of a service definition file, and one service block per file", async () => {
    expect(await judge('datacenter = "dc1"\nservice {\n  name = "a"\n}\nservice {\n  name = "b"\n}\n', "service-definition")).toEqual([
      "datacenter: an agent setting, not part of a service definition; move it to the agent configuration",
      "service: given 2 times, Consul takes one service block here (use services for several)",
    ]);
  });

  it("catches a typo injected into the rendered server config", async () => {
    const typo = serverConfigOf(planOf(DEFAULT_SPEC)).replace("enable_token_persistence", "enable_token_persistance");
    expect(await judge(typo)).toEqual(["acl.enable_token_persistance: unknown key in acl; did you mean enable_token_persistence?"]);
  });

  it("reports HCL that does not parse", async () => {
    const findings = await judgeConsulConfig("acl {\n", "agent", "broken.hcl");
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(/^broken\.hcl: not valid HCL: /);
  });
});
