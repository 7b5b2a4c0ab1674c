// npm run diff (tools/diff.ts): two specs that differ in one permission, one timeout or one
// intention print exactly that change; identical specs print "no change"; a bad spec file stops
// with one line naming the file and the field.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { loadSpecFile, parseSpec } from "../lib/pipeline";
import { diffText, factsOf, main, stackOrderText } from "../tools/diff";
import { CliExit } from "../tools/support";
import { synthesizeIntentionsStack } from "../tools/synthesize";
import { entriesOfStack } from "../tools/traffic-evaluator";
import type { MeshSpecInput } from "../lib/spec/schema";
import { synthAllStacks } from "./support/synth";

const BASE_FILE = "examples/three-tier.yaml";
const base = loadSpecFile(BASE_FILE);
const services = Object.keys(base.spec.services).sort();
const baseFacts = factsOf(base, services);

/** The three-tier example with one change made to a copy of its document. */
function variant(change: (doc: any) => void) {
  const doc = structuredClone(base.spec) as any;
  change(doc);
  return factsOf(parseSpec(doc, "b.yaml"), services);
}

/** The diff text from the three-tier example to a variant of it. */
const diffAfter = (change: (doc: any) => void) => diffText(baseFacts, variant(change), { a: BASE_FILE, b: "b.yaml" });

/** The change lines of a diff (+, - or ~ with their was/now lines). */
const changeLines = (text: string) => text.split("\n").filter((line) => /^ {2}[~+-] | {6}(was|now): /.test(line));

describe("npm run diff", () => {
  it("shows one changed permission as that edge's permissions before and after, and nothing else", () => {
    const text = diffAfter((doc) => {
      doc.intentions[0].permissions[1].methods = ["GET"];
    });
    expect(changeLines(text)).toEqual([
      "  ~ web -> api",
      "      was: L7: deny /admin*; allow GET,HEAD /*; else deny (intentions[0] of the spec)",
      "      now: L7: deny /admin*; allow GET /*; else deny (intentions[0] of the spec)",
    ]);
    expect(text).toMatch(/^Who may call whom:$/m);
  });

  it("shows one changed timeout on the destination's route", () => {
    const text = diffAfter((doc) => {
      doc.services.web.upstreams[0].timeout = "5s";
    });
    // api's router carries its callers' timeout on each route: the canary route and the catch-all.
    expect(changeLines(text)).toEqual([
      '  ~ api route 1 (/*[x-canary exact "1"]) timeout',
      "      was: 3s",
      "      now: 5s",
      "  ~ api route 2 (/*) timeout",
      "      was: 3s",
      "      now: 5s",
    ]);
  });

  it("shows a changed split and a route sent to another version", () => {
    const text = diffAfter((doc) => {
      doc.services.api.split = { v1: 50, v2: 50 };
      doc.services.api.routes[0].version = "v1";
    });
    expect(changeLines(text)).toEqual([
      '  ~ api route 1 (/*[x-canary exact "1"]) to',
      "      was: api/v2",
      "      now: api/v1",
      "  ~ api split",
      "      was: 90% api/v1, 10% api/v2",
      "      now: 50% api/v1, 50% api/v2",
    ]);
  });

  it("shows one changed intention, and retries and limits taken away", () => {
    const text = diffAfter((doc) => {
      doc.intentions[1].action = "allow";
    });
    expect(changeLines(text)).toEqual(["  ~ web -> db-proxy", "      was: denied (intentions[1] of the spec)", "      now: allowed (intentions[1] of the spec)"]);

    const noRetries = changeLines(
      diffAfter((doc) => {
        doc.services.web.upstreams[0].retries = { attempts: 1 };
        doc.services.web.upstreams[0].limits = {};
      }),
    );
    expect(noRetries).toContain("  ~ api route 2 (/*) retries");
    expect(noRetries).toContain("      was: 1 retry on 5xx, connect-failure, reset");
    expect(noRetries).toContain("  - web -> api limits: MaxConnections 100, MaxPendingRequests 50");
  });

  it("does not report an intention as changed because another was inserted before it (its description names its index)", () => {
    const text = diffAfter((doc) => {
      doc.intentions.unshift({ source: "db-proxy", destination: "web", action: "deny" });
    });
    expect(changeLines(text)).toEqual(["  ~ db-proxy -> web", "      was: denied by * -> * (default: deny what is not allowed)", "      now: denied (intentions[0] of the spec)"]);
  });

  it("reads the same config entries from the intentions stack alone as from every stack synthesized together", () => {
    expect(entriesOfStack(synthesizeIntentionsStack(base.plan))).toEqual(entriesOfStack(synthAllStacks(base.spec as MeshSpecInput).intentions));
  });

  it("says which stack to apply first when traces turn on, and the opposite when they turn off", () => {
    const traced = structuredClone(base.spec) as any;
    traced.observability = { ...traced.observability, traces: { enabled: true } };
    const on = parseSpec(traced, "b.yaml");
    expect(stackOrderText(base, on)).toMatch(/^\nDeploy order: apply the mesh stack, then the intentions stack \(traces turn on: .*otel_collector.*\)\.\n$/);
    expect(stackOrderText(on, base)).toMatch(/^\nDeploy order: apply the intentions stack, then the mesh stack \(traces turn off: .*\)\.\n$/);
    expect([stackOrderText(base, base), stackOrderText(on, on)]).toEqual(["", ""]);
  });

  describe("on the command line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "diff-test-"));
    afterEach(() => vi.restoreAllMocks());

    it('prints "no change" for identical specs', () => {
      const out: string[] = [];
      vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        out.push(String(chunk));
        return true;
      });
      expect(main([BASE_FILE, BASE_FILE])).toBe(0);
      expect(out.join("")).toBe(`no change in who may call whom, routes, splits, timeouts or retries (${BASE_FILE} -> ${BASE_FILE})\n`);
    });

    it("stops with one line naming the file and the field of a bad spec", () => {
      const bad = path.join(dir, "bad.yaml");
      const doc = structuredClone(base.spec) as any;
      doc.services.api.protocol = "smtp";
      fs.writeFileSync(bad, stringify(doc));
      let caught: unknown;
      try {
        main([BASE_FILE, bad]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CliExit);
      const { code, text } = caught as CliExit;
      expect(code).toBe(1);
      expect(text).toMatch(new RegExp(`^diff: ${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: services\\.api\\.protocol: `));
      expect(text).not.toContain("\n");
      expect(() => main([BASE_FILE])).toThrow(/expected two spec files, got 1/);
    });
  });
});
