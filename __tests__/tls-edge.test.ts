// System 2, "TLS all the way to the container": parity with the original (envoy-ssl-tutorial),
// what it fixes, the Envoy config, the spec's rules, real Terraform on the variables, the Envoy
// start script run with sh, and push-images.sh's early failures.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { Testing } from "cdktf";
import { tlsEdgeSchema, type TlsEdgeSpecInput } from "../lib/spec/tls-edge-schema";
import { TlsEdgeStack } from "../stacks/tls-edge-stack";
import { buildTlsEdgePlan, tlsEdgeApis, tlsEdgeEnvoyConfigText, tlsEdgeFiles } from "../lib/plan/tls-edge";
import { tlsEdgeEnvoyStartScript } from "../lib/plan/texts";
import { renderText } from "../lib/render/text";
import { runPolicy } from "../tools/policy-rules";
import { requireShellcheck } from "../tools/judges";
import { createStacks } from "../stacks";
import { ENVOY } from "../lib/versions";

/** Temporary folders of this file, removed after its tests. */
const leftovers: string[] = [];
afterAll(() => leftovers.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
import { planOf, synthAllStacks } from "./support/synth";
import { specIssues } from "./support/spec-issues";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";

/** The TLS edge plan of a tlsEdge section (through the schema, as the mesh spec does). */
const edgePlan = (input: TlsEdgeSpecInput) => buildTlsEdgePlan(tlsEdgeSchema.parse(input), { region: "us-east-1", envoySource: ENVOY.image });
const renderEnvoyTlsConfig = ({ appPort, configDir }: { appPort: number; configDir?: string }) => renderText(tlsEdgeEnvoyConfigText(appPort, configDir));

const VPC_ID = "vpc-0123456789abcdef0";
const SUBNET_ID = "subnet-0123456789abcdef0";
const EXISTING = { vpcId: VPC_ID, vpcCidr: "10.1.0.0/16", subnetIds: [SUBNET_ID] };

/** The tls-edge stack alone, in an existing VPC given by the spec (the original's setup). */
function synthAlone(input: TlsEdgeSpecInput = {}): any {
  return JSON.parse(Testing.synth(new TlsEdgeStack(Testing.app(), "tls-edge", edgePlan({ network: EXISTING, ...input }))));
}

const one = (doc: any, type: string): any => {
  const blocks = Object.values(doc.resource[type] ?? {});
  expect(blocks, type).toHaveLength(1);
  return blocks[0];
};
const containersOf = (doc: any): any[] => JSON.parse(one(doc, "aws_ecs_task_definition").container_definitions);
const container = (doc: any, name: string) => containersOf(doc).find((c) => c.name === name);
/** The Envoy YAML exactly as the task writes it: the here-document of the Envoy start script. */
function envoyYamlOf(doc: any): string {
  const script: string = container(doc, "envoy").entryPoint[2];
  const match = /<<'ENVOY_YAML'\n([\s\S]*?)\nENVOY_YAML\n/.exec(script);
  expect(match, "the start script writes the Envoy config from a here-document").not.toBeNull();
  return match![1]!;
}

const doc = synthAlone();
const policy = runPolicy;

/** What `terraform console` prints for an expression (a condition of the synthesized JSON, its references replaced by values). */
function evaluate(condition: string, replacements: Record<string, unknown>): string {
  let expression = condition.replace(/^\$\{|\}$/g, "");
  for (const [reference, value] of Object.entries(replacements)) expression = expression.split(reference).join(JSON.stringify(value));
  return execFileSync("terraform", ["console"], { input: expression, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } }).trim();
}

