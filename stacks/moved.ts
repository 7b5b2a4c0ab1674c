import { TerraformResource, type TerraformStack } from "cdktf";

/** The consul_server_security_group_<rule> rules of 0.1.0 that keep their rule name. */
const SERVER_RULES = [
  "egress_rule.consul_server_security_group_egress_https",
  "egress_rule.consul_server_security_group_egress_vpc",
  "ingress_rule.consul_server_security_group_ingress_admin_ui",
  "ingress_rule.consul_server_security_group_ingress_https_api",
  "ingress_rule.consul_server_security_group_ingress_serf_lan_tcp",
  "ingress_rule.consul_server_security_group_ingress_serf_lan_udp",
  "ingress_rule.consul_server_security_group_ingress_server_rpc",
  "ingress_rule.consul_server_security_group_ingress_ssh",
] as const;

/**
 * Resources of the mesh stack that 0.1.0 gave another address, from -> to: the same subnet
 * (10.0.101.0/24, private now), the same KMS key, the single server's instance, role, secrets and
 * certificate (server 1 now), its security group and rules, the sidecars' public listener rule.
 * Terraform moves them in the state instead of creating a second copy beside the old one.
 */
export const MOVED_SINCE_0_1_0: readonly { readonly from: string; readonly to: string }[] = [
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
  { from: "aws_secretsmanager_secret.consul_secrets_server_cert", to: "aws_secretsmanager_secret.consul_secrets_server_1_cert" },
  { from: "aws_secretsmanager_secret.consul_secrets_server_key", to: "aws_secretsmanager_secret.consul_secrets_server_1_key" },
  { from: "aws_secretsmanager_secret_version.consul_secrets_server_cert_value", to: "aws_secretsmanager_secret_version.consul_secrets_server_1_cert_value" },
  { from: "aws_secretsmanager_secret_version.consul_secrets_server_key_value", to: "aws_secretsmanager_secret_version.consul_secrets_server_1_key_value" },
  { from: "tls_private_key.consul_secrets_server_private_key", to: "tls_private_key.consul_secrets_server_1_private_key" },
  { from: "tls_cert_request.consul_secrets_server_cert_request", to: "tls_cert_request.consul_secrets_server_1_cert_request" },
  { from: "tls_locally_signed_cert.consul_secrets_server_certificate", to: "tls_locally_signed_cert.consul_secrets_server_1_certificate" },
  { from: "aws_security_group.consul_server_security_group_group", to: "aws_security_group.consul_servers_security_group_group" },
  ...SERVER_RULES.map((rule) => ({ from: `aws_vpc_security_group_${rule}`, to: `aws_vpc_security_group_${rule.replace("consul_server_", "consul_servers_")}` })),
  {
    from: "aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_envoy_public",
    to: "aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_proxy_21000",
  },
];

/**
 * Adds the `moved` blocks whose new address the stack has (a spec without fixed servers has no
 * server instance to move to: its old one is destroyed). Call once every resource exists.
 */
export function addMovedBlocks(stack: TerraformStack, moves: readonly { readonly from: string; readonly to: string }[]): void {
  const addresses = new Set(
    stack.node
      .findAll()
      .filter(TerraformResource.isTerraformResource)
      .map((resource) => `${resource.terraformResourceType}.${resource.friendlyUniqueId}`),
  );
  const present = moves.filter((move) => addresses.has(move.to));
  if (present.length > 0) stack.addOverride("moved", present);
}
