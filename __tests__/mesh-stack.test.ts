// Parity with the original network.tf, main.tf, ecs.tf and friends, and the spec-driven shape
// of the mesh stack. Rendered artifacts are judged in artifacts.test.ts.
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import type { MeshSpecInput } from "../lib/spec/schema";
import { CONSUL, ENVOY } from "../lib/versions";
import { Testing } from "cdktf";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { MESH_SECRET_SLOTS } from "../lib/plan/containers";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import { slot } from "../lib/plan/text";
import type { ContainerPlan, MeshPlan } from "../lib/plan/types";
import { MeshStack } from "../stacks/mesh-stack";
import { planOf, synthMeshStack } from "./support/synth";

type Doc = { resource: Record<string, Record<string, any>>; data: Record<string, Record<string, any>>; variable: Record<string, any>; output: Record<string, any> };

const doc = synthMeshStack() as Doc;
const resources = (type: string): Record<string, any> => doc.resource[type] ?? {};
const one = (type: string): any => {
  const all = Object.values(resources(type));
  expect(all, type).toHaveLength(1);
  return all[0];
};
const containersOf = (taskDefinition: any): any[] => JSON.parse(taskDefinition.container_definitions);
const taskDefinition = (service: string, d: Doc = doc) => d.resource.aws_ecs_task_definition![`service_${service}_task_definition`];

describe("network (network.tf)", () => {
  const subnets = resources("aws_subnet");
  const routes = resources("aws_route");

  it("keeps the original's 10.0.101.0/24, now private, and routes it through a NAT gateway in a small public subnet", () => {
    expect(one("aws_vpc")).toMatchObject({ cidr_block: "10.0.0.0/16", enable_dns_hostnames: true });
    expect(subnets.network_private_subnet_1).toMatchObject({ cidr_block: "10.0.101.0/24", map_public_ip_on_launch: false });
    expect(subnets.network_public_subnet_1).toMatchObject({ cidr_block: "10.0.1.0/28", map_public_ip_on_launch: false });
    expect(subnets.network_private_subnet_1.availability_zone).toBe("${element(data.aws_availability_zones.available_zones.names, 0)}");
    expect(routes.network_public_default_route).toMatchObject({ destination_cidr_block: "0.0.0.0/0", gateway_id: "${aws_internet_gateway.network_internet_gateway.id}" });
    expect(routes.network_private_default_route_1).toMatchObject({ destination_cidr_block: "0.0.0.0/0", nat_gateway_id: "${aws_nat_gateway.network_nat_gateway_1.id}" });
    expect(one("aws_nat_gateway")).toMatchObject({ subnet_id: "${aws_subnet.network_public_subnet_1.id}", allocation_id: "${aws_eip.network_nat_eip_1.allocation_id}" });
    expect(resources("aws_route_table_association").network_private_subnet_1_route_table.route_table_id).toBe("${aws_route_table.network_private_route_table_1.id}");
  });

  it("has the free S3 gateway endpoint on the private route table, and no interface endpoints behind a NAT gateway", () => {
    expect(one("aws_vpc_endpoint")).toMatchObject({ vpc_endpoint_type: "Gateway", route_table_ids: ["${aws_route_table.network_private_route_table_1.id}"] });
  });

  it("closes the default security group", () => {
    const sg = one("aws_default_security_group");
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
  });

  it("tags everything through provider default tags", () => {
    expect((doc as any).provider.aws[0].default_tags[0].tags).toMatchObject({ Terraform: "true", Project: "consul-ecs-mesh", Cluster: "consul-ecs" });
    expect((doc as any).provider.aws[0].region).toBe("us-east-1");
  });
});

