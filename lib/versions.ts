// One version matrix: the Consul servers and agents, consul-ecs and consul-dataplane (agentless
// tasks), and Envoy (agent tasks and the TLS edge), pinned together from HashiCorp's compatibility tables:
//   - "Consul on ECS" compatibility (developer.hashicorp.com/consul/docs/upgrade/ecs):
//     Consul 1.22.x and 2.0.x -> consul-ecs 0.10.x; Consul 1.20.x-1.22.x -> consul-ecs 0.9.x.
//   - "Envoy and Consul Dataplane" (developer.hashicorp.com/consul/docs/reference/proxy/envoy):
//     Consul 2.0.x CE -> dataplane 2.0.x (default), 1.9.x, 1.8.x; Consul 1.22.x CE -> dataplane
//     1.9.x (default), 1.8.x, 1.7.x.
//   - "Envoy and Consul client agent" (same page): Consul 2.0.x -> Envoy 1.37, 1.36, 1.35, 1.34
//     (hashicorp/consul envoyextensions/xdscommon/ENVOY_VERSIONS); Consul 1.22.x -> 1.35, 1.34, 1.33.
// Consul 2.0.1 is the default: 1.22.x CE left support on 2026-10-31; consul-ecs 0.10.0 is tested
// against 2.0.1 and 1.22.7 (its CI), so tasks need no change when servers move between the two.
// A spec may pick other versions from these tables (spec `versions`); a pair outside them is an error.
// versions.fips selects the FIPS builds of consul-ecs and consul-dataplane (FIPS_IMAGES).
import type { Architecture, CPU_ARCHITECTURES } from "./aws-limits";

/** Consul releases this project can install on its servers, each with the SHA-256 of its Linux archives. */
export const CONSUL_RELEASES = {
  // releases.hashicorp.com consul_2.0.1_SHA256SUMS, as published in HashiCorp's Homebrew tap formula.
  "2.0.1": {
    amd64: "f8189736b05e3fe42d27dd83dfbd3a6d7e44b5669b2e51684362e9c1639babe0",
    arm64: "06a88f29c408f02a4c6388dccf30c059b8d8ce3778576701603fbb4dfc03b365",
  },
  // releases.hashicorp.com consul_1.22.7_SHA256SUMS.
  "1.22.7": {
    amd64: "fe25cecd8dd3552a8e5b0941cde1d79bb6004eac384aa45679dd1398f947201d",
    arm64: "db54c5fb7c5ceaef97a38ca45dcc0f649ff592a48c73ab320e2d535c78e136cc",
  },
} as const;

export type ConsulRelease = keyof typeof CONSUL_RELEASES;

/** What each Consul line works with, per HashiCorp's tables (minor versions). */
export const COMPATIBILITY: Readonly<Record<string, { readonly consulEcs: readonly string[]; readonly consulDataplane: readonly string[]; readonly envoy: readonly string[] }>> = {
  "2.0": { consulEcs: ["0.10"], consulDataplane: ["2.0", "1.9", "1.8"], envoy: ["1.37", "1.36", "1.35", "1.34"] },
  "1.22": { consulEcs: ["0.10", "0.9"], consulDataplane: ["1.9", "1.8", "1.7"], envoy: ["1.35", "1.34", "1.33"] },
};

/**
 * When each line's support ends (YYYY-MM-DD). A line past its end still synthesizes, with a warning.
 *   - Envoy: envoyproxy/envoy RELEASES.md @022249f, "Major release schedule" (each line 12 months).
 *   - Consul: hashicorp/web-unified-docs consul/global/partials/text/versioning/v2-support.mdx
 *     @0b0d980 (2.0.x until 2028-04-30; 1.22.x CE ended 2026-10-31).
 */
export const END_OF_SUPPORT: Readonly<Record<"consul" | "envoy", Readonly<Record<string, string>>>> = {
  consul: { "2.0": "2028-04-30", "1.22": "2026-10-31" },
  envoy: { "1.33": "2026-01-14", "1.34": "2026-04-15", "1.35": "2026-07-23", "1.36": "2026-10-14", "1.37": "2027-01-13", "1.38": "2027-04-23" },
};

/**
 * The newest patch of each selectable line this matrix knows. A spec that pins an older patch of
 * a line a task runs gets a warning naming the newer one.
 *   - envoy: envoyproxy.io version history: 1.35.13 of 2026-06-22, 1.36.13 of 2026-10-12, 1.37.11
 *     of 2026-10-26.
 *   - consulEcs: hashicorp/consul-ecs release tags (`git tag`, snapshot of 2026-07-17, its last
 *     commit): v0.10.0 of 2026-07-09, v0.9.4 of 2026-03-17.
 *   - consulDataplane: hashicorp/consul-dataplane release tags (snapshot of 2026-07-01): v2.0.1
 *     and v1.9.9 and v1.8.14 of 2026-06-22, v1.7.13 of 2026-03-25.
 * consul-ecs 0.10.1 and consul-dataplane 2.0.2 to 2.0.4 are out upstream (README, Versions) but
 * past these snapshots, and their FIPS builds moved to -fips1403: not carried until read.
 */
