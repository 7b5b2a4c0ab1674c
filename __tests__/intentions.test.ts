import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import { planOf, synthAllStacks } from "./support/synth";

const synthAll = (input: MeshSpecInput) => synthAllStacks(input) as { mesh: any; intentions: any };

const entries = (doc: any) =>
  Object.fromEntries(Object.values(doc.resource.consul_config_entry).map((e: any) => [e.name, { kind: e.kind, sources: JSON.parse(e.config_json).Sources }]));

describe("intentions as code", () => {
  it("allows each declared upstream and denies everything else", () => {
    const { intentions } = synthAll(DEFAULT_SPEC);
    expect(entries(intentions)).toEqual({
      "*": { kind: "service-intentions", sources: [{ Name: "*", Action: "deny", Description: expect.any(String) }] },
      "http-server": { kind: "service-intentions", sources: [{ Name: "http-client", Action: "allow", Description: "upstream of http-client" }] },
    });
  });

  it("turns the walkthrough's deny into a one-line spec change", () => {
    const { intentions } = synthAll({ ...DEFAULT_SPEC, intentions: [{ source: "http-client", destination: "http-server", action: "deny" }] });
    expect(entries(intentions)["http-server"].sources).toEqual([{ Name: "http-client", Action: "deny", Description: "intentions[0] of the spec" }]);
  });

  it("keeps explicit allows for pairs without an upstream, sorted for stable plans", () => {
    const plan = planOf({
      ...DEFAULT_SPEC,
      intentions: [
        { source: "*", destination: "http-client", action: "deny" },
        { source: "http-server", destination: "http-client", action: "allow" },
      ],
    });
    expect(plan.intentions.get("http-client")!.map((s) => `${s.name}:${s.action}`)).toEqual(["*:deny", "http-server:allow"]);
  });

  it("reaches Consul over HTTPS with the management token and CA read ephemerally, from the secrets the mesh's parameters name", () => {
    const { mesh, intentions } = synthAll(DEFAULT_SPEC);
    expect(intentions.provider.consul[0]).toEqual({
      address: "${var.consul_address}",
      scheme: "https",
      datacenter: "aws",
      ca_pem: "${ephemeral.aws_secretsmanager_secret_version.consul_ca.secret_string}",
      token: "${ephemeral.aws_secretsmanager_secret_version.management_token.secret_string}",
    });
    expect(intentions.variable.consul_address.default).toBe("127.0.0.1:8501");
    // Each secret by the parameter the mesh writes its ARN to, found by name: the two stacks agree on the names.
    for (const [read, parameter, secret] of [
      ["management_token", "intentions_management_token_parameter", "management_token"],
      ["consul_ca", "intentions_ca_cert_parameter", "ca_cert"],
    ] as const) {
      expect(intentions.ephemeral.aws_secretsmanager_secret_version[read].secret_id).toBe(`\${data.aws_ssm_parameter.${read}_secret_arn.value}`);
      const written = mesh.resource.aws_ssm_parameter[`consul_secrets_${parameter}`];
      expect(written).toMatchObject({ type: "String", value: `\${aws_secretsmanager_secret.consul_secrets_${secret}.arn}` });
      expect(intentions.data.aws_ssm_parameter[`${read}_secret_arn`].name).toBe(written.name);
    }
    // Nothing of the mesh's state: no remote state, no secret read by a data source.
    expect(Object.keys(intentions.data).sort()).toEqual(["aws_ssm_parameter"]);
  });

  it("keeps state paths relative, so the JSON is the same in every clone", () => {
    const { mesh, intentions } = synthAll(DEFAULT_SPEC);
    expect(mesh.terraform.backend).toEqual({ local: { path: "../../../terraform.mesh.tfstate" } });
    expect(intentions.terraform.backend).toEqual({ local: { path: "../../../terraform.intentions.tfstate" } });
  });
});

describe("the SSM parameters the intentions stack reads the mesh through", () => {
  // Anyone in the account with ssm:PutParameter can change a parameter: its value must be the mesh's
  // own secret, or the deployer would send another secret to the Consul API as its token.
  const [token, ca] = ["management_token_secret_arn", "consul_ca_secret_arn"].map((id) => (synthAllStacks(DEFAULT_SPEC).intentions as any).data.aws_ssm_parameter[id]);
  const holds = (parameter: any, value: string) =>
    execFileSync("terraform", ["console"], {
      input: parameter.lifecycle.postcondition[0].condition.replace(/^\$\{|\}$/g, "").replace("self.value", JSON.stringify(value)),
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    }).trim();
  const arn = (name: string, region = "us-east-1", partition = "aws") => `arn:${partition}:secretsmanager:${region}:123456789012:secret:${name}-AbC123`;
  const suffix = "20261207151602123400000001";

  it("accepts the ARN of the mesh's secret, in any partition (real terraform console)", () => {
    expect(holds(token, arn(`consul-ecs/consul/management-token-${suffix}`))).toBe("true");
    expect(holds(token, arn(`consul-ecs/consul/management-token-${suffix}`, "us-east-1", "aws-us-gov"))).toBe("true");
    expect(holds(ca, arn(`consul-ecs/consul/ca-cert-${suffix}`))).toBe("true");
  });

  it("stops the plan on any other secret: another name, another mesh's, another region, or the token's parameter naming the CA", () => {
    expect(holds(token, arn(`attacker/management-token-${suffix}`))).toBe("false");
    expect(holds(token, arn(`other-mesh/consul/management-token-${suffix}`))).toBe("false");
    expect(holds(token, arn(`consul-ecs/consul/management-token-${suffix}`, "eu-west-1"))).toBe("false");
    expect(holds(token, arn(`consul-ecs/consul/ca-cert-${suffix}`))).toBe("false");
    expect(holds(token, `${arn(`consul-ecs/consul/management-token-${suffix}`)}x`)).toBe("false");
    expect(token.lifecycle.postcondition[0].error_message).toMatch(/does not name the mesh's secret consul-ecs\/consul\/management-token-\* in us-east-1/);
  });
});