describe("parity with the original envoy-ssl-tutorial", () => {
  it("has an ECR repository for the app image, immutable and scanned, and the Envoy mirror", () => {
    const repos = doc.resource.aws_ecr_repository;
    expect(
      Object.values(repos)
        .map((r: any) => r.name)
        .sort(),
    ).toEqual(["envoy-ssl-tutorial/envoy", "envoy-ssl-tutorial/flask-app"]);
    for (const repo of Object.values(repos) as any[]) {
      expect(repo.image_tag_mutability).toBe("IMMUTABLE");
      expect(repo.image_scanning_configuration).toEqual({ scan_on_push: true });
      expect(repo.encryption_configuration).toEqual([{ encryption_type: "KMS" }]);
    }
    expect(container(doc, "app").image).toBe("${aws_ecr_repository.tls_edge_app_repository.repository_url}:${local.app_image_tag_or_unset}");
    expect(container(doc, "envoy").image).toMatch(/^\$\{aws_ecr_repository\.tls_edge_envoy_repository\.repository_url\}:v/);
  });

  it("registers the service in the private DNS namespace dev with A records, TTL 10, MULTIVALUE", () => {
    expect(one(doc, "aws_service_discovery_private_dns_namespace")).toMatchObject({ name: "dev", vpc: VPC_ID });
    expect(one(doc, "aws_service_discovery_service")).toMatchObject({
      name: "envoy-ssl-tutorial",
      dns_config: {
        dns_records: [{ ttl: 10, type: "A" }],
        routing_policy: "MULTIVALUE",
        namespace_id: "${aws_service_discovery_private_dns_namespace.tls_edge_namespace.id}",
      },
      health_check_custom_config: { failure_threshold: 1 },
    });
    expect(one(doc, "aws_ecs_service").service_registries).toEqual({ registry_arn: "${aws_service_discovery_service.tls_edge_discovery_service.arn}" });
  });

  it("runs a Fargate task of 256 CPU / 512 MiB in awsvpc mode, in a cluster of the service's name", () => {
    expect(one(doc, "aws_ecs_task_definition")).toMatchObject({
      family: "envoy-ssl-tutorial",
      cpu: "256",
      memory: "512",
      network_mode: "awsvpc",
      requires_compatibilities: ["FARGATE"],
    });
    expect(one(doc, "aws_ecs_service")).toMatchObject({ name: "envoy-ssl-tutorial", launch_type: "FARGATE" });
    expect(one(doc, "aws_ecs_cluster")).toMatchObject({ name: "envoy-ssl-tutorial", setting: [{ name: "containerInsights", value: "enabled" }] });
    expect(containersOf(doc).map((c) => c.name)).toEqual(["certificate-init", "app", "envoy"]);
    expect(container(doc, "envoy").portMappings).toEqual([{ containerPort: 443, hostPort: 443, protocol: "tcp" }]);
  });

  it("runs tasks only once the CA generation they pin is written: a precondition on version IDs, never a value (real terraform console)", () => {
    const [precondition] = one(doc, "aws_ecs_service").lifecycle.precondition;
    expect(precondition.error_message).toMatch(/CA generation 1 \(version consul-ecs-mesh-tls-edge-ca-generation-0001\) is not written yet: run scripts\/tls-edge-ca\.sh/);
    expect(doc.data.aws_secretsmanager_secret_versions).toEqual({
      certificate_ca_versions: { secret_id: "${aws_secretsmanager_secret.certificate_ca.arn}" },
      certificate_ca_certificate_versions: { secret_id: "${aws_secretsmanager_secret.certificate_ca_certificate.arn}" },
    });
    const versions = (...ids: string[]) => ids.map((id) => ({ version_id: id }));
    const holds = (tag: string | null, ca: string[], caCertificate: string[]) =>
      evaluate(precondition.condition, {
        "var.app_image_tag": tag,
        "data.aws_secretsmanager_secret_versions.certificate_ca_versions.versions": versions(...ca),
        "data.aws_secretsmanager_secret_versions.certificate_ca_certificate_versions.versions": versions(...caCertificate),
      });
    const current = "consul-ecs-mesh-tls-edge-ca-generation-0001";
    // 0 tasks until the tag is set: the stack deploys before the script runs.
    expect(holds(null, [], [])).toBe("true");
    expect(holds("t1", [], [])).toBe("false");
    expect(holds("t1", [current], [])).toBe("false");
    expect(holds("t1", ["0c9a5e4c-1111-2222-3333-444455556666"], [current])).toBe("false");
    expect(holds("t1", ["consul-ecs-mesh-tls-edge-ca-generation-0002", current], [current])).toBe("true");
  });

  it("logs both containers to /ecs/envoy-ssl-tutorial with a retention and KMS", () => {
    expect(one(doc, "aws_cloudwatch_log_group")).toEqual({
      name: "/ecs/envoy-ssl-tutorial",
      retention_in_days: 365,
      kms_key_id: "${aws_kms_key.log_key_key.arn}",
    });
    for (const c of containersOf(doc)) {
      expect(c.logConfiguration.logDriver).toBe("awslogs");
      expect(c.logConfiguration.options["awslogs-group"]).toBe("${aws_cloudwatch_log_group.tls_edge_log_group.name}");
      expect(c.logConfiguration.options["awslogs-stream-prefix"]).toBe("envoy-ssl-tutorial");
    }
  });

  it("allows 443 in from the VPC CIDR only, and only 443 out", () => {
    const ingress = Object.values(doc.resource.aws_vpc_security_group_ingress_rule) as any[];
    expect(ingress).toEqual([expect.objectContaining({ ip_protocol: "tcp", from_port: 443, to_port: 443, cidr_ipv4: "10.1.0.0/16" })]);
    const egress = Object.values(doc.resource.aws_vpc_security_group_egress_rule) as any[];
    expect(egress).toEqual([expect.objectContaining({ ip_protocol: "tcp", from_port: 443, to_port: 443 })]);
    for (const rule of [...ingress, ...egress, one(doc, "aws_security_group")]) expect(rule.description.length).toBeGreaterThan(20);
  });

  it("allows exactly the configured client networks when allowedCidrs is set", () => {
    const custom = synthAlone({ allowedCidrs: ["10.1.4.0/24", "192.168.0.0/16"] });
    const ingress = Object.values(custom.resource.aws_vpc_security_group_ingress_rule) as any[];
    expect(ingress.map((r) => [r.cidr_ipv4, r.from_port, r.to_port])).toEqual([
      ["10.1.4.0/24", 443, 443],
      ["192.168.0.0/16", 443, 443],
    ]);
  });
});

