// Sizes of what ships, measured on the artifact itself: each server's user data is rendered from
// the plan exactly as the ConsulServers construct renders it, with the longest values AWS can
// put into its slots, and gzipped as Terraform ships it.
import { gzipSync } from "node:zlib";
import { USER_DATA_MAX_BYTES } from "../aws-limits";
import { SERVER_SECRET_SLOTS, SERVER_SLOTS, loginRolesArn } from "../plan/server";
import type { MeshPlan } from "../plan/types";
import { renderText } from "../render/text";
import type { RuleResult } from "../issues";

export function checkArtifacts(plan: MeshPlan, { errors }: RuleResult): void {
  // Terraform fills these in at apply time: measure with the longest values AWS produces.
  const arn = (service: string, resource: string) => `arn:aws-us-gov:${service}:us-gov-west-1:000000000000:${resource}`;
  const bindings: Record<string, string> = {
    [SERVER_SLOTS.dataVolume]: "vol-0123456789abcdef0",
    [SERVER_SLOTS.autoScalingGroup]: `${plan.name}-consul-server-5`,
    [SERVER_SLOTS.snapshotBucket]: `${plan.name}-consul-snapshots-${"x".repeat(26)}`,
    [SERVER_SLOTS.snapshotKey]: arn("kms", "key/00000000-0000-0000-0000-000000000000"),
    [SERVER_SLOTS.loginRoles]: loginRolesArn("aws-us-gov", "000000000000", plan.server.login?.taskRolePath ?? "/"),
    [SERVER_SLOTS.clusterArn]: arn("ecs", `cluster/${plan.name}`),
  };
  for (const name of Object.values(SERVER_SECRET_SLOTS)) bindings[name] = arn("secretsmanager", `secret:${"x".repeat(plan.name.length + 60)}`);
  for (const node of plan.server.nodes) {
    const bytes = compressedUserDataBytes(renderText(node.userData, bindings));
    if (bytes > USER_DATA_MAX_BYTES) {
      errors.push({
        path: "consul",
        message: `the user data of Consul server ${node.index + 1} is about ${bytes} bytes gzipped, over the EC2 limit of ${USER_DATA_MAX_BYTES}`,
      });
    }
  }
}

/**
 * Terraform's base64gzip compresses with Go's compress/gzip at its default level; zlib at the same
 * level compresses slightly better, so its size gets a 10 % allowance on top. Measured on
 * examples/production.yaml's server user data with these stand-ins: Terraform 1.11.4's
 * base64gzip gave 13,725 bytes, zlib 13,643 (0.6 % fewer).
 */
export function compressedUserDataBytes(script: string): number {
  return Math.ceil(gzipSync(Buffer.from(script, "utf8"), { level: 6 }).length * 1.1);
}
