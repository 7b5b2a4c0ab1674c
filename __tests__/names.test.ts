// Every resource name is decided once, in the plan, and checked against its AWS limit by a rule;
// the spec is the only channel for what a rule checks (no Terraform variable overrides it).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../lib/pipeline";
import { SpecError } from "../lib/issues";
import { loadSpecFile } from "../lib/pipeline";
import type { MeshSpecInput } from "../lib/spec/schema";
import { planOf, synthMeshStack } from "./support/synth";

const production = loadSpecFile("examples/production.yaml").spec as MeshSpecInput;

function errorsOf(spec: MeshSpecInput): { path: string; message: string }[] {
  try {
    parseSpec(spec, "test.yaml");
    return [];
  } catch (error) {
    if (error instanceof SpecError) return [...error.errors];
    throw error;
  }
}

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