export const NEWEST_PATCH: Readonly<Record<"envoy" | "consulEcs" | "consulDataplane", Readonly<Record<string, string>>>> = {
  envoy: { "1.35": "1.35.13", "1.36": "1.36.13", "1.37": "1.37.11" },
  consulEcs: { "0.10": "0.10.0", "0.9": "0.9.4" },
  consulDataplane: { "2.0": "2.0.1", "1.9": "1.9.9", "1.8": "1.8.14", "1.7": "1.7.13" },
};

/** How warnings and the README name each versioned component. */
export const COMPONENT_NAMES = { consul: "Consul", consulEcs: "consul-ecs", consulDataplane: "consul-dataplane", envoy: "Envoy" } as const;

/** The day the defaults below were checked against END_OF_SUPPORT and NEWEST_PATCH. */
export const VERSIONS_PINNED_ON = "2026-12-07";

/**
 * The pinned defaults: one row of the tables above. Envoy: the newest patch of the newest line
 * Consul 2.0's table lists that is still supported (1.37 until 2027-01-13).
 */
export const DEFAULT_VERSIONS = {
  consul: "2.0.1",
  consulEcs: "0.10.0",
  consulDataplane: "2.0.1",
  envoy: "1.37.11",
  fips: false,
} as const;

type LinuxArchitecture = (typeof CPU_ARCHITECTURES)[Architecture]["linux"];

/**
 * The Linux architectures each image publishes (its build workflow at the pinned tag, or the
 * registry's tag page): a task on ARM64 (Graviton) needs arm64 in every image it runs.
 *   - consul: hashicorp/consul .github/workflows/build.yml (docker targets amd64, arm64, also 386, arm)
 *   - consul-ecs: hashicorp/consul-ecs build.yml @v0.10.0 (arm, arm64, 386, amd64)
 *   - consul-dataplane: hashicorp/consul-dataplane build.yml @v2.0.1 (amd64, arm64)
 *   - envoy: Docker Hub envoyproxy/envoy tag pages (linux/amd64, linux/arm64)
 */
export const IMAGE_ARCHITECTURES: Readonly<Record<keyof typeof IMAGE_REPOSITORIES, readonly LinuxArchitecture[]>> = {
  consul: ["amd64", "arm64"],
  consulEcs: ["amd64", "arm64"],
  consulDataplane: ["amd64", "arm64"],
  envoy: ["amd64", "arm64"],
  // aws-observability/aws-otel-collector .github/workflows/CI.yml @v0.49.0 (buildx linux/amd64, linux/arm64).
  otelCollector: ["amd64", "arm64"],
};

/** The FIPS builds a spec may select instead of an image (versions.fips). */
export interface FipsImage {
  readonly repository: string;
  /** Each published range (inclusive, release versions): its FIPS image is tagged <version><suffix>. */
  readonly tags: readonly { readonly from: string; readonly through: string; readonly suffix: string }[];
  readonly architectures: readonly LinuxArchitecture[];
}

/**
 * FIPS 140-2 builds of consul-ecs and consul-dataplane (spec versions.fips: true), read from the
 * build workflow of every release tag in each range. Both build the Docker target
 * release-fips-default with version <version>+fips1402 and push it as
 * public.ecr.aws/hashicorp/<repo>-fips:<version>+fips1402; hashicorp/actions-docker-build@v2
 * (scripts/digest_inputs, autocorrect_tags: `tr + -` on every tag) publishes that as
 * <version>-fips1402 (consul-dataplane's own Dockerfile pulls hashicorp/envoy-fips:<v>-fips1402,
 * the same scheme). The FIPS targets keep the default image's layout (CONSUL_ECS_IMAGE's binary
 * and user; consul-dataplane with Envoy from hashicorp/envoy-fips instead of hashicorp/envoy).
 *   - consul-ecs: .github/workflows/build.yml job build-docker-fips, v0.7.0 to v0.10.0 (arch matrix
 *     arm64, amd64; none before 0.7.0, as releases.hashicorp.com/consul-ecs lists +fips1402 from
 *     0.7.0). From 0.10.1 the FIPS builds are FIPS 140-3 and tagged -fips1403 (HashiCorp's
 *     consul-ecs 0.10.x release notes, upgrade notes): not carried until its tag and architectures
 *     are checked (README, Versions).
 *   - consul-dataplane: .github/workflows/build.yml job build-docker-default, "Docker FIPS Build"
 *     step, v1.2.0 to v2.0.1 (arch matrix amd64 and arm64 with fips "+fips1402"; none in 1.0.x and
 *     1.1.x). Newer tags are not read here, and Consul 2.0.4 renamed its FIPS artifacts to
 *     fips1403 (hashicorp/consul v2.0.4 changelog), so a later dataplane may have too.
 */
