import { Construct } from "constructs";
import { AclAuthMethod } from "@cdktf/provider-consul/lib/acl-auth-method";
import { AclBindingRule } from "@cdktf/provider-consul/lib/acl-binding-rule";
import { Node as ConsulNode } from "@cdktf/provider-consul/lib/node";
import type { DataplaneControlPlan } from "../plan/types";
import { escapeForTerraform } from "../render/quoting";

export interface ConsulAuthMethodProps {
  /** Auth method name, task role path and service-name tag, as the plan decided them. */
  readonly control: DataplaneControlPlan;
  readonly partition: string;
  readonly accountId: string;
  /** The ECS cluster's ARN: consul-ecs registers dataplane services on a node named after it. */
  readonly clusterArn: string;
}

/**
 * What dataplane tasks log in with, as code: the AWS IAM auth method trusting the mesh's task
 * roles (and only them: the role path), a binding rule that turns the role's service-name tag into
 * a service identity (write on the service and its sidecar), and the node the services register on.
 * Tokens are created at login and deleted at logout by consul-ecs: no service token is stored
 * anywhere. No MaxTokenTTL: consul-dataplane never logs in again (hashicorp/consul-dataplane#929).
 */
export class ConsulAuthMethod extends Construct {
  public readonly authMethod: AclAuthMethod;
  public readonly bindingRule: AclBindingRule;
  public readonly syntheticNode: ConsulNode;

  constructor(scope: Construct, id: string, props: ConsulAuthMethodProps) {
    super(scope, id);
    const { control } = props;
    this.authMethod = new AclAuthMethod(this, "auth_method", {
      name: control.authMethod,
      type: "aws-iam",
      description: "ECS tasks of the mesh log in with their task role",
      configJson: JSON.stringify({
        BoundIAMPrincipalARNs: [`arn:${props.partition}:iam::${props.accountId}:role${control.taskRolePath}*`],
        // Reads the role's tags (the task signs iam:GetRole on its own role), so the binding rule can name the service.
        EnableIAMEntityDetails: true,
        IAMEntityTags: [control.serviceNameTag],
      }),
    });
    this.bindingRule = new AclBindingRule(this, "binding_rule", {
      authMethod: this.authMethod.name,
      description: "A task's token is the service identity its role's tag names",
      bindType: "service",
      // Consul fills this in at login: written with $${ so Terraform leaves it alone.
      bindName: escapeForTerraform(`\${entity_tags.${control.serviceNameTag}}`),
    });
    // A login token may register services but not create a node (node:write): the node exists first.
    this.syntheticNode = new ConsulNode(this, "synthetic_node", { name: props.clusterArn, address: "127.0.0.1", meta: { "synthetic-node": "true" } });
  }
}