describe("instances (main.tf)", () => {
  const instances = resources("aws_instance");

  it("pins the Consul server and the two ECS hosts to the original addresses, in the private subnet, without public IPs", () => {
    expect(Object.keys(instances).sort()).toEqual(["consul_servers_server_1_instance", "ecs_hosts_host_1", "ecs_hosts_host_2"]);
    expect(instances.consul_servers_server_1_instance.private_ip).toBe("10.0.101.100");
    expect(instances.ecs_hosts_host_1.private_ip).toBe("10.0.101.150");
    expect(instances.ecs_hosts_host_2.private_ip).toBe("10.0.101.155");
    expect(instances.consul_servers_server_1_instance.instance_type).toBe("t3.micro");
    expect(instances.ecs_hosts_host_1.instance_type).toBe("t3.small");
    for (const [name, instance] of Object.entries(instances)) {
      expect(instance.associate_public_ip_address, name).toBe(false);
      expect(instance.subnet_id, name).toBe("${aws_subnet.network_private_subnet_1.id}");
    }
  });

  it("keeps the server's Raft data on its own encrypted volume, and never replaces the server for a user data change", () => {
    const server = instances.consul_servers_server_1_instance;
    expect(server.user_data_replace_on_change).toBe(false);
    expect(server.lifecycle.ignore_changes).toEqual(["ami", "user_data_base64"]);
    // The script, readable in the synthesized JSON, reaches EC2 gzipped (cloud-init unpacks it).
    expect(server.user_data_base64).toBe("${base64gzip(local.consul_servers_server_1_user_data)}");
    expect(one("aws_ebs_volume")).toMatchObject({ encrypted: true, type: "gp3", size: 10, kms_key_id: "${aws_kms_key.kms_key_key.arn}" });
    expect(one("aws_volume_attachment")).toMatchObject({
      device_name: "/dev/sdf",
      volume_id: "${aws_ebs_volume.consul_servers_server_1_data.id}",
      instance_id: "${aws_instance.consul_servers_server_1_instance.id}",
      // `terraform apply -replace` of the server stops it (unmounting XFS) before the detach.
      stop_instance_before_detaching: true,
    });
    expect((doc as any).locals.consul_servers_server_1_user_data).toContain("readonly DATA_VOLUME_ID='${aws_ebs_volume.consul_servers_server_1_data.id}'");
  });

  it("boots the server only after the secrets it reads and its role's policies exist", () => {
    const dependsOn: string[] = instances.consul_servers_server_1_instance.depends_on;
    for (const secret of ["gossip_key", "management_token", "agent_token"]) {
      expect(dependsOn).toContain(`aws_secretsmanager_secret_version.consul_secrets_${secret}_value`);
    }
    // The RPC CA's secrets have no version before the first server writes one: it needs the secrets themselves.
    for (const secret of ["rpc_ca_key", "ca_cert"]) {
      expect(dependsOn).toContain(`aws_secretsmanager_secret.consul_secrets_${secret}`);
      expect(dependsOn).not.toContain(`aws_secretsmanager_secret_version.consul_secrets_${secret}_value`);
    }
    expect(dependsOn.filter((d) => d.includes("service_token"))).toEqual([]);
    expect(dependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_iam_role_policy\.consul_servers_server_1_role_policy_read-consul-secrets$/),
        "aws_iam_instance_profile.consul_servers_server_1_role_instance_profile",
      ]),
    );
  });

  it("hardens every instance: IMDSv2, encrypted root volume, instance profile, no key unless asked", () => {
    for (const [name, instance] of Object.entries(instances)) {
      expect(instance.metadata_options, name).toMatchObject({ http_tokens: "required" });
      expect(instance.root_block_device, name).toMatchObject({ encrypted: true });
      expect(instance.iam_instance_profile, name).toMatch(/^\$\{aws_iam_instance_profile\./);
      expect(instance.key_name, name).toBe("${var.aws_ec2_key}");
      expect(instance.provisioner, name).toBeUndefined();
      expect(instance.connection, name).toBeUndefined();
    }
  });

  it("uses current AMIs from AWS's public SSM parameters", () => {
    const parameters = Object.values(doc.data.aws_ssm_parameter!)
      .map((p: any) => p.name)
      .sort();
    expect(parameters).toEqual(["/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"]);
  });

  it("joins the ECS hosts to the cluster through ecs.config, pulling each image once per host", () => {
    const userData: string = instances.ecs_hosts_host_1.user_data;
    expect(userData).toContain("ECS_CLUSTER=${aws_ecs_cluster.ecs_cluster.name}");
    expect(userData).toContain('ECS_INSTANCE_ATTRIBUTES={"purchase-option":"ondemand"}');
    expect(userData).toContain("ECS_IMAGE_PULL_BEHAVIOR=once");
    expect(userData).toContain("ECS_AWSVPC_BLOCK_IMDS=true");
  });

  it("installs the pinned Consul release on the server with a checksum", () => {
    const userData: string = (doc as any).locals.consul_servers_server_1_user_data;
    expect(userData).toContain(`readonly CONSUL_VERSION='${CONSUL.version}'`);
    expect(userData).toContain(`readonly CONSUL_SHA256='${CONSUL.sha256.amd64}'`);
    expect(userData).toContain("sha256sum --check --strict");
    expect(userData).toContain("systemctl enable --now consul");
  });
});