export const FIPS_IMAGES: Readonly<Record<"consulEcs" | "consulDataplane", FipsImage>> = {
  consulEcs: {
    repository: "public.ecr.aws/hashicorp/consul-ecs-fips",
    tags: [{ from: "0.7.0", through: "0.10.0", suffix: "-fips1402" }],
    architectures: ["amd64", "arm64"],
  },
  consulDataplane: {
    repository: "public.ecr.aws/hashicorp/consul-dataplane-fips",
    tags: [{ from: "1.2.0", through: "2.0.1", suffix: "-fips1402" }],
    architectures: ["amd64", "arm64"],
  },
};

/** -1, 0 or 1 as release version a is older than, equal to or newer than b ("1.10.0" > "1.9.9"). */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < Math.max(x!.length, y!.length); i++) {
    const d = (x![i] ?? 0) - (y![i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** The tag of a component's FIPS image at a version, or undefined when FIPS_IMAGES knows none. */
export function fipsTagOf(key: keyof typeof FIPS_IMAGES, version: string): string | undefined {
  const range = FIPS_IMAGES[key].tags.find((r) => compareVersions(version, r.from) >= 0 && compareVersions(version, r.through) <= 0);
  return range && `${version}${range.suffix}`;
}

/** The architectures each image of these versions publishes: the FIPS builds' when versions.fips. */
export function imageArchitecturesOf(versions: Versions): Readonly<Record<keyof typeof IMAGE_REPOSITORIES, readonly LinuxArchitecture[]>> {
  if (!versions.fips) return IMAGE_ARCHITECTURES;
  return { ...IMAGE_ARCHITECTURES, consulEcs: FIPS_IMAGES.consulEcs.architectures, consulDataplane: FIPS_IMAGES.consulDataplane.architectures };
}

/** HashiCorp publishes its images on ECR Public too (no Docker Hub limits); Envoy only on Docker Hub. */
export const IMAGE_REPOSITORIES = {
  consul: "public.ecr.aws/hashicorp/consul",
  consulEcs: "public.ecr.aws/hashicorp/consul-ecs",
  consulDataplane: "public.ecr.aws/hashicorp/consul-dataplane",
  envoy: "envoyproxy/envoy",
  otelCollector: "public.ecr.aws/aws-observability/aws-otel-collector",
} as const;

/**
 * The AWS Distro for OpenTelemetry collector, which ships the proxies' metrics to CloudWatch
 * (observability.metrics): v0.49.0 of 2026-07-15 (aws-observability/aws-otel-collector VERSION and
 * tags; its CD workflow publishes the tag as public.ecr.aws/aws-observability/aws-otel-collector:v<version>),
 * built on OpenTelemetry Collector contrib v0.156.0. Its components are judged against
 * tools/judges/otel-collector-reference.ts, read for this version.
 */
export const OTEL_COLLECTOR_VERSION = "0.49.0";

export interface Versions {
  readonly consul: ConsulRelease;
  readonly consulEcs: string;
  readonly consulDataplane: string;
  readonly envoy: string;
  /** consul-ecs and consul-dataplane from their FIPS builds (FIPS_IMAGES). */
  readonly fips: boolean;
}

/**
 * The image of each component at the given versions (Envoy tags carry a "v"). A FIPS version
 * FIPS_IMAGES has no tag for keeps its plain version as the tag: the versions rule refuses the
 * spec (versions.fips), so nothing synthesizes it.
 */
export function imagesOf(versions: Versions) {
  const hashicorp = (key: keyof typeof FIPS_IMAGES) =>
    versions.fips ? `${FIPS_IMAGES[key].repository}:${fipsTagOf(key, versions[key]) ?? versions[key]}` : `${IMAGE_REPOSITORIES[key]}:${versions[key]}`;
  return {
    consul: `${IMAGE_REPOSITORIES.consul}:${versions.consul}`,
    consulEcs: hashicorp("consulEcs"),
    consulDataplane: hashicorp("consulDataplane"),
    envoy: `${IMAGE_REPOSITORIES.envoy}:v${versions.envoy}`,
    otelCollector: `${IMAGE_REPOSITORIES.otelCollector}:v${OTEL_COLLECTOR_VERSION}`,
  } as const;
}

/** "1.22.7" -> "1.22". */
export function minorOf(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

/** The pinned default Consul release and its checksums. */
export const CONSUL = { version: DEFAULT_VERSIONS.consul, image: imagesOf(DEFAULT_VERSIONS).consul, sha256: CONSUL_RELEASES[DEFAULT_VERSIONS.consul] } as const;

/** The pinned default Envoy: versions.envoy when the spec names none (agent tasks and the TLS edge run it). */
export const ENVOY = { version: DEFAULT_VERSIONS.envoy, image: imagesOf(DEFAULT_VERSIONS).envoy } as const;
