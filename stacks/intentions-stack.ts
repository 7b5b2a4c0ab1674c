import type { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { namedVariable } from "../lib/constructs/named-variable";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { ConsulProvider } from "@cdktf/provider-consul/lib/provider";
import { MeshBaseStack, type StateBackend } from "./base-stack";
import { MeshIntentions } from "../lib/constructs/mesh-intentions";
import { MeshTraffic } from "../lib/constructs/mesh-traffic";
import { EphemeralResource } from "../lib/constructs/ephemeral";
import { CONSUL_PORTS } from "../lib/facts";
import type { MeshPlan } from "../lib/plan/types";

/** The addresses this stack gave the dataplane login before the servers created it (0.1.0). */
const FORMERLY_MANAGED_LOGIN = [
  "consul_acl_auth_method.dataplane_login_auth_method",
  "consul_acl_binding_rule.dataplane_login_binding_rule",
  "consul_node.dataplane_login_synthetic_node",
] as const;

/**
 * Intentions as code, applied to the running Consul server through its HTTPS API with the
 * management token. A separate stack because that API exists only once the mesh stack is
 * deployed, and the deployer reaches it through an SSM port-forwarding session (README).
 */
export class IntentionsStack extends MeshBaseStack {
  public readonly intentions: MeshIntentions;
  public readonly traffic: MeshTraffic;

  constructor(scope: Construct, id: string, plan: MeshPlan, backend?: StateBackend) {
    super(scope, id, backend);
    const address = namedVariable(this, "consul_address", {
      type: "string",
      default: `127.0.0.1:${CONSUL_PORTS.https}`,
      description: "host:port of the Consul HTTPS API as the deployer reaches it (an SSM port forward to the server by default)",
    });

    // The mesh's region (where its secrets are): the spec's, like every value a rule checks.
    new AwsProvider(this, "aws", { region: plan.region });
    // The token and CA are read ephemerally (never in this stack's state or plan), from the secrets the
    // mesh's parameters name: by the plan's literal names, so no reference to the mesh stack (whose whole
    // state cdktf would otherwise hand this stack through terraform_remote_state).
    // A parameter is writable by anyone in the account with ssm:PutParameter: its value must be the
    // ARN of the mesh's own secret (its region, its name prefix plus what Terraform and Secrets Manager
    // append), or the deployer would send another secret to the Consul API as its token.
    const secret = (id: string, parameterName: string, secretNamePrefix: string) => {
      const pattern = `^arn:aws(-[a-z]+)*:secretsmanager:${plan.region}:[0-9]{12}:secret:${regexLiteral(secretNamePrefix)}[0-9a-f]{26}-[A-Za-z0-9]{6}$`;
      const arn = new DataAwsSsmParameter(this, `${id}_secret_arn`, {
        name: parameterName,
        // A String (an ARN): nothing to decrypt, and nothing secret in this stack's state.
        withDecryption: false,
        lifecycle: {
          postcondition: [
            {
              condition: `\${can(regex(${JSON.stringify(pattern)}, self.value))}`,
              errorMessage: `SSM parameter ${parameterName} does not name the mesh's secret ${secretNamePrefix}* in ${plan.region}: deploy the mesh stack, or find who changed the parameter.`,
            },
          ],
        },
      });
      return new EphemeralResource(this, id, { type: "aws_secretsmanager_secret_version", config: { secret_id: arn.value } }).attribute("secret_string");
    };
    const { intentionsParameters: parameters, caCert, managementToken } = plan.names.consulSecrets;
    new ConsulProvider(this, "consul", {
      address: address.stringValue,
      scheme: "https",
      datacenter: plan.datacenter,
      caPem: secret("consul_ca", parameters.caCert, caCert),
      token: secret("management_token", parameters.managementToken, managementToken),
    });

    // The dataplane login (auth method, binding rule, synthetic node) moved to the servers, which
    // create it before any task starts: an older state forgets these resources without destroying
    // them (the servers own them now).
    if (plan.dataplane)
      this.addOverride(
        "removed",
        FORMERLY_MANAGED_LOGIN.map((from) => ({ from, lifecycle: { destroy: false } })),
      );

    const resolved = plan.intentions;
    this.traffic = new MeshTraffic(this, "traffic", { entries: plan.traffic.entries });
    this.intentions = new MeshIntentions(this, "service_intentions", {
      intentions: resolved,
      serviceDefaults: this.traffic.serviceDefaults,
      ...(plan.meshEntry ? { meshEntry: plan.meshEntry } : {}),
    });
    new TerraformOutput(this, "intentions_summary", {
      description: "Destination -> sources with their action",
      // An L7 source shows "permissions": its permissions decide, not one action.
      value: Object.fromEntries([...resolved].map(([d, sources]) => [d, sources.map((s) => `${s.name}:${s.permissions ? "permissions" : s.action}`)])),
    }).overrideLogicalId("intentions");
  }
}

/** A name as an RE2 pattern matching only itself: each character outside [A-Za-z0-9/_-] in a class of its own (no backslashes to escape twice in HCL). */
function regexLiteral(name: string): string {
  return name.replace(/[^A-Za-z0-9/_-]/g, (c) => `[${c}]`);
}
