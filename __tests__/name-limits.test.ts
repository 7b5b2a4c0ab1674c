// The longest names a spec allows (a 20-character cluster, 63-character services) must still
// fit every AWS limit once prefixed: checked on the synthesized resources, not on the rules.
import { describe, expect, it } from "vitest";
import { MAX_CLUSTER_NAME, MAX_SERVICE_NAME } from "../lib/spec/schema";
import { NAME_LIMITS } from "../lib/aws-limits";
import { synthAllStacks } from "./support/synth";

const cluster = "c".repeat(MAX_CLUSTER_NAME);
const longService = `s${"x".repeat(MAX_SERVICE_NAME - 1)}`;
const { mesh } = synthAllStacks({
  name: cluster,
  services: {
    [longService]: { image: "hashicorp/http-echo:1.0.0", port: 8080, command: ["-listen=127.0.0.1:8080", "-text=x"] },
    caller: { image: "curlimages/curl:8.11.1", command: ["sleep", "infinity"], upstreams: [{ destination: longService, localBindPort: 9000 }] },
  },
}) as { mesh: any };

/** A name as AWS will see it (names are the spec's, with no Terraform reference in them). */
const resolve = (name: string) => {
  expect(name).not.toContain("${");
  return name;
};
const all = (type: string): any[] => Object.values(mesh.resource[type] ?? {});

describe("names at the longest the spec allows", () => {
  it("keeps IAM name prefixes within 38 characters (Terraform appends 26 to 64)", () => {
    const prefixes = [...all("aws_iam_role"), ...all("aws_iam_instance_profile")].map((r) => resolve(r.name_prefix));
    expect(prefixes.length).toBeGreaterThan(5);
    for (const prefix of prefixes) expect(prefix.length, prefix).toBeLessThanOrEqual(NAME_LIMITS.iamRoleNamePrefix);
  });

  it("keeps security group prefixes, ECS names, log groups and secrets within their limits", () => {
    for (const sg of all("aws_security_group")) {
      expect(resolve(sg.name_prefix).length).toBeLessThanOrEqual(NAME_LIMITS.securityGroupNamePrefix);
      expect(resolve(sg.name_prefix)).not.toMatch(/^sg-/);
    }
    for (const r of [...all("aws_ecs_service"), ...all("aws_ecs_cluster")]) expect(resolve(r.name)).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
    for (const td of all("aws_ecs_task_definition")) expect(resolve(td.family)).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
    for (const lg of all("aws_cloudwatch_log_group")) expect(resolve(lg.name)).toMatch(/^[.\-_/#A-Za-z0-9]{1,512}$/);
    // Secrets Manager names: 512 characters; Terraform appends 26 to a name_prefix.
    for (const secret of all("aws_secretsmanager_secret")) expect(resolve(secret.name_prefix).length).toBeLessThanOrEqual(512 - 26);
  });

  it("registers the long service under its full Consul name", () => {
    const td = mesh.resource.aws_ecs_task_definition[`service_${longService}_task_definition`];
    expect(JSON.parse(td.container_definitions)[0].command[4]).toContain(`name = "${longService}"`);
  });
});
