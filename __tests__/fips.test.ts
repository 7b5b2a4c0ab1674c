// versions.fips: the FIPS builds of consul-ecs and consul-dataplane, synthesized and inspected
// (repository and tag scheme in every task definition, the pull-through cache and its IAM), and
// the rules that refuse what has no FIPS build (agent tasks, versions with no FIPS image) and warn
// about what stays outside it (the Consul servers, the TLS edge).
import { describe, expect, it } from "vitest";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import { loadSpecFile } from "../lib/pipeline";
import type { MeshSpecInput } from "../lib/spec/schema";
import { compareVersions, FIPS_IMAGES, fipsTagOf, imageArchitecturesOf, IMAGE_ARCHITECTURES, DEFAULT_VERSIONS } from "../lib/versions";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { specIssues } from "./support/spec-issues";
import { synthAllStacks } from "./support/synth";

type Doc = Record<string, any>;
const NAMES = DATAPLANE_CONTAINERS;

/** examples/production.yaml (every service a dataplane task), with its versions and images edited. */
function production(versions: Record<string, unknown>, images: Record<string, unknown> = {}): MeshSpecInput {
  const spec = structuredClone(loadSpecFile("examples/production.yaml").spec) as any;
  spec.versions = { ...spec.versions, ...versions };
  spec.images = { ...spec.images, ...images };
  return spec;
}

const containersOf = (stacks: Doc, service: string): any[] => JSON.parse(stacks.mesh.resource.aws_ecs_task_definition[`service_${service}_task_definition`].container_definitions);
const imagesOf = (stacks: Doc, service: string) => Object.fromEntries(containersOf(stacks, service).map((c) => [c.name, c.image]));

describe("versions.fips: the images a dataplane task runs", () => {
  it("are HashiCorp's <name>-fips repositories tagged <version>-fips1402, from ECR Public as published", () => {
    const stacks = synthAllStacks(production({ fips: true }, { pullThroughCache: false }));
    for (const service of ["web", "api", "orders"]) {
      expect(imagesOf(stacks, service), service).toMatchObject({
        [NAMES.meshInit]: "public.ecr.aws/hashicorp/consul-ecs-fips:0.10.0-fips1402",
        [NAMES.healthSync]: "public.ecr.aws/hashicorp/consul-ecs-fips:0.10.0-fips1402",
        [NAMES.dataplane]: "public.ecr.aws/hashicorp/consul-dataplane-fips:2.0.1-fips1402",
      });
    }
    // Off (the default), the same spec runs the plain images.
    expect(imagesOf(synthAllStacks(production({}, { pullThroughCache: false })), "web")).toMatchObject({
      [NAMES.meshInit]: "public.ecr.aws/hashicorp/consul-ecs:0.10.0",
      [NAMES.dataplane]: "public.ecr.aws/hashicorp/consul-dataplane:2.0.1",
    });
  });

  it("come through the ECR Public pull-through cache, whose import permission covers the -fips repositories", () => {
    const stacks = synthAllStacks(production({ fips: true }));
    const images = imagesOf(stacks, "api");
    const cache = stacks.mesh.resource.aws_ecr_pull_through_cache_rule.images_ecr_public_cache;
    expect(cache.upstream_registry_url).toBe("public.ecr.aws");
    const prefix = cache.ecr_repository_prefix;
    for (const [name, repository, tag] of [
      [NAMES.meshInit, "hashicorp/consul-ecs-fips", "0.10.0-fips1402"],
      [NAMES.dataplane, "hashicorp/consul-dataplane-fips", "2.0.1-fips1402"],
    ] as const) {
      expect(images[name]).toMatch(new RegExp(`\\.dkr\\.ecr\\.[^/]+/${prefix}/${repository}:${tag.replace(/\./g, "\\.")}$`));
    }
    // The execution role may import exactly the cache's repositories: <prefix>/*, which holds both.
    const policy = JSON.parse(stacks.mesh.resource.aws_iam_role_policy["service_api_execution_role_policy_read-task-secrets"].policy);
    const imports = policy.Statement.find((s: any) => s.Action.includes("ecr:BatchImportUpstreamImage"));
    expect(imports.Resource).toEqual([expect.stringMatching(new RegExp(`:repository/${prefix}/\\*$`))]);
  });

  it("follow the selected versions: Consul 1.22 with consul-ecs 0.9.x and consul-dataplane 1.7.x", () => {
    const stacks = synthAllStacks(production({ fips: true, consul: "1.22.7", consulEcs: "0.9.4", consulDataplane: "1.7.10" }, { pullThroughCache: false }));
    expect(imagesOf(stacks, "web")).toMatchObject({
      [NAMES.meshInit]: "public.ecr.aws/hashicorp/consul-ecs-fips:0.9.4-fips1402",
      [NAMES.dataplane]: "public.ecr.aws/hashicorp/consul-dataplane-fips:1.7.10-fips1402",
    });
  });
});

