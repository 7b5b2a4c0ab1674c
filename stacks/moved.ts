import { TerraformResource, type TerraformStack } from "cdktf";

/** A resource's former address and its address now ("<type>.<name>"). */
interface Move {
  readonly from: `${string}.${string}`;
  readonly to: `${string}.${string}`;
}

/** The consul_server_security_group_<rule> rules of 0.1.0 that keep their rule name: [type, name]. */
const SERVER_RULES = [
  ["aws_vpc_security_group_egress_rule", "consul_server_security_group_egress_https"],
  ["aws_vpc_security_group_egress_rule", "consul_server_security_group_egress_vpc"],
  ["aws_vpc_security_group_ingress_rule", "consul_server_security_group_ingress_admin_ui"],
  ["aws_vpc_security_group_ingress_rule", "consul_server_security_group_ingress_https_api"],
  ["aws_vpc_security_group_ingress_rule", "consul_server_security_group_ingress_serf_lan_tcp"],
  ["aws_vpc_security_group_ingress_rule", "consul_server_security_group_ingress_serf_lan_udp"],
  ["aws_vpc_security_group_ingress_rule", "consul_server_security_group_ingress_server_rpc"],
  ["aws_vpc_security_group_ingress_rule", "consul_server_security_group_ingress_ssh"],
] as const;

/**
 * Resources of the mesh stack that 0.1.0 gave another address, from -> to: the same subnet
 * (10.0.101.0/24, private now), the same KMS key, the single server's instance and role (server 1
 * now), its security group and rules, the sidecars' public listener rule.
 * Terraform moves them in the state instead of creating a second copy beside the old one.
 */
export const MOVED_SINCE_0_1_0: readonly Move[] = [
  { from: "aws_subnet.network_public_subnet", to: "aws_subnet.network_private_subnet_1" },
  { from: "aws_route_table_association.network_public_subnet_route_table", to: "aws_route_table_association.network_private_subnet_1_route_table" },
  { from: "aws_kms_key.log_key_key", to: "aws_kms_key.kms_key_key" },
  { from: "aws_instance.consul_server_instance", to: "aws_instance.consul_servers_server_1_instance" },
  { from: "aws_iam_role.consul_server_instance_role_role", to: "aws_iam_role.consul_servers_server_1_role_role" },
  { from: "aws_iam_instance_profile.consul_server_instance_role_instance_profile", to: "aws_iam_instance_profile.consul_servers_server_1_role_instance_profile" },
  {
    from: "aws_iam_role_policy.consul_server_instance_role_policy_read-consul-secrets",
    to: "aws_iam_role_policy.consul_servers_server_1_role_policy_read-consul-secrets",
  },
  { from: "aws_security_group.consul_server_security_group_group", to: "aws_security_group.consul_servers_security_group_group" },
  ...SERVER_RULES.map(([type, name]): Move => ({ from: `${type}.${name}`, to: `${type}.${name.replace("consul_server_", "consul_servers_")}` })),
  {
    from: "aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_envoy_public",
    to: "aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_proxy_21000",
  },
];

/**
 * Moves each resource the stack has from its former address (a `moved` block, which CDKTF also
 * writes in HCL); a spec without fixed servers has no server instance to move to, so its old one
 * is destroyed. Call once every resource exists.
 */
export function addMovedBlocks(stack: TerraformStack, moves: readonly Move[]): void {
  const resources = new Map(
    stack.node
      .findAll()
      .filter(TerraformResource.isTerraformResource)
      .map((resource) => [`${resource.terraformResourceType}.${resource.friendlyUniqueId}`, resource] as const),
  );
  for (const { from, to } of moves) resources.get(to)?.moveFromId(from);
}