describe("what the original got wrong, fixed", () => {
  it("gives tasks no public IP by default", () => {
    expect(one(doc, "aws_ecs_service").network_configuration).toEqual({
      assign_public_ip: false,
      security_groups: ["${aws_security_group.tls_edge_security_group_group.id}"],
      subnets: [SUBNET_ID],
    });
  });

  it("uses separate execution and task roles; the task role has no permission", () => {
    const td = one(doc, "aws_ecs_task_definition");
    expect(td.execution_role_arn).toBe("${aws_iam_role.tls_edge_execution_role_role.arn}");
    expect(td.task_role_arn).toBe("${aws_iam_role.tls_edge_task_role_role.arn}");
    const policies = Object.values(doc.resource.aws_iam_role_policy) as any[];
    expect(policies.map((p) => p.role)).toEqual(["${aws_iam_role.tls_edge_execution_role_role.id}"]);
    expect(doc.resource.aws_iam_role_policy_attachment).toBeUndefined();
  });

  it("lets the execution role pull its two images, write its log group and read exactly the CA secret", () => {
    const statements = JSON.parse(one(doc, "aws_iam_role_policy").policy).Statement;
    expect(statements).toEqual([
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      {
        Effect: "Allow",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        Resource: ["${aws_ecr_repository.tls_edge_app_repository.arn}", "${aws_ecr_repository.tls_edge_envoy_repository.arn}"],
      },
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: ["${aws_cloudwatch_log_group.tls_edge_log_group.arn}:*"] },
      // Not the clients' copy of the certificate: the tasks need only the CA secret.
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["${aws_secretsmanager_secret.certificate_ca.arn}"] },
      // Both secrets are on the stack's own KMS key (CKV_AWS_149).
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: ["${aws_kms_key.log_key_key.arn}"] },
    ]);
    for (const secret of Object.values(doc.resource.aws_secretsmanager_secret) as any[]) expect(secret.kms_key_id).toBe("${aws_kms_key.log_key_key.arn}");
    for (const s of statements) for (const action of s.Action) expect(action).not.toMatch(/\*/);
  });

  it("logs to the spec's region, the provider's too: one source for the region", () => {
    for (const c of containersOf(doc)) expect(c.logConfiguration.options["awslogs-region"]).toBe("us-east-1");
    expect(doc.provider.aws[0].region).toBe("us-east-1");
    expect(doc.data?.aws_region).toBeUndefined();
  });

  it("injects the CA, pinned to the plan's generation, into the init container only; Envoy and the app get no secret", () => {
    const pinned = (field: string) => `\${aws_secretsmanager_secret.certificate_ca.arn}:${field}::consul-ecs-mesh-tls-edge-ca-generation-0001`;
    expect(container(doc, "certificate-init").secrets).toEqual([
      { name: "TLS_EDGE_CA_CERT", valueFrom: pinned("CertPEM") },
      { name: "TLS_EDGE_CA_KEY", valueFrom: pinned("KeyPEM") },
    ]);
    expect(container(doc, "envoy").secrets).toBeUndefined();
    expect(container(doc, "app").secrets).toBeUndefined();
    const key = /tls_private_key|private_key_pem|BEGIN [A-Z ]*PRIVATE KEY/;
    for (const c of containersOf(doc)) for (const env of c.environment ?? []) expect(`${env.name}=${env.value}`).not.toMatch(key);
    for (const [name, output] of Object.entries(doc.output) as [string, any][]) expect(JSON.stringify(output.value), name).not.toMatch(key);
    expect(doc.output.ca_certificate_secret_arn.value).toBe("${aws_secretsmanager_secret.certificate_ca_certificate.arn}");
  });

  it("keeps no key in state: no tls provider, no secret version, and a generation bump pins the new version (the tasks roll)", () => {
    expect(Object.keys(doc.resource).filter((type) => type.startsWith("tls_"))).toEqual([]);
    expect(doc.provider.tls).toBeUndefined();
    expect(doc.resource.aws_secretsmanager_secret_version).toBeUndefined();
    expect(Object.values(doc.resource.aws_secretsmanager_secret).map((s: any) => s.name_prefix)).toEqual(["envoy-ssl-tutorial/tls-ca-", "envoy-ssl-tutorial/tls-ca-certificate-"]);
    const rotated = synthAlone({ caGeneration: 2 });
    expect(container(rotated, "certificate-init").secrets[1].valueFrom).toBe("${aws_secretsmanager_secret.certificate_ca.arn}:KeyPEM::consul-ecs-mesh-tls-edge-ca-generation-0002");
    expect(rotated.output.ca_generation.value).toMatchObject({
      versionId: "consul-ecs-mesh-tls-edge-ca-generation-0002",
      previousVersionId: "consul-ecs-mesh-tls-edge-ca-generation-0001",
    });
    expect(doc.output.ca_generation.value).toMatchObject({ versionId: "consul-ecs-mesh-tls-edge-ca-generation-0001", previousVersionId: "" });
  });

  it("runs every container with a read-only root filesystem; Envoy after the init container succeeded and the app is healthy; only they mount the key's volume", () => {
    for (const c of containersOf(doc)) expect(c.readonlyRootFilesystem, c.name).toBe(true);
    expect(container(doc, "envoy").dependsOn).toEqual([
      { containerName: "certificate-init", condition: "SUCCESS" },
      { containerName: "app", condition: "HEALTHY" },
    ]);
    expect(container(doc, "certificate-init").essential).toBe(false);
    expect(
      containersOf(doc)
        .filter((c) => (c.mountPoints ?? []).some((m: any) => m.sourceVolume === "envoy-config"))
        .map((c) => c.name),
    ).toEqual(["certificate-init", "envoy"]);
    expect(container(doc, "app").healthCheck.command.join(" ")).toContain("http://127.0.0.1:8080/health");
    expect(container(doc, "app").portMappings).toBeUndefined();
  });

  it("passes the project's security policy (checkov/trivy-equivalent rules), no secret in state included", () => {
    expect(policy(doc)).toEqual([]);
    expect(policy(synthAlone({ allowedCidrs: ["192.168.0.0/16"] }))).toEqual([]);
    // The original's public IP is still possible, and the policy names it (CKV_AWS_333).
    expect(policy(synthAlone({ assignPublicIp: true })).map((f) => f.rule)).toEqual(["CKV_AWS_333"]);
  });
});

