// The version matrix (lib/versions.ts) and its support windows (lib/rules/versions.ts): defaults
// that need no warning on the day they were pinned, and warnings that name what to move to.
import * as fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { supportCheckDay, supportWarnings, type VersionUses } from "../lib/rules/versions";
import type { MeshSpecInput } from "../lib/spec/schema";
import { specIssues } from "./support/spec-issues";
import {
  COMPATIBILITY,
  compareVersions,
  CONSUL_RELEASES,
  DEFAULT_VERSIONS,
  END_OF_SUPPORT,
  FIPS_IMAGES,
  fipsTagOf,
  minorOf,
  NEWEST_PATCH,
  VERSIONS_PINNED_ON,
  type Versions,
} from "../lib/versions";

const EVERYTHING: VersionUses = { envoy: true, dataplane: true };
const at = (versions: Partial<Versions>, day: string, uses = EVERYTHING) => supportWarnings({ ...DEFAULT_VERSIONS, ...versions } as Versions, uses, day);

describe("the version matrix", () => {
  it("pins defaults that are supported and newest on the day they were pinned", () => {
    expect(at({}, VERSIONS_PINNED_ON)).toEqual([]);
    // Every default line has a known end, and it is after the day of pinning.
    expect(END_OF_SUPPORT.consul[minorOf(DEFAULT_VERSIONS.consul)]! > VERSIONS_PINNED_ON).toBe(true);
    expect(END_OF_SUPPORT.envoy[minorOf(DEFAULT_VERSIONS.envoy)]! > VERSIONS_PINNED_ON).toBe(true);
    for (const field of ["envoy", "consulEcs", "consulDataplane"] as const) expect(NEWEST_PATCH[field][minorOf(DEFAULT_VERSIONS[field])]).toBe(DEFAULT_VERSIONS[field]);
    // The default Envoy is the newest supported line HashiCorp pairs with the default Consul.
    const supported = COMPATIBILITY[minorOf(DEFAULT_VERSIONS.consul)]!.envoy.filter((line) => END_OF_SUPPORT.envoy[line]! > VERSIONS_PINNED_ON);
    expect(supported[0]).toBe(minorOf(DEFAULT_VERSIONS.envoy));
  });

  it("has a compatibility row for every Consul release a spec may pick (the versions rule reads it unchecked)", () => {
    expect(Object.keys(CONSUL_RELEASES).filter((release) => !COMPATIBILITY[minorOf(release)])).toEqual([]);
  });

  it("warns for an Envoy line past its end, naming the supported patches to move to", () => {
    expect(at({ envoy: "1.35.10" }, "2026-12-07")).toEqual([
      { path: "versions.envoy", message: "Envoy 1.35 left support on 2026-07-23 (no more security fixes); move to 1.37.11" },
      { path: "versions.envoy", message: "Envoy 1.35.10: a newer patch of its line is out, 1.35.13; pin it" },
    ]);
  });

  it("warns for an older patch of a supported line, and for a Consul line past its end", () => {
    expect(at({ envoy: "1.37.2" }, "2026-12-07")).toEqual([{ path: "versions.envoy", message: "Envoy 1.37.2: a newer patch of its line is out, 1.37.11; pin it" }]);
    expect(at({ consul: "1.22.7" as Versions["consul"], envoy: "1.35.13" }, "2026-12-07").map((w) => w.message)).toEqual([
      "Consul 1.22 left support on 2026-10-31; move to 2.0.x",
      "Envoy 1.35 left support on 2026-07-23 (no more security fixes); move to a supported line",
    ]);
  });

  it("warns once the default's own line ends, and not for Envoy where no task runs it", () => {
    expect(at({}, "2027-01-14").map((w) => w.message)).toEqual(["Envoy 1.37 left support on 2027-01-13 (no more security fixes); move to a supported line"]);
    expect(at({ envoy: "1.35.10" }, "2026-12-07", { envoy: false, dataplane: true })).toEqual([]);
  });

  it("judges on SOURCE_DATE_EPOCH when set (the tests set the day of pinning), else on today", () => {
    expect(supportCheckDay({ SOURCE_DATE_EPOCH: String(Date.parse("2027-02-01T00:00:00Z") / 1000) })).toBe("2027-02-01");
    expect(supportCheckDay({})).toBe(new Date().toISOString().slice(0, 10));
    expect(supportCheckDay({ SOURCE_DATE_EPOCH: "not a number" })).toBe(new Date().toISOString().slice(0, 10));
    expect(supportCheckDay()).toBe(VERSIONS_PINNED_ON);
  });
});

