// How the secure-by-default mesh hands out its keys and tokens: by reference, to exactly the
// containers and roles that need them.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { synthAllStacks } from "./support/synth";

const { mesh } = synthAllStacks() as { mesh: any };
const taskDefinition = (service: string) => mesh.resource.aws_ecs_task_definition[`service_${service}_task_definition`];
const containers = (service: string): any[] => JSON.parse(taskDefinition(service).container_definitions);
const secretArn = (id: string) => `\${aws_secretsmanager_secret.consul_secrets_${id}.arn}`;
const policiesOf = (role: string) =>
  Object.values(mesh.resource.aws_iam_role_policy)
    .filter((p: any) => p.role === `\${aws_iam_role.${role}.id}`)
    .map((p: any) => JSON.parse(p.policy));

describe("secrets of the mesh", () => {
  it("has no tls_* or random_* resource: the servers make the RPC CA and their certificates, Terraform only the secrets' containers", () => {
    expect(Object.keys(mesh.resource).filter((type) => type.startsWith("random_") || type.startsWith("tls_"))).toEqual([]);
    // Nothing is left for the tls provider to do: Terraform does not download it for this stack.
    expect(mesh.provider.tls).toBeUndefined();
    expect(mesh.terraform.required_providers.tls).toBeUndefined();
    expect(Object.keys(mesh.resource.aws_secretsmanager_secret).sort()).toEqual([
      "consul_secrets_agent_token",
      "consul_secrets_ca_cert",
      "consul_secrets_gossip_key",
      "consul_secrets_management_token",
      "consul_secrets_rpc_ca_key",
      "consul_secrets_service_token_http-client",
      "consul_secrets_service_token_http-server",
    ]);
    // The two the first server writes have no version Terraform writes; every other has a write-only one.
    expect(Object.keys(mesh.resource.aws_secretsmanager_secret_version).sort()).toEqual(
      ["agent_token", "gossip_key", "management_token", "service_token_http-client", "service_token_http-server"].map((n) => `consul_secrets_${n}_value`),
    );
    // The server's user data makes the CA into those two secrets under the generation's token, and its
    // certificate for the names the clients verify (the fixed address included).
    const userData: string = mesh.locals.consul_servers_server_1_user_data;
    expect(userData).toContain(`settle_secret "RPC CA" "$RPC_CA_KEY_SECRET" 'consul-ecs-mesh-rpc-ca-generation-0001' make_rpc_ca valid_rpc_ca "$ca_dir/rpc-ca.json"`);
    expect(userData).toContain(`settle_secret "CA certificate" "$CA_CERT_SECRET" 'consul-ecs-mesh-rpc-ca-generation-0001' copy_ca_cert valid_ca_cert`);
    expect(userData).toContain(`readonly RPC_CA_KEY_SECRET='${secretArn("rpc_ca_key")}'`);
    expect(userData).toContain(`readonly CA_CERT_SECRET='${secretArn("ca_cert")}'`);
    expect(userData).toContain("subjectAltName='DNS:server.aws.consul,DNS:localhost,IP:127.0.0.1,IP:10.0.101.100'");
    // On the mesh's own KMS key (CKV_AWS_149).
    for (const secret of Object.values(mesh.resource.aws_secretsmanager_secret) as any[]) expect(secret.kms_key_id).toBe("${aws_kms_key.kms_key_key.arn}");
  });

  /**
   * Each write-only value as real Terraform evaluates it, with a stand-in for every ephemeral
   * random_password (an ephemeral value is opened only at plan or apply, with its provider).
   */
  function evaluateWriteOnly(names: readonly string[], standIn: string): Record<string, string> {
    const versions = mesh.resource.aws_secretsmanager_secret_version;
    const expressions = names.map((name) => {
      const version = versions[`consul_secrets_${name}_value`];
      expect(version.secret_string, name).toBeUndefined();
      expect(version.secret_string_wo_version, name).toBe(1);
      return version.secret_string_wo.slice(2, -1).replace(/ephemeral\.random_password\.[A-Za-z0-9_-]+\.result/g, JSON.stringify(standIn));
    });
    const run = spawnSync("terraform", ["console"], { input: `jsonencode([${expressions.join(", ")}])\n`, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    expect(run.status, run.stderr).toBe(0);
    const values = JSON.parse(JSON.parse(run.stdout.trim())) as string[];
    return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
  }
  /** Whether the servers' and acl-sync's own check (templates/consul/uuid-pattern.partial.hbs, bash ERE) accepts `value`. */
  const isConsulUuid = (value: string) =>
    spawnSync("bash", ["-c", `${fs.readFileSync("templates/consul/uuid-pattern.partial.hbs", "utf8")}\n[[ "$1" =~ $UUID ]]`, "_", value]).status === 0;

  it("makes the gossip key and every token from ephemeral values, in the shapes the servers accept", () => {
    const tokens = ["agent_token", "service_token_http-client", "service_token_http-server"];
    const values = evaluateWriteOnly(["gossip_key", "management_token", ...tokens], "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z");
    // The user data's own check of the gossip key, run as it is written there.
    const check = fs
      .readFileSync("templates/user-data/consul-server.sh.hbs", "utf8")
      .split("\n")
      .find((line) => line.startsWith('[[ "$gossip_key" =~'))!;
    expect(spawnSync("bash", ["-c", `fail() { exit 1; }\ngossip_key="$1"\n${check}`, "_", values.gossip_key!]).status).toBe(0);
    expect(spawnSync("bash", ["-c", `fail() { exit 1; }\ngossip_key="$1"\n${check}`, "_", "not-a-key"]).status).toBe(1);
    expect(isConsulUuid(values.management_token!)).toBe(true);
    expect(isConsulUuid("0895ec67-a509-cc13-b738-9cdd5871efa")).toBe(false);
    for (const token of tokens) {
      const { AccessorID, SecretID } = JSON.parse(values[token]!);
      expect([isConsulUuid(AccessorID), isConsulUuid(SecretID)], token).toEqual([true, true]);
      expect(AccessorID).not.toBe(SecretID);
    }
    // The management token is a SecretID made as the other tokens' are: the same stand-in gives the same value.
    expect(JSON.parse(values.agent_token!).SecretID).toBe(values.management_token);
    expect(Object.keys(mesh.ephemeral.random_password).sort()).toEqual([
      "consul_secrets_agent_token_password",
      "consul_secrets_gossip_key_password",
      "consul_secrets_management_token_password",
      "consul_secrets_service_token_http-client_password",
      "consul_secrets_service_token_http-server_password",
    ]);
  });

  it("gives each task its own service token and the shared agent secrets, by reference", () => {
    for (const service of ["http-server", "http-client"]) {
      const [agent, bootstrap, envoy, app] = containers(service);
      const token = `${secretArn(`service_token_${service}`)}:SecretID::`;
      expect(agent.secrets).toEqual([
        { name: "CONSUL_AGENT_TOKEN", valueFrom: `${secretArn("agent_token")}:SecretID::` },
        { name: "CONSUL_CA_PEM", valueFrom: secretArn("ca_cert") },
        { name: "CONSUL_GOSSIP_KEY", valueFrom: secretArn("gossip_key") },
        { name: "CONSUL_SERVICE_TOKEN", valueFrom: token },
      ]);
      expect(bootstrap.secrets).toEqual([{ name: "CONSUL_HTTP_TOKEN", valueFrom: token }]);
      expect(envoy.secrets).toBeUndefined();
      expect(app.secrets).toEqual([]);
    }
  });

  it("lets each execution role read exactly its task's secrets", () => {
    const [policy] = policiesOf("service_http-server_execution_role_role");
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [secretArn("gossip_key"), secretArn("ca_cert"), secretArn("agent_token"), secretArn("service_token_http-server")],
      },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: ["${aws_kms_key.kms_key_key.arn}"] },
      // The first pull of a pull-through cached image creates its repository: only under this mesh's prefix.
      {
        Effect: "Allow",
        Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
        Resource: ["arn:${data.aws_partition.partition.partition}:ecr:us-east-1:${data.aws_caller_identity.account.account_id}:repository/consul-ecs/ecrpublic/*"],
      },
    ]);
  });

  it("puts no secret value in user data, environment or outputs", () => {
    const secretValue = /(random_bytes|random_uuid|random_password|ephemeral\.|tls_private_key|tls_locally_signed_cert|secret_string)/;
    for (const instance of Object.values(mesh.resource.aws_instance) as any[]) expect(JSON.stringify(instance)).not.toMatch(secretValue);
    for (const [name, script] of Object.entries(mesh.locals)) expect(script, name).not.toMatch(secretValue);
    for (const td of Object.values(mesh.resource.aws_ecs_task_definition) as any[]) {
      for (const c of JSON.parse(td.container_definitions)) {
        for (const env of c.environment ?? []) expect(`${env.name}=${env.value}`).not.toMatch(/TOKEN|GOSSIP|PRIVATE|secret_string|random_/i);
      }
    }
    for (const [name, output] of Object.entries(mesh.output) as [string, any][]) {
      expect(JSON.stringify(output.value), name).not.toMatch(secretValue);
    }
  });

  it("lets the server read its secrets, write only the RPC CA's two, and read exactly the service token secrets Terraform made, nothing else", () => {
    const policy = JSON.parse(mesh.resource.aws_iam_role_policy["consul_servers_server_1_role_policy_read-consul-secrets"].policy);
    const account = "${data.aws_caller_identity.account.account_id}";
    const partition = "${data.aws_partition.partition.partition}";
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [secretArn("gossip_key"), secretArn("management_token"), secretArn("agent_token"), secretArn("rpc_ca_key"), secretArn("ca_cert")],
      },
      // The first server to boot writes the RPC CA: those two secrets, and a data key only for them, only through Secrets Manager.
      { Effect: "Allow", Action: ["secretsmanager:PutSecretValue"], Resource: [secretArn("rpc_ca_key"), secretArn("ca_cert")] },
      {
        Effect: "Allow",
        Action: ["kms:GenerateDataKey"],
        Resource: ["${aws_kms_key.kms_key_key.arn}"],
        Condition: {
          StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "kms:EncryptionContext:SecretARN": [secretArn("rpc_ca_key"), secretArn("ca_cert")] },
        },
      },
      // Not a wildcard under their prefix: a secret someone else creates there cannot become a token.
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn("service_token_http-client"), secretArn("service_token_http-server")] },
      {
        Effect: "Allow",
        Action: ["ssm:GetParametersByPath"],
        Resource: [`arn:${partition}:ssm:us-east-1:${account}:parameter/consul-ecs/consul/service-tokens`],
      },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: ["${aws_kms_key.kms_key_key.arn}"] },
    ]);
  });

  it("keeps the server's user data independent of the services, so adding one never touches the server: its policy only gains the new token's secret", () => {
    const withThird = synthAllStacks({
      consul: { serverPrivateIps: ["10.0.101.100"] },
      services: {
        "http-server": { image: "hashicorp/http-echo:1.0.0", port: 80, command: ["-listen=127.0.0.1:80", "-text=hello world"], count: 3, healthCheck: { type: "http" } },
        "http-client": { image: "curlimages/curl:8.11.1", port: 8080, command: ["sleep", "infinity"], upstreams: [{ destination: "http-server", localBindPort: 8085 }] },
        "http-admin": { image: "curlimages/curl:8.11.1", command: ["sleep", "infinity"] },
      },
    }) as { mesh: any };
    expect(withThird.mesh.resource.aws_instance.consul_servers_server_1_instance).toEqual(mesh.resource.aws_instance.consul_servers_server_1_instance);
    expect((withThird.mesh as any).locals.consul_servers_server_1_user_data).toBe((mesh as any).locals.consul_servers_server_1_user_data);
    const tokens = (m: any) =>
      JSON.parse(m.resource.aws_iam_role_policy["consul_servers_server_1_role_policy_read-consul-secrets"].policy).Statement.find((st: any) =>
        st.Resource.some((r: string) => r.includes("service_token_")),
      ).Resource;
    expect(tokens(withThird.mesh)).toEqual([...tokens(mesh), secretArn("service_token_http-admin")].sort());
    expect(withThird.mesh.resource.aws_ssm_parameter["consul_secrets_service_token_http-admin_parameter"]).toMatchObject({
      name: "/consul-ecs/consul/service-tokens/http-admin",
      value: "${aws_secretsmanager_secret.consul_secrets_service_token_http-admin.arn}",
    });
  });

  it("enables ECS Exec only where the spec asks, with a task role that can open the channels", () => {
    const services = mesh.resource.aws_ecs_service;
    expect(services["service_http-client_service"].enable_execute_command).toBe(true);
    expect(services["service_http-server_service"].enable_execute_command).toBe(false);
    expect(policiesOf("service_http-server_task_role_role")).toEqual([]);
    const [exec] = policiesOf("service_http-client_task_role_role");
    expect(exec.Statement[0].Action).toContain("ssmmessages:CreateControlChannel");
  });

  it("gives the task's local Consul API no default token: anonymous requests get nothing, the service token only registers", () => {
    for (const service of ["http-server", "http-client"]) {
      const script: string = containers(service)[0].entryPoint[2];
      const secretsHcl = /<<EOF_SECRETS\n([\s\S]*?)\nEOF_SECRETS/.exec(script)![1]!;
      expect(secretsHcl).toContain('config_file_service_registration = "$CONSUL_SERVICE_TOKEN"');
      expect(secretsHcl).toContain('agent                            = "$CONSUL_AGENT_TOKEN"');
      expect(secretsHcl).not.toMatch(/\bdefault\b/);
      // The agent's own health check needs no token at all.
      expect(containers(service)[0].healthCheck.command.join(" ")).not.toMatch(/token|members/i);
    }
  });

  it("runs the apps as the unprivileged users the spec names", () => {
    expect(containers("http-server")[3].user).toBe("65534");
    expect(containers("http-client")[3].user).toBe("100");
    expect(containers("http-server")[2].user).toBe("101");
  });
});
