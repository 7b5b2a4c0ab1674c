// Sizes of what ships, measured on the artifact itself: the server's user data is rendered
// from the plan exactly as the ConsulServer construct renders it, with the longest values AWS
// can put into its slots.
import { USER_DATA_MAX_BYTES } from "../aws-limits";
import { SERVER_SLOTS, serviceTokenManifestName } from "../plan/build";
import type { MeshPlan } from "../plan/types";
import { renderText } from "../render/text";
import type { RuleResult } from "./index";

export function checkArtifacts(plan: MeshPlan, { errors }: RuleResult): void {
  // Terraform fills in the ARNs at apply time: measure with the longest ones AWS can produce.
  const arn = `arn:aws-us-gov:secretsmanager:us-gov-west-1:000000000000:secret:${"x".repeat(plan.name.length + 60)}`;
  const bindings: Record<string, string> = {
    [SERVER_SLOTS.region]: "us-gov-west-1",
    [SERVER_SLOTS.serviceTokenManifest]: serviceTokenManifestName(plan.name),
  };
  for (const name of Object.values(SERVER_SLOTS)) if (name.startsWith("secret:")) bindings[name] = arn;
  const bytes = Buffer.byteLength(renderText(plan.server.userData, bindings), "utf8");
  if (bytes > USER_DATA_MAX_BYTES) {
    errors.push({ path: "consul", message: `the Consul server user data is ${bytes} bytes, over the EC2 limit of ${USER_DATA_MAX_BYTES}` });
  }
}
