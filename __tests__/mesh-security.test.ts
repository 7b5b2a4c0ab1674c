// How the secure-by-default mesh hands out its keys and tokens: by reference, to exactly the
// containers and roles that need them.
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
  it("generates the gossip key, CA, server certificate and tokens in Terraform", () => {
    expect(mesh.resource.random_bytes.consul_secrets_gossip_key_bytes.length).toBe(32);
    const request = mesh.resource.tls_cert_request.consul_secrets_server_cert_request;
    expect(request.dns_names).toContain("server.aws.consul");
    expect(request.ip_addresses).toEqual(["127.0.0.1", "10.0.101.100"]);
    expect(mesh.resource.tls_self_signed_cert.consul_secrets_ca_certificate.is_ca_certificate).toBe(true);
    expect(Object.keys(mesh.resource.aws_secretsmanager_secret).sort()).toEqual([
      "consul_secrets_agent_token",
      "consul_secrets_ca_cert",
      "consul_secrets_gossip_key",
      "consul_secrets_management_token",
      "consul_secrets_server_cert",
      "consul_secrets_server_key",
      "consul_secrets_service_token_http-client",
      "consul_secrets_service_token_http-server",
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
    ]);
  });

  it("puts no secret value in user data, environment or outputs", () => {
    const secretValue = /(random_bytes|random_uuid|tls_private_key|tls_locally_signed_cert|secret_string)/;
    for (const instance of Object.values(mesh.resource.aws_instance) as any[]) expect(instance.user_data).not.toMatch(secretValue);
    for (const td of Object.values(mesh.resource.aws_ecs_task_definition) as any[]) {
      for (const c of JSON.parse(td.container_definitions)) {
        for (const env of c.environment ?? []) expect(`${env.name}=${env.value}`).not.toMatch(/TOKEN|GOSSIP|PRIVATE|secret_string|random_/i);
      }
    }
    for (const [name, output] of Object.entries(mesh.output) as [string, any][]) {
      if (name === "consul_ca_cert_pem") continue; // a public certificate
      expect(JSON.stringify(output.value), name).not.toMatch(secretValue);
    }
  });

  it("lets the server read its own secrets and the token manifest, nothing else", () => {
    const [policy] = policiesOf("consul_server_instance_role_role");
    expect(policy.Statement[0].Action).toEqual(["secretsmanager:GetSecretValue"]);
    expect(policy.Statement[0].Resource).toHaveLength(8);
    expect(policy.Statement[1]).toEqual({ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: ["${aws_ssm_parameter.consul_secrets_service_token_manifest.arn}"] });
  });

  it("keeps the server's user data independent of the services, so adding one never touches the server", () => {
    const withThird = synthAllStacks({
      services: {
        "http-server": { image: "hashicorp/http-echo:1.0.0", port: 80, command: ["-listen=127.0.0.1:80", "-text=hello world"], count: 3, healthCheck: { type: "http" } },
        "http-client": { image: "curlimages/curl:8.11.1", port: 8080, command: ["sleep", "infinity"], upstreams: [{ destination: "http-server", localBindPort: 8085 }] },
        "http-admin": { image: "curlimages/curl:8.11.1", command: ["sleep", "infinity"] },
      },
    }) as { mesh: any };
    expect(withThird.mesh.resource.aws_instance.consul_server_instance.user_data).toBe(mesh.resource.aws_instance.consul_server_instance.user_data);
    expect(withThird.mesh.resource.aws_ssm_parameter.consul_secrets_service_token_manifest.value).toContain("http-admin");
  });

  it("enables ECS Exec only where the spec asks, with a task role that can open the channels", () => {
    const services = mesh.resource.aws_ecs_service;
    expect(services["service_http-client_service"].enable_execute_command).toBe(true);
    expect(services["service_http-server_service"].enable_execute_command).toBe(false);
    expect(policiesOf("service_http-server_task_role_role")).toEqual([]);
    const [exec] = policiesOf("service_http-client_task_role_role");
    expect(exec.Statement[0].Action).toContain("ssmmessages:CreateControlChannel");
  });
});