describe("security groups", () => {
  const ingress = Object.values(resources("aws_vpc_security_group_ingress_rule"));
  const egress = Object.values(resources("aws_vpc_security_group_egress_rule"));
  const rulesOf = (rules: any[], group: string) => rules.filter((r) => r.security_group_id === `\${aws_security_group.${group}.id}`);

  it("describes every group and rule", () => {
    for (const sg of Object.values(resources("aws_security_group"))) expect(sg.description.length).toBeGreaterThan(15);
    for (const rule of [...ingress, ...egress]) expect(rule.description.length).toBeGreaterThan(15);
  });

  it("opens nothing to the internet", () => {
    for (const rule of ingress) {
      expect(rule.cidr_ipv4).not.toBe("0.0.0.0/0");
      expect(rule.cidr_ipv6).toBeUndefined();
    }
  });

  it("admits the HTTPS API from the VPC, RPC and gossip from the servers and the agent tasks only, and no DNS", () => {
    const rules = rulesOf(ingress, "consul_servers_security_group_group");
    const from = (peer: (r: any) => boolean) =>
      rules
        .filter(peer)
        .map((r) => `${r.from_port}/${r.ip_protocol}`)
        .sort();
    // The server serves its API over HTTPS only (8501); plain HTTP (8500) and gRPC (8502) are off.
    expect(from((r) => r.cidr_ipv4 === "10.0.0.0/16")).toEqual(["8501/tcp"]);
    expect(from((r) => r.referenced_security_group_id === "${aws_security_group.consul_servers_security_group_group.id}")).toEqual([
      "8300/tcp",
      "8301/tcp",
      "8301/udp",
      "8302/tcp",
      "8302/udp",
    ]);
    expect(from((r) => r.referenced_security_group_id === "${aws_security_group.ecs_task_security_group_group.id}")).toEqual(["8300/tcp", "8301/tcp", "8301/udp"]);
    expect(rules.filter((r) => r.from_port === 8600)).toEqual([]);
  });

  it("admits the sidecars' public listener port from other mesh tasks, and agent gossip from agents and servers only", () => {
    const rules = rulesOf(ingress, "ecs_task_security_group_group");
    expect(rules.filter((r) => r.cidr_ipv4 !== undefined)).toEqual([]);
    const tasks = "${aws_security_group.ecs_task_security_group_group.id}";
    const servers = "${aws_security_group.consul_servers_security_group_group.id}";
    expect(rules.map((r) => [r.from_port, r.ip_protocol, r.referenced_security_group_id]).sort()).toEqual(
      [
        [21000, "tcp", tasks],
        [8301, "tcp", tasks],
        [8301, "udp", tasks],
        [8301, "tcp", servers],
        [8301, "udp", servers],
      ].sort(),
    );
  });

  it("opens the UI and SSH only to admin_cidr, and only when it is set", () => {
    const adminRules = ingress.filter((r) => r.cidr_ipv4 === "${var.admin_cidr}");
    expect(adminRules.map((r) => r.from_port).sort()).toEqual([22, 22, 8501]);
    for (const rule of adminRules) {
      expect(rule.count).toBe(rule.from_port === 22 ? "${((var.admin_cidr != null) && (var.aws_ec2_key != null)) ? 1 : 0}" : "${(var.admin_cidr == null) ? 0 : 1}");
    }
  });
});

describe("IAM (ecs_iam.tf)", () => {
  it("attaches policies non-exclusively", () => {
    expect(resources("aws_iam_policy_attachment")).toEqual({});
    const attached = Object.values(resources("aws_iam_role_policy_attachment"))
      .map((a: any) => a.policy_arn.split("/").pop())
      .sort();
    // AmazonSSMManagedInstanceCore would grant ssm:GetParameter* on every parameter: the instances get the session actions only.
    expect(attached).toEqual(["AmazonEC2ContainerServiceforEC2Role", "AmazonECSTaskExecutionRolePolicy", "AmazonECSTaskExecutionRolePolicy"]);
    const sessions = JSON.parse(resources("aws_iam_role_policy")["consul_servers_server_1_role_policy_ssm-sessions"].policy);
    expect(sessions.Statement.flatMap((st: any) => st.Action).sort()).toEqual([
      "ssm:UpdateInstanceInformation",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]);
  });

  it("separates the execution role from each service's task role", () => {
    for (const service of ["http-server", "http-client"]) {
      const td = taskDefinition(service);
      expect(td.execution_role_arn).toBe(`\${aws_iam_role.service_${service}_execution_role_role.arn}`);
      expect(td.task_role_arn).toBe(`\${aws_iam_role.service_${service}_task_role_role.arn}`);
    }
  });

  it("trusts only the service that assumes each role, and the account only for the snapshot restore role", () => {
    const statements = Object.values(resources("aws_iam_role")).map((r: any) => JSON.parse(r.assume_role_policy).Statement);
    // One trust statement per role: a second one would go unread below.
    expect(statements.map((st) => st.length)).toEqual(statements.map(() => 1));
    const principals = statements.flatMap((st) => st.map((s: any) => s.Principal));
    expect(principals.flatMap((p) => (p.Service ? [p.Service] : [])).sort()).toEqual([
      "ec2.amazonaws.com",
      "ec2.amazonaws.com",
      ...Array(4).fill("ecs-tasks.amazonaws.com"),
      "vpc-flow-logs.amazonaws.com",
    ]);
    expect(principals.filter((p) => !p.Service)).toEqual([{ AWS: "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}:root" }]);
    expect(JSON.parse(resources("aws_iam_role").snapshots_restore_role.assume_role_policy).Statement.map((s: any) => s.Principal)).toEqual([
      { AWS: "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}:root" },
    ]);
  });
});