describe("Envoy config (v3)", () => {
  const config = YAML.parse(envoyYamlOf(doc));
  const listener = config.static_resources.listeners[0];
  const chain = listener.filter_chains[0];

  it("is the config the renderer produces, parsed from the task definition", () => {
    expect(config).toEqual(YAML.parse(renderEnvoyTlsConfig({ appPort: 8080 })));
  });

  it("listens on 0.0.0.0:443 with TLS 1.2 at least and the certificate from the task volume", () => {
    expect(listener.address).toEqual({ socket_address: { address: "0.0.0.0", port_value: 443 } });
    expect(chain.transport_socket.typed_config["@type"]).toBe("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
    const common = chain.transport_socket.typed_config.common_tls_context;
    expect(common.tls_params.tls_minimum_protocol_version).toBe("TLSv1_2");
    expect(common.tls_certificates).toEqual([{ certificate_chain: { filename: "/etc/envoy-tls/cert.pem" }, private_key: { filename: "/etc/envoy-tls/key.pem" } }]);
  });

  it("routes every path to local_service at 127.0.0.1:8080 and logs access to stdout", () => {
    const hcm = chain.filters[0].typed_config;
    expect(hcm["@type"]).toBe("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
    expect(hcm.route_config.virtual_hosts).toEqual([{ name: "local_service", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: "local_service" } }] }]);
    expect(hcm.access_log).toEqual([
      { name: "envoy.access_loggers.stdout", typed_config: { "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog" } },
    ]);
    const [cluster] = config.static_resources.clusters;
    expect(cluster.name).toBe("local_service");
    expect(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address).toEqual({ socket_address: { address: "127.0.0.1", port_value: 8080 } });
  });

  it("follows the app port of the spec", () => {
    const custom = YAML.parse(envoyYamlOf(synthAlone({ appPort: 5000 })));
    expect(custom.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value).toBe(5000);
  });

  it("puts the admin interface on a socket in Envoy's own volume, and exposes only GET /ready on 127.0.0.1:9901", () => {
    expect(config.admin.address).toEqual({ pipe: { path: "/etc/envoy-tls/admin.sock", mode: 0o600 } });
    const ready = config.static_resources.listeners.find((l: { name: string }) => l.name === "envoy_ready");
    expect(ready.address.socket_address).toEqual({ address: "127.0.0.1", port_value: 9901 });
    const routes = ready.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
    expect(routes).toEqual([{ match: { path: "/ready", headers: [{ name: ":method", string_match: { exact: "GET" } }] }, route: { cluster: "envoy_admin" } }]);
    const admin = config.static_resources.clusters.find((c: { name: string }) => c.name === "envoy_admin");
    expect(admin.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address).toEqual({ pipe: { path: "/etc/envoy-tls/admin.sock" } });
  });

  it("uses no v2 field names: typed_config on every filter, load_assignment instead of hosts", () => {
    const extensions: any[] = [];
    const visit = (node: unknown, key: string) => {
      if (Array.isArray(node)) return node.forEach((n) => visit(n, key));
      if (node === null || typeof node !== "object") return;
      const obj = node as Record<string, unknown>;
      if (["filters", "http_filters", "access_log"].includes(key) || key === "transport_socket") extensions.push(obj);
      for (const [k, v] of Object.entries(obj)) visit(v, k);
    };
    visit(config, "");
    expect(extensions.length).toBeGreaterThanOrEqual(4);
    for (const extension of extensions) {
      expect(extension, JSON.stringify(extension)).not.toHaveProperty("config");
      expect(extension.typed_config?.["@type"], JSON.stringify(extension)).toMatch(/^type\.googleapis\.com\/envoy\..*\.v3\./);
    }
    for (const cluster of config.static_resources.clusters) {
      expect(cluster).not.toHaveProperty("hosts");
      expect(cluster).toHaveProperty("load_assignment");
    }
    expect(JSON.stringify(config)).not.toMatch(/envoy\.api\.v2|\.v2\.|"tls_context"|"use_data_plane_proto"/);
  });
});

describe("the Envoy start script (run with sh)", () => {
  const user = `${os.userInfo().username}:${spawnSync("id", ["-gn"], { encoding: "utf8" }).stdout.trim()}`;

  function start(made: boolean) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-tls-"));
    leftovers.push(dir);
    // What the init container leaves in the volume.
    if (made) for (const file of ["cert.pem", "key.pem"]) fs.writeFileSync(path.join(dir, file), `${file}\n`, { mode: 0o600 });
    const entrypoint = path.join(dir, "entrypoint.sh");
    // Stands in for the image's /docker-entrypoint.sh: records its arguments and environment.
    fs.writeFileSync(entrypoint, `#!/bin/sh\necho "$@" > "${dir}/args"\nenv > "${dir}/env"\n`, { mode: 0o755 });
    const envoyConfig = renderEnvoyTlsConfig({ appPort: 8080, configDir: dir });
    const script = renderText(tlsEdgeEnvoyStartScript({ envoyConfig: tlsEdgeEnvoyConfigText(8080, dir), files: tlsEdgeFiles(dir), envoyUser: user, entrypoint, configDir: dir }));
    const result = spawnSync("/bin/sh", ["-ec", script], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    return { dir, envoyConfig, status: result.status, stderr: result.stderr };
  }

  it("writes the config (0600) beside the init container's key and certificate, and execs the entrypoint", () => {
    const run = start(true);
    expect(run.status, run.stderr).toBe(0);
    expect(fs.readFileSync(path.join(run.dir, "key.pem"), "utf8")).toBe("key.pem\n");
    expect(fs.statSync(path.join(run.dir, "envoy.yaml")).mode & 0o777).toBe(0o600);
    // Envoy's admin socket goes into this directory: Envoy's user only.
    expect(fs.statSync(run.dir).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(run.dir, "envoy.yaml"), "utf8")).toBe(run.envoyConfig.endsWith("\n") ? run.envoyConfig : `${run.envoyConfig}\n`);
    expect(fs.readFileSync(path.join(run.dir, "args"), "utf8").trim()).toBe(`envoy --config-path ${run.dir}/envoy.yaml --disable-hot-restart --log-level info`);
  });

  it("refuses to start without the init container's key and certificate", () => {
    const run = start(false);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/no certificate and key in .*: the init container makes them before Envoy starts/);
    expect(fs.existsSync(path.join(run.dir, "envoy.yaml"))).toBe(false);
  });
});