describe("versions.fips: the rules", () => {
  it("accept a dataplane mesh, warning that the Consul servers are not FIPS builds", () => {
    const { errors, warnings } = specIssues(production({ fips: true }));
    expect(errors).toEqual([]);
    expect(warnings.filter((w) => w.path === "versions.fips")).toEqual([
      {
        path: "versions.fips",
        message: expect.stringMatching(
          /^only the dataplane tasks' consul-ecs and consul-dataplane are FIPS builds: the Consul servers run Consul CE, so .* not FIPS-validated end to end\. That needs Consul Enterprise FIPS servers/,
        ),
      },
    ]);
    expect(warnings.filter((w) => w.path === "versions.fips")[0]!.message).not.toContain("TLS edge");
    // Off, no such warning.
    expect(specIssues(production({})).warnings.filter((w) => w.path === "versions.fips")).toEqual([]);
  });

  it("refuse every agent task, at the service's architecture (Consul CE agents and envoyproxy/envoy have no FIPS build)", () => {
    const spec = structuredClone(DEFAULT_SPEC) as any;
    spec.versions = { fips: true };
    const { errors } = specIssues(spec);
    expect(errors).toEqual(
      Object.keys(spec.services)
        .sort()
        .map((name) => ({ path: `services.${name}.architecture`, message: expect.stringContaining("Consul's FIPS builds are Enterprise only") })),
    );
    // One service moved to dataplane: only the other is refused.
    spec.services["http-server"].architecture = "dataplane";
    expect(specIssues(spec).errors.map((e) => e.path)).toEqual(["services.http-client.architecture"]);
    spec.versions = {};
    expect(specIssues(spec).errors).toEqual([]);
  });

  it("warn that the TLS edge's Envoy is no FIPS build", () => {
    const spec = structuredClone(loadSpecFile("examples/tls-edge.yaml").spec) as any;
    spec.architecture = "dataplane";
    for (const service of Object.values<any>(spec.services)) delete service.architecture;
    spec.versions = { ...spec.versions, fips: true };
    const { errors, warnings } = specIssues(spec);
    expect(errors).toEqual([]);
    expect(warnings.find((w) => w.path === "versions.fips")?.message).toMatch(/the TLS edge runs envoyproxy\/envoy.*a FIPS Envoy at the edge \(hashicorp\/envoy-fips\)/);
  });

  it("refuse a version with no FIPS image known, naming the field; the same versions without fips pass", () => {
    // consul-dataplane 2.0.2 is past the newest build workflow read (2.0.1); consul-ecs 0.10.1 renamed its FIPS tags.
    const spec = production({ fips: true, consulDataplane: "2.0.2", consulEcs: "0.10.1" });
    expect(specIssues(spec).errors).toEqual([
      {
        path: "versions.consulEcs",
        message: expect.stringMatching(/^0\.10\.1 has no FIPS image .*public\.ecr\.aws\/hashicorp\/consul-ecs-fips is tagged <version>-fips1402 for 0\.7\.0 to 0\.10\.0/),
      },
      {
        path: "versions.consulDataplane",
        message: expect.stringMatching(
          /^2\.0\.2 has no FIPS image .*consul-dataplane-fips is tagged <version>-fips1402 for 1\.2\.0 to 2\.0\.1; pick a version there, or set versions\.fips: false$/,
        ),
      },
    ]);
    expect(specIssues(production({ consulDataplane: "2.0.2", consulEcs: "0.10.1" })).errors).toEqual([]);
  });

  it("check ARM64 tasks against the FIPS images' architectures, not the plain images'", () => {
    const arm = (fips: boolean) => {
      const spec = production({ fips }) as any;
      spec.services.api.cpuArchitecture = "ARM64";
      return spec;
    };
    expect(specIssues(arm(true)).errors).toEqual([]);
    // Were the FIPS build of consul-dataplane amd64 only, the FIPS spec alone would be refused.
    const published = FIPS_IMAGES.consulDataplane.architectures;
    (FIPS_IMAGES.consulDataplane as any).architectures = ["amd64"];
    try {
      expect(specIssues(arm(true)).errors).toEqual([
        { path: "services.api.cpuArchitecture", message: "public.ecr.aws/hashicorp/consul-dataplane-fips:2.0.1-fips1402 publishes no linux/arm64 image" },
      ]);
      expect(specIssues(arm(false)).errors).toEqual([]);
    } finally {
      (FIPS_IMAGES.consulDataplane as any).architectures = published;
    }
  });
});

describe("the FIPS image table", () => {
  it("tags each version inside a published range, and none outside", () => {
    expect(["1.1.13", "1.2.0", "1.7.0", "1.10.0", "2.0.1", "2.0.2"].map((v) => fipsTagOf("consulDataplane", v))).toEqual([
      undefined,
      "1.2.0-fips1402",
      "1.7.0-fips1402",
      "1.10.0-fips1402",
      "2.0.1-fips1402",
      undefined,
    ]);
    expect(["0.6.2", "0.7.0", "0.9.4", "0.10.0", "0.10.1"].map((v) => fipsTagOf("consulEcs", v))).toEqual([
      undefined,
      "0.7.0-fips1402",
      "0.9.4-fips1402",
      "0.10.0-fips1402",
      undefined,
    ]);
    expect([compareVersions("1.10.0", "1.9.9"), compareVersions("2.0.1", "2.0.1"), compareVersions("0.9.4", "0.10.0")]).toEqual([1, 0, -1]);
  });

  it("covers the pinned defaults, and swaps in the FIPS architectures only with fips", () => {
    expect(fipsTagOf("consulEcs", DEFAULT_VERSIONS.consulEcs)).toBeDefined();
    expect(fipsTagOf("consulDataplane", DEFAULT_VERSIONS.consulDataplane)).toBeDefined();
    expect(imageArchitecturesOf(DEFAULT_VERSIONS)).toBe(IMAGE_ARCHITECTURES);
    const fips = imageArchitecturesOf({ ...DEFAULT_VERSIONS, fips: true });
    expect(fips.consulEcs).toBe(FIPS_IMAGES.consulEcs.architectures);
    expect(fips.consulDataplane).toBe(FIPS_IMAGES.consulDataplane.architectures);
    expect(fips.envoy).toBe(IMAGE_ARCHITECTURES.envoy);
  });
});