describe("ECS (ecs.tf)", () => {
  it("has one cluster with container insights", () => {
    expect(one("aws_ecs_cluster")).toMatchObject({ name: "consul-ecs", setting: [{ name: "containerInsights", value: "enabled" }] });
  });

  it("runs http-server x3 and http-client x1 in awsvpc, referenced by ARN, without public IPs", () => {
    const services = resources("aws_ecs_service");
    for (const [service, count] of [
      ["http-server", 3],
      ["http-client", 1],
    ] as const) {
      const s = services[`service_${service}_service`];
      expect(s).toMatchObject({
        name: `consul-ecs-${service}`,
        desired_count: count,
        launch_type: "EC2",
        task_definition: `\${aws_ecs_task_definition.service_${service}_task_definition.arn}`,
        network_configuration: { subnets: ["${aws_subnet.network_private_subnet_1.id}"], assign_public_ip: false },
        ordered_placement_strategy: [{ type: "spread", field: "attribute:ecs.availability-zone" }],
      });
      expect(taskDefinition(service)).toMatchObject({ family: `consul-ecs-${service}`, network_mode: "awsvpc", requires_compatibilities: ["EC2"] });
    }
  });

  it("lets every service roll out on the fixed hosts: a single task is replaced (minimum 0 %), others keep half", () => {
    const services = resources("aws_ecs_service");
    expect([services["service_http-client_service"].deployment_minimum_healthy_percent, services["service_http-client_service"].deployment_maximum_percent]).toEqual([0, 100]);
    expect([services["service_http-server_service"].deployment_minimum_healthy_percent, services["service_http-server_service"].deployment_maximum_percent]).toEqual([50, 100]);
  });

  it("starts the services only once the server exists and their secrets are written", () => {
    const dependsOn: string[] = resources("aws_ecs_service")["service_http-client_service"].depends_on;
    expect(dependsOn).toEqual(
      expect.arrayContaining([
        "aws_instance.consul_servers_server_1_instance",
        "aws_secretsmanager_secret_version.consul_secrets_service_token_http-client_value",
        "aws_ssm_parameter.consul_secrets_service_token_http-client_parameter",
      ]),
    );
  });

  it("starts agent, bootstrap, proxy, app in that order, each waiting on the previous one", () => {
    const containers = containersOf(taskDefinition("http-server"));
    expect(containers.map((c) => [c.name, c.dependsOn ?? []])).toEqual([
      ["consul-agent", []],
      ["envoy-bootstrap", [{ containerName: "consul-agent", condition: "HEALTHY" }]],
      ["envoy-sidecar", [{ containerName: "envoy-bootstrap", condition: "SUCCESS" }]],
      ["app", [{ containerName: "envoy-sidecar", condition: "HEALTHY" }]],
    ]);
    expect(containers.filter((c) => c.essential).map((c) => c.name)).toEqual(["consul-agent", "envoy-sidecar", "app"]);
  });

  it("uses pinned official images and binds the app to loopback", () => {
    const containers = containersOf(taskDefinition("http-server"));
    // Consul through the ECR pull-through cache of ECR Public; Envoy (Docker Hub only) as published.
    const cached = `\${data.aws_caller_identity.account.account_id}.dkr.ecr.us-east-1.\${data.aws_partition.partition.dns_suffix}/consul-ecs/ecrpublic/hashicorp/consul:${CONSUL.version}`;
    expect(containers.map((c) => c.image)).toEqual([cached, cached, ENVOY.image, "hashicorp/http-echo:1.0.0"]);
    expect(CONSUL.image).toMatch(/^public\.ecr\.aws\/hashicorp\/consul:\d+\.\d+\.\d+$/);
    expect(ENVOY.image).toMatch(/^envoyproxy\/envoy:v\d+\.\d+\.\d+$/);
    expect(one("aws_ecr_pull_through_cache_rule")).toEqual({ ecr_repository_prefix: "consul-ecs/ecrpublic", upstream_registry_url: "public.ecr.aws" });
    expect(containers[3].command).toEqual(["-listen=127.0.0.1:80", "-text=hello world"]);
    expect(containers[3].portMappings).toBeUndefined();
  });

  it("logs every container to the service's log group, which has a retention", () => {
    for (const service of ["http-server", "http-client"]) {
      for (const c of containersOf(taskDefinition(service))) {
        expect(c.logConfiguration, c.name).toEqual({
          logDriver: "awslogs",
          options: { "awslogs-group": `\${aws_cloudwatch_log_group.service_${service}_log_group.name}`, "awslogs-region": "us-east-1", "awslogs-stream-prefix": service },
        });
      }
      expect(doc.resource.aws_cloudwatch_log_group![`service_${service}_log_group`]).toEqual(
        expect.objectContaining({ name: `/ecs/consul-ecs/${service}`, retention_in_days: 365 }),
      );
    }
  });

  it("uses no host paths, so the same definitions run on Fargate", () => {
    for (const td of Object.values(resources("aws_ecs_task_definition"))) {
      for (const volume of td.volume) expect(volume.host_path).toBeUndefined();
    }
  });
});