describe("the tls-edge spec", () => {
  const issues = (input: unknown) => {
    const result = tlsEdgeSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  };

  it("defaults to the original's values, in the mesh's network, without a public IP", () => {
    expect(tlsEdgeSchema.parse({})).toEqual({
      serviceName: "envoy-ssl-tutorial",
      namespace: "dev",
      appPort: 8080,
      cpu: 256,
      memory: 512,
      cpuArchitecture: "X86_64",
      desiredCount: 1,
      allowedCidrs: [],
      assignPublicIp: false,
      vpcEndpoints: false,
      logRetentionDays: 365,
      caGeneration: 1,
      network: { from: "mesh" },
    });
    expect(tlsEdgeSchema.parse({ network: { vpcId: VPC_ID, subnetIds: [SUBNET_ID] } }).network).toEqual({ from: "existing", vpcId: VPC_ID, subnetIds: [SUBNET_ID] });
  });

  it("states each default once: docs/tls-edge.md's spec block shows the schema's defaults", () => {
    const block = /## The spec\n\n```yaml\n([\s\S]*?)\n```/.exec(fs.readFileSync("docs/tls-edge.md", "utf8"));
    expect(block, "docs/tls-edge.md has a yaml block under ## The spec").not.toBeNull();
    const shown = YAML.parse(block![1]!).tlsEdge;
    expect(tlsEdgeSchema.parse(shown)).toEqual(tlsEdgeSchema.parse({}));
    // Every default is shown (the optional fields without one stay comments).
    expect(Object.keys(shown)).toEqual(Object.keys(tlsEdgeSchema.parse({})));
  });

  it.each([
    [{ cpu: 256, memory: 4096 }, "memory", "allowed memory values: 512, 1024, 2048"],
    [{ cpu: 1024, memory: 1024 }, "memory", "allowed memory values: 2048, 3072, 4096, 5120, 6144, 7168, 8192"],
    [{ cpu: 300 }, "cpu", "use one of 256, 512, 1024, 2048, 4096, 8192, 16384"],
  ])("rejects the Fargate size %j at %s with the allowed values", (input, where, allowed) => {
    expect(issues(input)).toEqual([{ path: where, message: expect.stringContaining(allowed) }]);
  });

  it.each([
    [{ appPort: 443 }, "appPort", "Envoy's TLS listener"],
    [{ appPort: 9901 }, "appPort", "Envoy's ready listener"],
    [{ appPort: 80 }, "appPort", "privileged port"],
    [{ serviceName: "a".repeat(64) }, "serviceName", "DNS label (at most 63"],
    [{ serviceName: "a".repeat(128) }, "serviceName", "at most 127 characters (Cloud Map"],
    [{ namespace: `${"b".repeat(64)}.example` }, "namespace", 'label 1 ("bbbb'],
    [{ ecrRepositoryName: "Team/Flask-App" }, "ecrRepositoryName", 'lowercase; use "team/flask-app"'],
    [{ appImageTag: "latest" }, "appImageTag", 'must not be "latest"'],
    [{ allowedCidrs: ["0.0.0.0/0"] }, "allowedCidrs.0", "must not be the whole internet"],
    [{ network: { from: "mesh", subnetIds: [SUBNET_ID] } }, "network.subnetIds", 'set from: "existing"'],
    [{ network: { vpcId: "vpc-xyz" } }, "network.vpcId", "must be a VPC ID"],
    [{ network: { from: "existing" } }, "network.vpcId", "an existing VPC needs its vpcId here"],
    [{ network: { vpcId: VPC_ID } }, "network.subnetIds", "an existing VPC needs its subnetIds here"],
    [{ logRetentionDays: 10 }, "logRetentionDays", "must be one of 1, 3, 5, 7, 14, 30"],
  ])("rejects %j at %s", (input, where, message) => {
    expect(issues(input)).toContainEqual({ path: where, message: expect.stringContaining(message) });
  });
});

/** A mesh spec (the default) with this tlsEdge section and other top-level fields. */
const meshWith = (tlsEdge: TlsEdgeSpecInput, more: Partial<MeshSpecInput> = {}): MeshSpecInput => ({ ...structuredClone(DEFAULT_SPEC), ...more, tlsEdge });

describe("every check of the TLS edge is a spec rule with a path and a fix", () => {
  // Each was a construct or stack check ("Synthesis failed", no spec path) or no check at all.
  const noPublicSubnet = { network: { egress: "vpc-endpoints" as const, zones: [{ privateSubnet: "10.0.101.0/24" }] } };
  it.each([
    [
      "a public IP beside VPC endpoints",
      { assignPublicIp: true, vpcEndpoints: true, network: EXISTING },
      {},
      "tlsEdge.assignPublicIp",
      /set assignPublicIp: false, or remove vpcEndpoints/,
    ],
    ["VPC endpoints in the mesh's network (NAT)", { vpcEndpoints: true }, {}, "tlsEdge.vpcEndpoints", /S3 gateway endpoint.*remove vpcEndpoints/],
    ["VPC endpoints in the mesh's network (endpoints)", { vpcEndpoints: true }, noPublicSubnet, "tlsEdge.vpcEndpoints", /already reaches AWS/],
    ["a public IP without a public subnet", { assignPublicIp: true }, noPublicSubnet, "tlsEdge.assignPublicIp", /no public subnet.*add network\.zones\[\]\.publicSubnet/],
    [
      "an existing VPC's CIDR of the whole internet",
      { network: { ...EXISTING, vpcCidr: "0.0.0.0/0" } },
      {},
      "tlsEdge.network.vpcCidr",
      /\/0 is outside the \/16 to \/28 AWS allows/,
    ],
    // Terraform's AWS provider refuses a rule's CIDR with host bits set: the plan would fail after synthesis.
    ["an existing VPC's CIDR with host bits set", { network: { ...EXISTING, vpcCidr: "10.1.0.5/16" } }, {}, "tlsEdge.network.vpcCidr", /did you mean 10\.1\.0\.0\/16\?/],
    ["an existing VPC without its subnets", { network: { vpcId: VPC_ID } }, {}, "tlsEdge.network.subnetIds", /needs its subnetIds here/],
    ["the floating app image tag", { appImageTag: "latest" }, {}, "tlsEdge.appImageTag", /must not be "latest"/],
    ["a negative task count", { desiredCount: -1 }, {}, "tlsEdge.desiredCount", /.+/],
    [
      "the Envoy mirror's repository for the app image",
      { ecrRepositoryName: "envoy-ssl-tutorial/envoy" },
      {},
      "tlsEdge.ecrRepositoryName",
      /is the repository of the Envoy mirror/,
    ],
  ])("rejects %s at its spec path, before any stack exists", (_, tlsEdge, more, where, message) => {
    expect(specIssues(meshWith(tlsEdge as TlsEdgeSpecInput, more)).errors).toContainEqual({ path: where, message: expect.stringMatching(message) });
  });

  it("accepts its own VPC endpoints in an existing VPC, and a public IP in the mesh's public subnets", () => {
    expect(specIssues(meshWith({ vpcEndpoints: true, network: EXISTING })).errors).toEqual([]);
    expect(specIssues(meshWith({ assignPublicIp: true })).errors).toEqual([]);
  });
});

