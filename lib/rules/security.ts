// What the spec could open up by accident: secrets in plaintext environment variables, apps
// running as root, public IPs.
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";

/** Variable names that usually hold a secret (AVD-AWS-0036: no plaintext secrets in environment). */
export const SECRET_LIKE_NAME = /PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL/i;

export function checkSecurity(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  for (const service of plan.services) {
    for (const name of Object.keys(service.environment)) {
      if (SECRET_LIKE_NAME.test(name) && !service.allowPlaintextEnvironment.includes(name)) {
        errors.push({
          path: `${service.path}.environment.${name}`,
          message: `looks like a secret, and environment values are plaintext in the task definition: move it to secrets (a Secrets Manager or SSM reference); if it is not a secret, list it in allowPlaintextEnvironment`,
        });
      }
    }
    service.allowPlaintextEnvironment.forEach((name, i) => {
      if (!(name in service.environment)) {
        errors.push({ path: `${service.path}.allowPlaintextEnvironment[${i}]`, message: `"${name}" is not in environment; remove it` });
      }
    });
    if (service.user === undefined) {
      warnings.push({
        path: `${service.path}.user`,
        message: `unset: the app runs as its image's default user, often root; set an unprivileged user such as "65534" (nobody)`,
      });
    }
    // The agent architecture's boundary: its consul-agent container holds the gossip key, the shared
    // agent token and the service's token, and ECS Exec can open a shell in any container of the task.
    if (service.enableExecuteCommand && service.architecture === "agent") {
      warnings.push({
        path: `${service.path}.enableExecuteCommand`,
        message:
          "ECS Exec reaches every container of an agent task, consul-agent included, which holds the gossip key, the mesh's agent token and the service's token: anyone allowed to exec holds them too; use architecture: dataplane for a service you exec into (no stored token or gossip key in its task)",
      });
    }
    if (service.assignPublicIp) {
      if (service.launchType !== "FARGATE") {
        errors.push({ path: `${service.path}.assignPublicIp`, message: "only Fargate tasks can get a public IP; remove it or set launchType: FARGATE" });
      } else if (!plan.network.zones.some((zone) => zone.publicSubnet !== undefined)) {
        errors.push({ path: `${service.path}.assignPublicIp`, message: "no zone has a public subnet for these tasks; add network.zones[].publicSubnet or remove assignPublicIp" });
      } else {
        warnings.push({
          path: `${service.path}.assignPublicIp`,
          message: "tasks run in the public subnets with public IPs (CKV_AWS_333): only where a NAT gateway or VPC endpoints are not an option",
        });
      }
    }
  }
}