describe("variables and outputs", () => {
  it("keeps variables only for what no rule checks (admin access), each optional and documented", () => {
    expect(Object.keys(doc.variable).sort()).toEqual(["admin_cidr", "admin_cidr_allow_broad", "aws_ec2_key"]);
    for (const [name, v] of Object.entries(doc.variable)) {
      expect(v.type, name).toBe(name === "admin_cidr_allow_broad" ? "bool" : "string");
      expect(v.description.length, name).toBeGreaterThan(15);
      expect("default" in v, name).toBe(true);
    }
    expect(doc.variable.admin_cidr.default).toBeNull();
    // Nothing a rule checked at synth can change at apply time: no reference to a removed variable is left.
    expect(JSON.stringify(doc)).not.toMatch(/var\.(cluster_name|aws_region|availability_zones|consul_instance_size|ecs_instance_size)\b/);
  });

  it("mirrors outputs.tf and adds the cluster and service names", () => {
    expect(Object.keys(doc.output).sort()).toEqual([
      "consul_ca_cert_secret_arn",
      "consul_gossip_key_secret_arn",
      "consul_management_token_secret_arn",
      "consul_server_private_ips",
      "consul_server_tag",
      "consul_snapshot_bucket",
      "consul_snapshot_restore_role_arn",
      "consul_ui_url",
      "ecs_cluster_name",
      "ecs_host_1_private_ip",
      "ecs_host_2_private_ip",
      "ecs_service_names",
    ]);
    // The URL the server certificate covers: localhost, through the SSM port forward.
    expect(doc.output.consul_ui_url.value).toBe("https://localhost:8501/ui/");
  });
});