describe("the TLS edge's plan decides what its stack builds", () => {
  it("runs the spec's Envoy (versions.envoy, which the version rule checks), mirrored under its own tag", () => {
    const stacks = synthAllStacks(meshWith({}, { versions: { envoy: "1.36.13" } }));
    const edge = stacks["tls-edge"];
    expect(container(edge, "envoy").image).toBe("${aws_ecr_repository.tls_edge_envoy_repository.repository_url}:v1.36.13");
    expect(edge.output.envoy_source_image.value).toBe("envoyproxy/envoy:v1.36.13");
    expect(edge.output.envoy_image_tag.value).toBe("v1.36.13");
  });

  it("gets the Envoy support warnings even when no mesh task runs Envoy itself", () => {
    const services = Object.fromEntries(
      Object.entries(structuredClone(DEFAULT_SPEC).services).map(([name, service]) => [name, { ...service, architecture: "dataplane" as const }]),
    );
    const { warnings } = specIssues(meshWith({}, { services, versions: { envoy: "1.35.13" } }));
    expect(warnings).toContainEqual({ path: "versions.envoy", message: expect.stringMatching(/^Envoy 1\.35 left support/) });
  });

  it("takes the provider's region from the spec: the stack's only variable is app_image_tag", () => {
    const edge = synthAllStacks(meshWith({}, { region: "eu-west-1" }))["tls-edge"];
    expect(edge.provider.aws[0].region).toBe("eu-west-1");
    expect(Object.keys(edge.variable)).toEqual(["app_image_tag"]);
  });
});

