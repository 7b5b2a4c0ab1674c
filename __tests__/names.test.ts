// Every resource name is decided once, in the plan, and checked against its AWS limit by a rule;
// the spec is the only channel for what a rule checks (no Terraform variable overrides it).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { RuleResult, SpecIssue } from "../lib/issues";
import { loadSpecFile } from "../lib/pipeline";
import { meshSpecSchema, type MeshSpec, type MeshSpecInput } from "../lib/spec/schema";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { buildPlan } from "../lib/plan/build";
import { containerCalls } from "../lib/plan/aws-apis";
import { checkNames } from "../lib/rules/names";
import { specIssues } from "./support/spec-issues";
import { planOf, synthAllStacks, synthMeshStack } from "./support/synth";

const production = loadSpecFile("examples/production.yaml").spec as MeshSpecInput;

const errorsOf = (spec: MeshSpecInput): { path: string; message: string }[] => specIssues(spec).errors;

describe("the name rule", () => {
  it("refuses a cluster name whose snapshot bucket prefix would not fit S3's 37 characters, naming the fix", () => {
    const errors = errorsOf({ ...production, name: "p".repeat(20) });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe("name");
    expect(errors[0]!.message).toMatch(/snapshot bucket \(bucket_prefix\).*38 characters, over the 37 AWS allows: shorten name to at most 19 characters/);
  });

  it("accepts the longest name that fits, and the same name without snapshots", () => {
    expect(errorsOf({ ...production, name: "p".repeat(19) })).toEqual([]);
    const withoutSnapshots = structuredClone(production) as any;
    withoutSnapshots.name = "p".repeat(20);
    withoutSnapshots.consul.snapshots = { enabled: false };
    expect(errorsOf(withoutSnapshots)).toEqual([]);
  });
});

/** An existing VPC of the TLS edge, with VPC endpoints of its own. */
const EDGE_WITH_ENDPOINTS = { vpcEndpoints: true, network: { vpcId: "vpc-0abc12345def67890", subnetIds: ["subnet-0abc12345def67890"] } };

/** The default mesh (agent tasks: each reads its service token) without a NAT gateway (VPC endpoints), with a TLS edge that has endpoints too. */
const withEndpoints: MeshSpecInput = {
  ...structuredClone(DEFAULT_SPEC),
  network: { zones: [{ privateSubnet: "10.0.101.0/24" }], egress: "vpc-endpoints" },
  tlsEdge: EDGE_WITH_ENDPOINTS,
};