describe("newer patches of consul-ecs and consul-dataplane", () => {
  it("knows the newest patch of every line a spec may select, a patch of that line", () => {
    for (const field of ["consulEcs", "consulDataplane"] as const) {
      const selectable = [...new Set(Object.values(COMPATIBILITY).flatMap((row) => row[field]))].sort();
      expect(Object.keys(NEWEST_PATCH[field]).sort(), field).toEqual(selectable);
      for (const [line, newest] of Object.entries(NEWEST_PATCH[field])) expect(minorOf(newest), `${field} ${newest}`).toBe(line);
    }
  });

  it("names only patches with a FIPS image, so the warning is one a versions.fips spec can follow", () => {
    for (const field of ["consulEcs", "consulDataplane"] as const) {
      // Every newest patch since the first FIPS build: a FIPS range that stops short of it (0.10.1 is -fips1403) fails here.
      const sinceFips = Object.values(NEWEST_PATCH[field]).filter((v) => compareVersions(v, FIPS_IMAGES[field].tags[0]!.from) >= 0);
      expect(
        sinceFips.filter((v) => fipsTagOf(field, v) === undefined),
        field,
      ).toEqual([]);
    }
  });

  it("warns for an older patch, comparing patches as numbers, and names the newer one", () => {
    expect(at({ consulEcs: "0.9.2" }, VERSIONS_PINNED_ON)).toEqual([{ path: "versions.consulEcs", message: "consul-ecs 0.9.2: a newer patch of its line is out, 0.9.4; pin it" }]);
    // "1.8.9" sorts after "1.8.14" as text.
    expect(at({ consulDataplane: "1.8.9" }, VERSIONS_PINNED_ON)).toEqual([
      { path: "versions.consulDataplane", message: "consul-dataplane 1.8.9: a newer patch of its line is out, 1.8.14; pin it" },
    ]);
    expect(at({ consulDataplane: "1.8.14", consulEcs: "0.9.4" }, VERSIONS_PINNED_ON)).toEqual([]);
    // A patch newer than the table knows is not older.
    expect(at({ consulDataplane: "2.0.3" }, VERSIONS_PINNED_ON)).toEqual([]);
  });

  it("does not warn where no dataplane task runs them", () => {
    expect(at({ consulEcs: "0.9.2", consulDataplane: "1.9.3" }, VERSIONS_PINNED_ON, { envoy: true, dataplane: false })).toEqual([]);
  });
});

describe("the versions rule on a spec", () => {
  const TLS_EDGE = parse(fs.readFileSync(path.join(__dirname, "..", "examples", "tls-edge.yaml"), "utf8")) as MeshSpecInput;
  const versionWarnings = (spec: MeshSpecInput) => specIssues(spec).warnings.filter((w) => w.path.startsWith("versions."));
  const { tlsEdge: _, ...meshOnly } = TLS_EDGE;

  it("warns on a dataplane mesh that pins older consul-ecs and consul-dataplane patches, and not on the defaults", () => {
    expect(versionWarnings({ ...meshOnly, architecture: "dataplane" })).toEqual([]);
    expect(versionWarnings({ ...meshOnly, architecture: "dataplane", versions: { consulDataplane: "1.9.3" } })).toEqual([
      { path: "versions.consulDataplane", message: "consul-dataplane 1.9.3: a newer patch of its line is out, 1.9.9; pin it" },
    ]);
    // Agent tasks run neither.
    expect(versionWarnings({ ...meshOnly, versions: { consulDataplane: "1.9.3" } })).toEqual([]);
  });

  it("with versions.fips, still warns of an older Envoy where the TLS edge runs envoyproxy/envoy, and only there", () => {
    const fips = { architecture: "dataplane", versions: { fips: true, envoy: "1.37.2" } } as const;
    const envoyWarnings = (spec: MeshSpecInput) => versionWarnings(spec).filter((w) => w.path === "versions.envoy");
    expect(envoyWarnings({ ...TLS_EDGE, ...fips })).toEqual([{ path: "versions.envoy", message: "Envoy 1.37.2: a newer patch of its line is out, 1.37.11; pin it" }]);
    expect(envoyWarnings({ ...meshOnly, ...fips })).toEqual([]);
  });
});