describe("networks", () => {
  it("refuses a mesh network spec whose plan was built without the mesh's", () => {
    expect(() => new TlsEdgeStack(Testing.app(), "t", edgePlan({}))).toThrow(/the plan has no mesh network: build the TLS edge's plan with the mesh's/);
  });

  it("takes an existing VPC and its subnets from the spec only (no Terraform variables), and its CIDR from the VPC when the spec leaves it out", () => {
    const bare = synthAlone({ network: { vpcId: VPC_ID, subnetIds: [SUBNET_ID] } });
    expect(Object.keys(bare.variable)).toEqual(["app_image_tag"]);
    expect(bare.data.aws_vpc.vpc).toEqual({ id: VPC_ID });
    expect(Object.values(bare.resource.aws_vpc_security_group_ingress_rule)[0]).toMatchObject({ cidr_ipv4: "${data.aws_vpc.vpc.cidr_block}" });
    expect(one(doc, "aws_ecs_service").network_configuration.subnets).toEqual([SUBNET_ID]);
    expect(one(doc, "aws_service_discovery_private_dns_namespace").vpc).toBe(VPC_ID);
  });

  describe("in the mesh's network: SSM String parameters the mesh writes, never the mesh's state", () => {
    const stacks = synthAllStacks(meshWith({})) as Record<string, any>;
    const tls = stacks["tls-edge"];
    const meshDoc = stacks.mesh;
    const names = planOf().names;

    it("reads the mesh's VPC and subnet IDs by the plan's names, from parameters the mesh writes, with no remote state", () => {
      expect(tls.data.terraform_remote_state).toBeUndefined();
      expect(Object.keys(meshDoc.output).filter((o) => o.startsWith("cross-stack-output-"))).toEqual([]);
      expect(meshDoc.resource.aws_ssm_parameter.tls_edge_vpc_id_parameter).toMatchObject({ name: names.tlsEdgeNetwork.vpcId, type: "String", value: "${aws_vpc.network_vpc.id}" });
      expect(meshDoc.resource.aws_ssm_parameter.tls_edge_subnet_ids_parameter).toMatchObject({
        name: "/consul-ecs/tls-edge/subnet-ids",
        type: "String",
        value: expect.stringMatching(/^\$\{join\(",", \[aws_subnet\.network_private_subnet_1\.id/),
      });
      expect(tls.data.aws_ssm_parameter.mesh_vpc_id).toMatchObject({ name: "/consul-ecs/tls-edge/vpc-id", with_decryption: false });
      expect(tls.data.aws_ssm_parameter.mesh_subnet_ids).toMatchObject({ name: names.tlsEdgeNetwork.subnetIds, with_decryption: false });
      expect(one(tls, "aws_service_discovery_private_dns_namespace").vpc).toBe("${data.aws_vpc.mesh_vpc.id}");
      expect(tls.data.aws_vpc.mesh_vpc.id).toBe("${data.aws_ssm_parameter.mesh_vpc_id.value}");
      expect(one(tls, "aws_ecs_service").network_configuration.subnets).toBe("${data.aws_subnets.mesh_subnets.ids}");
      // The VPC's CIDR is the spec's (a literal), no longer read from the mesh.
      expect(Object.values(tls.resource.aws_vpc_security_group_ingress_rule)[0]).toMatchObject({ cidr_ipv4: "10.0.0.0/16" });
      expect(tls.data.aws_subnets.mesh_subnets.filter).toEqual([
        { name: "vpc-id", values: ["${data.aws_vpc.mesh_vpc.id}"] },
        { name: "tag:Name", values: names.network.zones.map((z) => z.privateSubnet) },
      ]);
      expect(policy(tls)).toEqual([]);
    });

    it("is deployed after the mesh (a stack dependency, no cross-stack reference)", () => {
      const app = Testing.app();
      const { tlsEdge, mesh } = createStacks(app, planOf(meshWith({})));
      expect(tlsEdge!.dependencies).toEqual([mesh]);
    });

    it("uses the mesh's public subnets with assignPublicIp", () => {
      const publicEdge = synthAllStacks(meshWith({ assignPublicIp: true })) as Record<string, any>;
      expect(publicEdge.mesh.resource.aws_ssm_parameter.tls_edge_subnet_ids_parameter.value).toMatch(/aws_subnet\.network_public_subnet_1\.id/);
      expect(publicEdge["tls-edge"].data.aws_subnets.mesh_subnets.filter[1].values).toEqual(names.network.zones.map((z) => z.publicSubnet));
    });

    it("writes no parameter for a TLS edge in an existing VPC", () => {
      const existing = synthAllStacks(meshWith({ network: EXISTING })) as Record<string, any>;
      expect(Object.keys(existing.mesh.resource.aws_ssm_parameter ?? {}).filter((id) => id.startsWith("tls_edge"))).toEqual([]);
    });

    // Anyone with ssm:PutParameter can change a parameter: the plan stops unless it names the mesh's own VPC and subnets.
    const check = (data: any, replacements: Record<string, unknown>) => evaluate(data.lifecycle.postcondition[0].condition, replacements);
    const SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"];

    it("accepts IDs of the right shape, and stops on anything else (real terraform console)", () => {
      const vpc = (value: string) => check(tls.data.aws_ssm_parameter.mesh_vpc_id, { "self.value": value });
      const subnets = (value: string) => check(tls.data.aws_ssm_parameter.mesh_subnet_ids, { "self.value": value });
      expect(vpc(VPC_ID)).toBe("true");
      expect([vpc("vpc-xyz"), vpc(`${VPC_ID},${VPC_ID}`), vpc(`arn:aws:ec2:us-east-1:1:vpc/${VPC_ID}`)]).toEqual(["false", "false", "false"]);
      expect(subnets(SUBNETS.join(","))).toBe("true");
      expect([subnets(""), subnets(`${SUBNETS[0]}, ${SUBNETS[1]}`), subnets(VPC_ID)]).toEqual(["false", "false", "false"]);
      expect(tls.data.aws_ssm_parameter.mesh_vpc_id.lifecycle.postcondition[0].error_message).toMatch(
        /\/consul-ecs\/tls-edge\/vpc-id does not hold a VPC ID: deploy the mesh stack/,
      );
    });

    it("stops on a VPC that is not the mesh's, and on subnets other than exactly the mesh's (real terraform console)", () => {
      const vpc = (cidr: string, tags: Record<string, string>) => check(tls.data.aws_vpc.mesh_vpc, { "self.cidr_block": cidr, "self.tags": tags });
      expect(vpc("10.0.0.0/16", { Name: names.network.vpc })).toBe("true");
      expect(vpc("10.9.0.0/16", { Name: names.network.vpc })).toBe("false");
      expect(vpc("10.0.0.0/16", { Name: "another-vpc" })).toBe("false");
      expect(vpc("10.0.0.0/16", {})).toBe("false");
      const subnets = (listed: string, found: string[]) => check(tls.data.aws_subnets.mesh_subnets, { "data.aws_ssm_parameter.mesh_subnet_ids.value": listed, "self.ids": found });
      expect(subnets(SUBNETS.join(","), [SUBNETS[1], SUBNETS[0]])).toBe("true");
      expect(subnets(SUBNETS[0]!, SUBNETS)).toBe("false");
      expect(subnets(`${SUBNETS.join(",")},subnet-0aaaaaaaaaaaaaaaa`, SUBNETS)).toBe("false");
      expect(tls.data.aws_subnets.mesh_subnets.lifecycle.postcondition[0].error_message).toMatch(/does not list exactly the mesh's private subnets \(consul-ecs-private-1/);
    });
  });

  it("reaches AWS through its own VPC endpoints when asked (a VPC without NAT), the plan's list, with egress to them only", () => {
    const endpoints = synthAlone({ vpcEndpoints: true });
    const services = Object.values(endpoints.data.aws_vpc_endpoint_service).map((s: any) => `${s.service}/${s.service_type}`);
    const task = planOf({ ...DEFAULT_SPEC, tlsEdge: { vpcEndpoints: true, network: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] } } } as MeshSpecInput)
      .tlsEdge!.task;
    // What its tasks call (both images from ECR, awslogs, the certificate's secrets): each an endpoint, S3 the gateway.
    expect(services.sort()).toEqual(
      tlsEdgeApis(task)
        .map((api) => `${api}/${api === "s3" ? "Gateway" : "Interface"}`)
        .sort(),
    );
    expect(services.sort()).toEqual(["ecr.api/Interface", "ecr.dkr/Interface", "logs/Interface", "s3/Gateway", "secretsmanager/Interface"]);
    const egress = Object.values(endpoints.resource.aws_vpc_security_group_egress_rule) as any[];
    const taskEgress = egress.filter((r) => r.security_group_id === "${aws_security_group.tls_edge_security_group_group.id}");
    expect(taskEgress.map((r) => r.referenced_security_group_id ?? r.prefix_list_id)).toEqual([
      "${aws_security_group.aws_endpoints_security_group_group.id}",
      "${aws_vpc_endpoint.aws_endpoints_s3.prefix_list_id}",
    ]);
    for (const r of taskEgress) expect([r.from_port, r.to_port, r.cidr_ipv4]).toEqual([443, 443, undefined]);
    expect(policy(endpoints)).toEqual([]);
    // The mesh's network has a NAT gateway (or endpoints of its own): none by default.
    const meshNetwork = synthAllStacks(meshWith({}))["tls-edge"] as any;
    expect(meshNetwork.resource.aws_vpc_endpoint).toBeUndefined();
    expect(one(meshNetwork, "aws_ecs_service").network_configuration.assign_public_ip).toBe(false);
  });
});

describe("Terraform variables and expressions (real terraform)", () => {
  const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" });
  const bare = synthAlone();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tls-edge-vars-"));
  leftovers.push(dir);
  // Only variables, locals and outputs (no provider to download); the ECS service's desired_count expression as an output.
  const config = {
    variable: bare.variable,
    locals: bare.locals,
    output: {
      image_tag: { value: "${local.app_image_tag_or_unset}" },
      desired_count: { value: one(bare, "aws_ecs_service").desired_count },
      vars: { value: Object.fromEntries(Object.keys(bare.variable).map((n) => [n, `\${var.${n}}`])) },
    },
  };
  fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(config));
  const env = { ...process.env, CHECKPOINT_DISABLE: "1" };

  function apply(vars: Record<string, string>) {
    const args = ["apply", "-auto-approve", "-input=false", "-lock=false", "-no-color", `-state=${path.join(dir, `${Math.random()}.tfstate`)}`];
    const result = spawnSync("terraform", [...args, ...Object.entries(vars).flatMap(([k, v]) => ["-var", `${k}=${v}`])], { cwd: dir, encoding: "utf8", env });
    const output = `${result.stdout}\n${result.stderr}`.replace(/\s+/g, " ");
    return { ok: result.status === 0, output };
  }

  it("has terraform to run with", () => {
    expect(terraform.error, "install terraform >= 1.10").toBeUndefined();
    const init = spawnSync("terraform", ["init", "-input=false", "-backend=false", "-no-color"], { cwd: dir, encoding: "utf8", env });
    expect(init.status, init.stderr).toBe(0);
  });

  it("runs 0 tasks with a placeholder tag until app_image_tag is set, then the desired count with that tag", () => {
    const unset = apply({});
    expect(unset.ok, unset.output).toBe(true);
    expect(unset.output).toMatch(/desired_count = 0 .*image_tag = "app-image-tag-unset"/);
    const set = apply({ app_image_tag: "0123456789ab-cdef01234567" });
    expect(set.ok, set.output).toBe(true);
    expect(set.output).toMatch(/desired_count = 1 .*image_tag = "0123456789ab-cdef01234567"/);
  });

  it.each([
    [{ app_image_tag: "latest" }, 'never "latest"'],
    [{ app_image_tag: "bad tag!" }, "app_image_tag must be the tag scripts/push-images.sh printed"],
  ])("rejects %j", (vars, message) => {
    const result = apply(vars);
    expect(result.ok).toBe(false);
    expect(result.output).toContain(message);
  });
});

describe("scripts/push-images.sh", () => {
  const script = "scripts/push-images.sh";

  const temporary: string[] = [];
  afterAll(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const tempDir = (prefix: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temporary.push(dir);
    return dir;
  };

  /** A PATH with only the named stand-ins (each exits with the given status) plus /usr/bin and /bin. */
  function run(commands: Record<string, number>, args: string[] = [], extraEnv: Record<string, string> = {}) {
    const bin = tempDir("fake-bin-");
    for (const [name, status] of Object.entries(commands)) fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nexit ${status}\n`, { mode: 0o755 });
    const result = spawnSync("bash", [script, ...args], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin`, HOME: os.tmpdir(), ...extraEnv } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("passes shellcheck -x", () => {
    requireShellcheck();
    const result = spawnSync("shellcheck", ["-x", script], { encoding: "utf8" });
    expect(result.status, result.stdout).toBe(0);
  });

  it("names docker when it is missing", () => {
    expect(run({})).toMatchObject({ status: 1, stderr: expect.stringMatching(/error: docker is not installed: install Docker/) });
  });

  it("says so when the Docker engine is not running", () => {
    expect(run({ docker: 1 })).toMatchObject({ status: 1, stderr: expect.stringMatching(/the Docker engine is not running/) });
  });

  it("names the AWS CLI, then missing credentials, before touching any registry", () => {
    expect(run({ docker: 0 })).toMatchObject({ status: 1, stderr: expect.stringMatching(/aws is not installed/) });
    expect(run({ docker: 0, aws: 255 })).toMatchObject({ status: 1, stderr: expect.stringMatching(/no usable AWS credentials/) });
  });

  it("stops with the fix when the stack is not deployed here", () => {
    const result = run({ docker: 0, aws: 0, terraform: 1 }, [], { TLS_EDGE_STACK: "no-such-stack" });
    expect(result).toMatchObject({ status: 1, stderr: expect.stringMatching(/stack no-such-stack is not synthesized here/) });
  });

  it("prints an immutable tag: git SHA + content hash, stable, and new when the sources change", () => {
    const tagOnly = ["--tag-only", "--cpu-architecture", "X86_64"];
    const first = run({}, tagOnly);
    expect(first.status, first.stderr).toBe(0);
    const tag = first.stdout.trim();
    expect(tag).toMatch(/^([0-9a-f]{12}|nogit)-[0-9a-f]{12}-amd64$/);
    expect(run({}, tagOnly).stdout.trim()).toBe(tag);
    const copy = tempDir("app-");
    fs.cpSync("app/flask", copy, { recursive: true });
    expect(run({}, tagOnly, { APP_DIR: copy }).stdout.trim()).toBe(tag);
    fs.appendFileSync(path.join(copy, "app.py"), "\n# changed\n");
    const changed = run({}, tagOnly, { APP_DIR: copy }).stdout.trim();
    expect(changed.split("-")[0]).toBe(tag.split("-")[0]);
    expect(changed).not.toBe(tag);
  });

  it("rejects unknown arguments", () => {
    expect(run({}, ["--push-latest"])).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown argument '--push-latest'/) });
  });
});
