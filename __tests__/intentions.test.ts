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

  it("reaches Consul over HTTPS with the management token and CA read from Secrets Manager", () => {
    const { intentions } = synthAll(DEFAULT_SPEC);
    expect(intentions.provider.consul[0]).toEqual({
      address: "${var.consul_address}",
      scheme: "https",
      datacenter: "aws",
      ca_pem: "${data.aws_secretsmanager_secret_version.consul_ca.secret_string}",
      token: "${data.aws_secretsmanager_secret_version.management_token.secret_string}",
    });
    expect(intentions.variable.consul_address.default).toBe("127.0.0.1:8501");
    expect(intentions.data.aws_secretsmanager_secret_version.management_token.secret_id).toMatch(/terraform_remote_state\.cross-stack-reference-input-mesh\.outputs\./);
  });

  it("keeps state paths relative, so the JSON is the same in every clone", () => {
    const { mesh, intentions } = synthAll(DEFAULT_SPEC);
    expect(mesh.terraform.backend).toEqual({ local: { path: "../../../terraform.mesh.tfstate" } });
    expect(intentions.data.terraform_remote_state["cross-stack-reference-input-mesh"].config).toEqual({ path: "../../../terraform.mesh.tfstate" });
  });
});