describe("spec-driven stacks", () => {
  const withThird = synthMeshStack({
    ...DEFAULT_SPEC,
    services: {
      ...DEFAULT_SPEC.services,
      "http-admin": { image: "curlimages/curl:8.11.1", command: ["sleep", "infinity"], upstreams: [{ destination: "http-server", localBindPort: 9000 }] },
    },
  }) as Doc;

  it("adds a third service's task definition, ECS service, log group and role without touching the stack", () => {
    expect(Object.keys(withThird.resource.aws_ecs_service!).sort()).toEqual(["service_http-admin_service", "service_http-client_service", "service_http-server_service"]);
    expect(withThird.resource.aws_cloudwatch_log_group!["service_http-admin_log_group"]).toBeDefined();
    expect(withThird.resource.aws_iam_role!["service_http-admin_task_role_role"]).toBeDefined();
    const agent = containersOf(taskDefinition("http-admin", withThird))[0];
    expect(agent.command[4]).toContain('name = "http-admin"');
    expect(agent.command[4]).toContain('destination_name   = "http-server"');
    expect(agent.command[4]).toContain("local_bind_port    = 9000");
    expect(withThird.output.ecs_service_names.value).toHaveLength(3);
  });

  it("leaves the hosts alone when a service is added", () => {
    expect(withThird.resource.aws_instance).toEqual(doc.resource.aws_instance);
  });

  it("gives a task exactly the mesh secrets its containers read: a dataplane container reading a service token gets the token, its binding and its grant", () => {
    const plan = planOf({ ...DEFAULT_SPEC, architecture: "dataplane" });
    const readsToken = (c: ContainerPlan): ContainerPlan =>
      c.name === DATAPLANE_CONTAINERS.meshInit ? { ...c, secrets: [...(c.secrets ?? []), { name: "CONSUL_HTTP_TOKEN", valueFrom: slot(MESH_SECRET_SLOTS.serviceToken) }] } : c;
    const changed: MeshPlan = {
      ...plan,
      services: plan.services.map((s) => (s.name === "http-client" ? { ...s, task: { ...s.task, containers: s.task.containers.map(readsToken) } } : s)),
    };
    const synthesized = JSON.parse(Testing.synth(new MeshStack(Testing.app(), "mesh", changed))) as Doc;
    const tokenSecret = "${aws_secretsmanager_secret.consul_secrets_service_token_http-client.arn}";
    const meshInit = containersOf(taskDefinition("http-client", synthesized)).find((c) => c.name === DATAPLANE_CONTAINERS.meshInit);
    expect(meshInit.secrets).toContainEqual({ name: "CONSUL_HTTP_TOKEN", valueFrom: `${tokenSecret}:SecretID::` });
    const grants = (service: string) =>
      JSON.parse(synthesized.resource.aws_iam_role_policy![`service_${service}_execution_role_policy_read-task-secrets`].policy).Statement[0].Resource as string[];
    expect(grants("http-client")).toEqual(["${aws_secretsmanager_secret.consul_secrets_ca_cert.arn}", tokenSecret]);
    expect(grants("http-server")).toEqual(["${aws_secretsmanager_secret.consul_secrets_ca_cert.arn}"]);
    expect(Object.keys(synthesized.resource.aws_ssm_parameter!).filter((k) => k.includes("service_token"))).toEqual(["consul_secrets_service_token_http-client_parameter"]);
  });

  it("synthesizes byte-identical JSON for the same spec, whatever the order of services", () => {
    const reordered = synthMeshStack({ ...DEFAULT_SPEC, services: { "http-client": DEFAULT_SPEC.services["http-client"]!, "http-server": DEFAULT_SPEC.services["http-server"]! } });
    expect(JSON.stringify(reordered)).toBe(JSON.stringify(synthMeshStack()));
  });
});

/** Every place a resource could get a public IP: instances, launch templates, ECS services, subnets. */
function publicIpSettings(d: Doc): unknown[] {
  const r = (type: string): any[] => Object.values(d.resource[type] ?? {});
  return [
    ...r("aws_instance").map((i) => i.associate_public_ip_address ?? false),
    ...r("aws_launch_template").flatMap((t) => (t.network_interfaces ?? []).map((n: any) => n.associate_public_ip_address)),
    ...r("aws_ecs_service").map((s) => s.network_configuration?.assign_public_ip ?? false),
    ...r("aws_subnet").map((s) => s.map_public_ip_on_launch ?? false),
  ];
}