describe("the name rule on the VPC endpoints', the secrets' and the TLS edge's names", () => {
  // The schema bounds the cluster name (20) and the TLS edge's service name (63) far below these
  // limits: the rule, not those bounds, is what keeps each name within its AWS limit, so these
  // cases build the plan of a schema-checked spec with a longer name, past the schema.
  const base: MeshSpec = meshSpecSchema.parse(withEndpoints);
  const cluster = (length: number): MeshSpec => ({ ...base, name: "c".repeat(length) });
  const edgeService = (length: number): MeshSpec => ({ ...base, tlsEdge: { ...base.tlsEdge!, serviceName: "s".repeat(length) } });
  const ruleErrors = (spec: MeshSpec): SpecIssue[] => {
    const result: RuleResult = { errors: [], warnings: [] };
    checkNames(buildPlan(spec), result);
    return result.errors;
  };

  // [what the rule names, the spec with a name of n characters, the AWS limit, what the name adds to n, the field]:
  // a name_prefix leaves Terraform's 26 characters of 255 (security groups), 512 (secrets).
  const cases: [string, (length: number) => MeshSpec, number, string, string][] = [
    ["AWS API endpoints security group (name_prefix)", cluster, 255 - 26, "-aws-endpoints-", "name"],
    ["secretsmanager VPC endpoint (Name tag)", cluster, 256, "-secretsmanager", "name"],
    ["S3 gateway endpoint (Name tag)", cluster, 256, "-s3", "name"],
    ["Consul gossip key secret (name_prefix)", cluster, 512 - 26, "/consul/gossip-key-", "name"],
    ["Consul token of http-client secret (name_prefix)", cluster, 512 - 26, "/consul/service-token/http-client-", "name"],
    ["TLS edge CA secret (name_prefix)", edgeService, 512 - 26, "/tls-ca-", "tlsEdge.serviceName"],
    ["TLS edge CA certificate secret (name_prefix)", edgeService, 512 - 26, "/tls-ca-certificate-", "tlsEdge.serviceName"],
    ["TLS edge Envoy mirror repository", edgeService, 256, "/envoy", "tlsEdge.serviceName"],
    ["TLS edge app image repository", edgeService, 256, "/flask-app", "tlsEdge.serviceName"],
    ["TLS edge AWS API endpoints security group (name_prefix)", edgeService, 255 - 26, "-aws-endpoints-", "tlsEdge.serviceName"],
  ];

  it.each(cases)("refuses the %s one character over its limit at its spec path, and passes it at the limit", (what, spec, limit, added, path) => {
    const about = (errors: SpecIssue[]) => errors.filter((e) => e.message.startsWith(`the ${what} would be`));
    const longest = limit - added.length;
    expect(about(ruleErrors(spec(longest)))).toEqual([]);
    expect(about(ruleErrors(spec(longest + 1)))).toEqual([
      { path, message: expect.stringContaining(`, over the ${limit} AWS allows: shorten ${path.split(".").pop()} to at most ${longest} characters`) },
    ]);
  });

  it("keeps the TLS edge's role name prefixes within IAM's 38 characters (64 less Terraform's 26) at any service name, whole up to 32 characters", () => {
    for (const length of [32, 33, 63, 500]) {
      const names = buildPlan(edgeService(length)).tlsEdge!.names;
      const kept = "s".repeat(Math.min(length, 32));
      expect([names.executionRolePrefix, names.taskRolePrefix]).toEqual([`${kept}-exec-`, `${kept}-task-`]);
      expect(ruleErrors(edgeService(length)).filter((e) => e.message.includes("role (name_prefix)"))).toEqual([]);
    }
    expect(buildPlan(edgeService(32)).tlsEdge!.names.executionRolePrefix).toHaveLength(38);
    // The default service name is kept whole, as before.
    expect(planOf({ ...DEFAULT_SPEC, tlsEdge: {} }).tlsEdge!.names.taskRolePrefix).toBe("envoy-ssl-tutorial-task-");
  });
});

describe("the name rule on the TLS edge's repositories, through the spec", () => {
  const edge = (tlsEdge: object) => errorsOf({ ...structuredClone(DEFAULT_SPEC), tlsEdge });

  it("refuses an app repository name over ECR's 256 characters at tlsEdge.ecrRepositoryName, and accepts 256", () => {
    expect(edge({ ecrRepositoryName: "a".repeat(256) })).toEqual([]);
    expect(edge({ ecrRepositoryName: "a".repeat(257) })).toEqual([
      {
        path: "tlsEdge.ecrRepositoryName",
        message: expect.stringMatching(
          /^the TLS edge app image repository would be "a{257}", 257 characters, over the 256 AWS allows: shorten ecrRepositoryName to at most 256 characters$/,
        ),
      },
    ]);
  });

  it("refuses a service name that makes the Envoy mirror's repository a name ECR refuses, though the app's is named", () => {
    // A DNS label may hold "--"; an ECR repository name may not. The mirror's name was not checked before.
    expect(edge({ serviceName: "edge--tls", ecrRepositoryName: "team/app" })).toEqual([
      {
        path: "tlsEdge.serviceName",
        message: expect.stringMatching(/^the TLS edge Envoy mirror repository would be "edge--tls\/envoy", which ECR refuses .*: change serviceName$/),
      },
    ]);
    expect(edge({ serviceName: "edge-tls", ecrRepositoryName: "team/app" })).toEqual([]);
  });
});

