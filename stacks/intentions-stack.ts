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
    const secret = (id: string, parameterName: string) => {
      const arn = new DataAwsSsmParameter(this, `${id}_secret_arn`, { name: parameterName });
      return new EphemeralResource(this, id, { type: "aws_secretsmanager_secret_version", config: { secret_id: arn.value } }).attribute("secret_string");
    };
    const parameters = plan.names.consulSecrets.intentionsParameters;
    new ConsulProvider(this, "consul", {
      address: address.stringValue,
      scheme: "https",
      datacenter: plan.datacenter,
      caPem: secret("consul_ca", parameters.caCert),
      token: secret("management_token", parameters.managementToken),
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