describe("production topology (examples/production.yaml)", () => {
  const prod = synthMeshStack(loadSpecFile("examples/production.yaml").spec as MeshSpecInput) as Doc;
  const res = (type: string): Record<string, any> => prod.resource[type] ?? {};
  const zoneOf = (i: number) => `\${element(data.aws_availability_zones.available_zones.names, ${i})}`;

  it("gives nothing a public IP, in the default and in production", () => {
    for (const d of [doc, prod]) {
      const settings = publicIpSettings(d);
      expect(settings.length).toBeGreaterThan(3);
      expect(settings.filter((s) => s !== false && s !== "false")).toEqual([]);
    }
  });

  it("spreads three private subnets over three zones, each routed through its own NAT gateway", () => {
    const privateZones = [1, 2, 3].map((n) => res("aws_subnet")[`network_private_subnet_${n}`].availability_zone);
    expect(privateZones).toEqual([0, 1, 2].map(zoneOf));
    expect(
      Object.values(res("aws_route"))
        .filter((r) => r.nat_gateway_id)
        .map((r) => [r.route_table_id, r.nat_gateway_id]),
    ).toEqual([1, 2, 3].map((n) => [`\${aws_route_table.network_private_route_table_${n}.id}`, `\${aws_nat_gateway.network_nat_gateway_${n}.id}`]));
    expect(Object.values(res("aws_nat_gateway")).map((g) => g.subnet_id)).toEqual([1, 2, 3].map((n) => `\${aws_subnet.network_public_subnet_${n}.id}`));
  });

  it("runs three Consul servers, each an Auto Scaling group of one in its own zone with an encrypted data volume there", () => {
    expect(res("aws_instance")).toEqual({});
    for (const n of [1, 2, 3]) {
      const group = res("aws_autoscaling_group")[`consul_servers_server_${n}_group`];
      expect(group).toMatchObject({ min_size: 1, max_size: 1, vpc_zone_identifier: [`\${aws_subnet.network_private_subnet_${n}.id}`] });
      expect(group.initial_lifecycle_hook[0]).toMatchObject({ lifecycle_transition: "autoscaling:EC2_INSTANCE_LAUNCHING", default_result: "ABANDON" });
      expect(res("aws_ebs_volume")[`consul_servers_server_${n}_data`]).toMatchObject({ availability_zone: zoneOf(n - 1), encrypted: true, size: 20 });
    }
  });

  it("snapshots to a versioned, KMS-encrypted, private bucket whose snapshots expire, which the servers may only write to", () => {
    expect(Object.values(res("aws_s3_bucket_versioning"))[0].versioning_configuration).toEqual({ status: "Enabled" });
    expect(Object.values(res("aws_s3_bucket_server_side_encryption_configuration"))[0].rule[0].apply_server_side_encryption_by_default.sse_algorithm).toBe("aws:kms");
    expect(Object.values(res("aws_s3_bucket_public_access_block"))[0]).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(Object.values(res("aws_s3_bucket_lifecycle_configuration"))[0].rule[0]).toMatchObject({ status: "Enabled", expiration: [{ days: 35 }] });
    const serverS3 = Object.values(res("aws_iam_role_policy"))
      .filter((p) => p.role.includes("consul_servers_server_1"))
      .flatMap((p) => JSON.parse(p.policy).Statement)
      .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith("s3:")));
    expect(serverS3.map((s: any) => s.Action)).toEqual([["s3:PutObject"]]);
  });

  it("runs the ECS hosts in one group across the zones behind a capacity provider that scales and protects them; services spread over zones", () => {
    expect(res("aws_autoscaling_group").ecs_hosts_group).toMatchObject({ min_size: 3, max_size: 9, protect_from_scale_in: true });
    expect(res("aws_autoscaling_group").ecs_hosts_group.vpc_zone_identifier).toHaveLength(3);
    expect(res("aws_ecs_capacity_provider").ecs_hosts_capacity_provider.auto_scaling_group_provider).toMatchObject({
      managed_scaling: { status: "ENABLED", target_capacity: 90 },
      managed_termination_protection: "ENABLED",
    });
    for (const service of ["web", "orders"]) {
      const ecsService = res("aws_ecs_service")[`service_${service}_service`];
      expect(ecsService.capacity_provider_strategy[0].capacity_provider).toBe("${aws_ecs_capacity_provider.ecs_hosts_capacity_provider.name}");
      expect(ecsService.ordered_placement_strategy).toEqual([{ type: "spread", field: "attribute:ecs.availability-zone" }]);
    }
  });

  it("creates the services on the capacity provider after its association with the cluster (and destroys them first), and Fargate services without it", () => {
    const association = "aws_ecs_cluster_capacity_providers.ecs_hosts_cluster_capacity_providers";
    expect(Object.keys(res("aws_ecs_cluster_capacity_providers"))).toEqual(["ecs_hosts_cluster_capacity_providers"]);
    for (const service of ["web", "orders"]) expect(res("aws_ecs_service")[`service_${service}_service`].depends_on, service).toContain(association);
    expect(res("aws_ecs_service").service_api_service.depends_on).not.toContain(association);
  });

  it("gives each server slot a stable Consul node name, so a replacement keeps the name its node ID was registered under", () => {
    const names = [1, 2, 3].map((n) => /^node_name += "([^"]+)"$/m.exec((prod as any).locals[`consul_servers_server_${n}_user_data`])?.[1]);
    expect(names).toEqual(["consul-server-1", "consul-server-2", "consul-server-3"]);
    // A fixed server keeps its hostname with its address: no name change at its next roll.
    expect((doc as any).locals.consul_servers_server_1_user_data).not.toMatch(/^\s*node_name\s*=/m);
  });

  it("waits for each server group longer than its launch hook, and destroys the host group without waiting for a drain", () => {
    for (const n of [1, 2, 3]) {
      const group = res("aws_autoscaling_group")[`consul_servers_server_${n}_group`];
      const minutes = Number(/^(\d+)m$/.exec(group.wait_for_capacity_timeout)?.[1]);
      expect(minutes * 60).toBeGreaterThan(group.initial_lifecycle_hook[0].heartbeat_timeout);
    }
    expect(res("aws_autoscaling_group").ecs_hosts_group.force_delete).toBe(true);
  });

  it("lets CloudWatch Logs use the mesh's key for the mesh's own log groups only, and every log group of the stack is one of them", () => {
    for (const d of [doc, prod]) {
      const policy = JSON.parse(Object.values(d.resource.aws_kms_key!)[0].policy);
      const logs = policy.Statement.find((st: any) => st.Principal?.Service?.startsWith("logs."));
      const patterns: string[] = logs.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"];
      const cluster = d === doc ? "consul-ecs" : "prod-mesh";
      expect(patterns.map((p) => p.replace(/^.*:log-group:/, ""))).toEqual([`/ecs/${cluster}/*`, `/vpc/${cluster}/*`]);
      const matches = (name: string) =>
        patterns.some((p) =>
          new RegExp(
            `^${p
              .replace(/^.*:log-group:/, "")
              .replace(/[$.{}]/g, "\\$&")
              .replace(/\*/g, ".*")}$`,
          ).test(name),
        );
      const groups = Object.values(d.resource.aws_cloudwatch_log_group!).map((g: any) => g.name as string);
      expect(groups.length).toBeGreaterThan(2);
      expect(groups.filter((name) => !matches(name))).toEqual([]);
      expect(matches("/aws/lambda/someone-elses")).toBe(false);
    }
  });

  it("opens Serf WAN (8302) between the servers only", () => {
    const wan = Object.values(res("aws_vpc_security_group_ingress_rule")).filter((r) => r.from_port === 8302);
    expect(wan.map((r) => [r.ip_protocol, r.to_port, r.referenced_security_group_id, r.cidr_ipv4])).toEqual([
      ["tcp", 8302, "${aws_security_group.consul_servers_security_group_group.id}", undefined],
      ["udp", 8302, "${aws_security_group.consul_servers_security_group_group.id}", undefined],
    ]);
    expect(wan.every((r) => r.security_group_id === "${aws_security_group.consul_servers_security_group_group.id}")).toBe(true);
  });
});