describe("names come from the plan", () => {
  const plan = planOf(production);
  const doc = synthMeshStack(production) as any;
  const planned = new Set(plan.names.all.map((n) => n.value));

  it("gives every ECS, IAM, security group, log group, launch template, bucket and Auto Scaling name the plan decided", () => {
    const checked: string[] = [];
    const fields: Record<string, string[]> = {
      aws_ecs_cluster: ["name"],
      aws_ecs_service: ["name"],
      aws_ecs_task_definition: ["family"],
      aws_ecs_capacity_provider: ["name"],
      aws_iam_role: ["name_prefix"],
      aws_security_group: ["name_prefix"],
      aws_cloudwatch_log_group: ["name"],
      aws_launch_template: ["name_prefix"],
      aws_autoscaling_group: ["name", "name_prefix"],
      aws_s3_bucket: ["bucket_prefix"],
      aws_ecr_pull_through_cache_rule: ["ecr_repository_prefix"],
    };
    for (const [type, keys] of Object.entries(fields)) {
      for (const [address, resource] of Object.entries<any>(doc.resource[type] ?? {})) {
        for (const key of keys) {
          const value = resource[key];
          if (value === undefined) continue;
          // Roles of other constructs reuse a planned prefix (the restore role's reader) or are named by AWS service.
          if (type === "aws_iam_role" && !value.startsWith(plan.name)) continue;
          expect(planned.has(value), `${type}.${address}.${key} = ${value}`).toBe(true);
          checked.push(value);
        }
      }
    }
    expect(checked.length).toBeGreaterThan(20);
  });

  it("gives every secret, VPC endpoint and security group of the mesh, and every name of the TLS edge, a name the name rule checks", () => {
    const { mesh, "tls-edge": edge } = synthAllStacks(withEndpoints);
    const withPlan = planOf(withEndpoints);
    const checked = (names: readonly { value: string }[]) => new Set(names.map((n) => n.value));
    const namesIn = (doc: any, fields: Record<string, (resource: any) => string | undefined>) =>
      Object.entries(fields).flatMap(([type, field]) =>
        Object.entries<any>(doc.resource[type] ?? {}).map(([address, resource]) => ({ at: `${type}.${address}`, value: field(resource) })),
      );
    const meshNames = namesIn(mesh, {
      aws_secretsmanager_secret: (r) => r.name_prefix,
      aws_vpc_endpoint: (r) => r.tags.Name,
      aws_security_group: (r) => r.name_prefix,
      aws_ssm_parameter: (r) => (r.name.includes("service-tokens") ? r.name : undefined),
    });
    const meshChecked = checked(withPlan.names.all);
    // Gossip key, the RPC CA's certificate and key (which the first server writes), management and agent
    // tokens, and the tokens of the two agent services; the S3 endpoint and an interface endpoint per API.
    expect(meshNames.filter((n) => n.at.startsWith("aws_secretsmanager_secret.")).length).toBe(7);
    expect(meshNames.filter((n) => n.at.startsWith("aws_vpc_endpoint.")).length).toBe(withPlan.network.interfaceEndpoints.length + 1);
    for (const { at, value } of meshNames) {
      if (at.startsWith("aws_ssm_parameter.")) {
        // SSM parameter names are the plan's, without a kind (lib/plan/names.ts says why).
        if (value)
          expect(
            [...withPlan.names.consulSecrets.serviceTokens.values()].map((t) => t.parameter),
            at,
          ).toContain(value);
      } else {
        expect(meshChecked.has(value!), `${at} = ${value}`).toBe(true);
      }
    }

    const edgeNames = namesIn(edge, {
      aws_iam_role: (r) => r.name_prefix,
      aws_security_group: (r) => r.name_prefix,
      aws_cloudwatch_log_group: (r) => r.name,
      aws_ecr_repository: (r) => r.name,
      aws_secretsmanager_secret: (r) => r.name_prefix,
      aws_vpc_endpoint: (r) => r.tags.Name,
      aws_kms_alias: (r) => r.name.replace(/^alias\//, ""),
    });
    const edgeChecked = checked(withPlan.tlsEdge!.names.all);
    expect(edgeNames.length).toBeGreaterThan(12);
    for (const { at, value } of edgeNames) expect(edgeChecked.has(value!), `${at} = ${value}`).toBe(true);
  });

  it("names the task role's policy of the containers' own AWS calls for what it grants (it was consul-auto-join)", () => {
    const policies = Object.entries<any>(doc.resource.aws_iam_role_policy).filter(([address]) => address.includes("_task_role_"));
    const own = policies.filter(([, policy]) => policy.name_prefix === `${plan.names.containerCallsPolicy}-`);
    // Every production service is a dataplane service: consul-ecs finds the servers by their tag.
    expect(own.map(([address]) => address).sort()).toEqual(plan.services.map((s) => `service_${s.name}_task_role_policy_${plan.names.containerCallsPolicy}`).sort());
    for (const [address, policy] of own) {
      const service = plan.services.find((s) => address.startsWith(`service_${s.name}_`))!;
      const actions = containerCalls(service.task).flatMap((call) => call.actions ?? []);
      expect(JSON.parse(policy.policy).Statement.flatMap((st: { Action: string[] }) => st.Action)).toEqual(actions);
    }
    expect(policies.filter(([address]) => address.includes("consul-auto-join"))).toEqual([]);
  });

  it("writes the spec's region, zones and instance types, never a variable", () => {
    const spec = structuredClone(production) as any;
    spec.network.zones[1].availabilityZone = "us-east-1d";
    const withZone = synthMeshStack(spec) as any;
    const subnets = withZone.resource.aws_subnet;
    expect(subnets.network_private_subnet_2.availability_zone).toBe("us-east-1d");
    // The other zones take the region's available zones the spec does not name, in order.
    const rest = 'sort(setsubtract(data.aws_availability_zones.available_zones.names, ["us-east-1d"]))';
    expect(subnets.network_private_subnet_1.availability_zone).toBe(`\${element(${rest}, 0)}`);
    expect(subnets.network_private_subnet_3.availability_zone).toBe(`\${element(${rest}, 1)}`);
    expect(doc.provider.aws[0].region).toBe("us-east-1");
    expect(Object.keys(doc.variable).sort()).toEqual(["admin_cidr", "admin_cidr_allow_broad", "aws_ec2_key"]);
  });

  it("stops the plan when the region has too few free zones for the unnamed ones, instead of reusing one (real terraform console)", () => {
    const spec = structuredClone(production) as any;
    spec.network.zones[1].availabilityZone = "us-east-1d";
    const [postcondition] = (synthMeshStack(spec) as any).data.aws_availability_zones.available_zones.lifecycle.postcondition;
    expect(postcondition.error_message).toMatch(/too few available zones for the 2 zone\(s\) network.zones leaves unnamed/);
    const holds = (regionZones: string[]) =>
      execFileSync("terraform", ["console"], {
        input: postcondition.condition.replace(/^\$\{|\}$/g, "").replace("self.names", JSON.stringify(regionZones)),
        encoding: "utf8",
        env: { ...process.env, CHECKPOINT_DISABLE: "1" },
      }).trim();
    expect(holds(["us-east-1a", "us-east-1b", "us-east-1d"])).toBe("true");
    // Two free zones besides the named one are needed: a region with one more has too few.
    expect(holds(["us-east-1a", "us-east-1d"])).toBe("false");
  });

  it("names no data source of zones when the spec names every zone", () => {
    const spec = structuredClone(production) as any;
    spec.network.zones.forEach((zone: any, i: number) => (zone.availabilityZone = `us-east-1${"abc"[i]}`));
    const named = synthMeshStack(spec) as any;
    expect(named.data.aws_availability_zones).toBeUndefined();
    expect(named.resource.aws_subnet.network_private_subnet_3.availability_zone).toBe("us-east-1c");
  });
});
