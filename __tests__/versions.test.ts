// The version matrix (lib/versions.ts) and its support windows (lib/rules/versions.ts): defaults
// that need no warning on the day they were pinned, and warnings that name what to move to.
import { describe, expect, it } from "vitest";
import { supportCheckDay, supportWarnings } from "../lib/rules/versions";
import { COMPATIBILITY, CONSUL_RELEASES, DEFAULT_VERSIONS, END_OF_SUPPORT, minorOf, NEWEST_ENVOY_PATCH, VERSIONS_PINNED_ON, type Versions } from "../lib/versions";

const at = (versions: Partial<Versions>, day: string, usesEnvoy = true) => supportWarnings({ ...DEFAULT_VERSIONS, ...versions } as Versions, usesEnvoy, day);

describe("the version matrix", () => {
  it("pins defaults that are supported and newest on the day they were pinned", () => {
    expect(at({}, VERSIONS_PINNED_ON)).toEqual([]);
    // Every default line has a known end, and it is after the day of pinning.
    expect(END_OF_SUPPORT.consul[minorOf(DEFAULT_VERSIONS.consul)]! > VERSIONS_PINNED_ON).toBe(true);
    expect(END_OF_SUPPORT.envoy[minorOf(DEFAULT_VERSIONS.envoy)]! > VERSIONS_PINNED_ON).toBe(true);
    expect(NEWEST_ENVOY_PATCH[minorOf(DEFAULT_VERSIONS.envoy)]).toBe(DEFAULT_VERSIONS.envoy);
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
    expect(at({ envoy: "1.35.10" }, "2026-12-07", false)).toEqual([]);
  });

  it("judges on SOURCE_DATE_EPOCH when set (the tests set the day of pinning), else on today", () => {
    expect(supportCheckDay({ SOURCE_DATE_EPOCH: String(Date.parse("2027-02-01T00:00:00Z") / 1000) })).toBe("2027-02-01");
    expect(supportCheckDay({})).toBe(new Date().toISOString().slice(0, 10));
    expect(supportCheckDay({ SOURCE_DATE_EPOCH: "not a number" })).toBe(new Date().toISOString().slice(0, 10));
    expect(supportCheckDay()).toBe(VERSIONS_PINNED_ON);
  });
});