describe("fixed addresses with publicInstances (the original's exposure, opted into)", () => {
  const spec = {
    ...DEFAULT_SPEC,
    network: {
      vpcCidr: "10.0.0.0/16",
      zones: [
        { privateSubnet: "10.0.1.0/24", publicSubnet: "10.0.101.0/24" },
        { privateSubnet: "10.0.2.0/24", publicSubnet: "10.0.102.0/24" },
        { privateSubnet: "10.0.3.0/24", publicSubnet: "10.0.103.0/24" },
      ],
      egress: "nat-gateway-per-zone",
      publicInstances: true,
    },
    consul: { ...DEFAULT_SPEC.consul, servers: 3, serverPrivateIps: ["10.0.101.10", "10.0.102.10", "10.0.103.10"] },
    ecsHosts: { instanceType: "t3.small", privateIps: ["10.0.101.20", "10.0.102.20"] },
  } as MeshSpecInput;

  it("puts each server, its data volume and each host in the zone of the public subnet that holds its address", () => {
    const d = synthMeshStack(spec) as Doc;
    for (const n of [1, 2, 3]) {
      expect(d.resource.aws_instance![`consul_servers_server_${n}_instance`].subnet_id).toBe(`\${aws_subnet.network_public_subnet_${n}.id}`);
      expect(d.resource.aws_ebs_volume![`consul_servers_server_${n}_data`].availability_zone).toContain(`, ${n - 1})}`);
    }
    const hostSubnets = Object.values(d.resource.aws_instance!)
      .filter((i: any) => i.private_ip?.endsWith(".20"))
      .map((i: any) => i.subnet_id);
    expect(hostSubnets).toEqual(["${aws_subnet.network_public_subnet_1.id}", "${aws_subnet.network_public_subnet_2.id}"]);
  });
});

// As aws-cdk-lib's constructs do, each construct exposes the resources it makes: a user composing
// the stacks extends them (an app's own AWS permissions on its task role) without forking.
describe("the constructs' resources, for users who extend them", () => {
  it("lets a user grant a service's app its own permissions through the exposed task role", () => {
    const app = Testing.app();
    const stack = new MeshStack(app, "mesh", planOf());
    const server = stack.services.find((s) => s.node.id === "service_http-server")!;
    for (const exposed of [server.logGroup, server.executionRole.role, server.taskRole.role, server.taskDefinition, server.ecsService]) expect(exposed).toBeDefined();
    for (const exposed of [stack.ecsHosts.role.role, stack.ecsHosts.securityGroup, stack.network.flowLog, stack.network.natGateways[0], stack.consulServers.nodes[0]!.role])
      expect(exposed).toBeDefined();
    new IamRolePolicy(stack, "app_reads_bucket", {
      role: server.taskRole.role.name,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::app-bucket/*" }] }),
    });
    const doc = JSON.parse(Testing.synth(stack)) as Doc;
    expect(doc.resource.aws_iam_role_policy!.app_reads_bucket.role).toBe("${aws_iam_role.service_http-server_task_role_role.name}");
  });
});
