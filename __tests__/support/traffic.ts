// What the traffic rule finds on a spec's plan, and the Consul config entries a synthesized stack
// applies: shared by the L7 tests (traffic, traffic-versions).
import type { RuleResult, SpecIssue } from "../../lib/issues";
import { checkTraffic } from "../../lib/rules/traffic";
import type { MeshSpecInput } from "../../lib/spec/schema";
import { specIssues } from "./spec-issues";
import { planOf } from "./synth";

/** The traffic rule's errors and warnings on a spec's plan (the other rules not run). */
export function trafficIssues(spec: MeshSpecInput): RuleResult {
  const result: RuleResult = { errors: [], warnings: [] };
  checkTraffic(planOf(spec), result);
  return result;
}

/** A stack's consul_config_entry resources by id: kind, name, parsed config and depends_on. */
export const configEntries = (doc: any) =>
  Object.fromEntries(
    Object.entries(doc.resource.consul_config_entry as Record<string, any>).map(([id, e]) => [
      id,
      { kind: e.kind, name: e.name, config: JSON.parse(e.config_json), dependsOn: e.depends_on },
    ]),
  );

/** The traffic rule's errors on a spec's plan. */
export const trafficErrors = (spec: MeshSpecInput): SpecIssue[] => trafficIssues(spec).errors;

/** Every rule's verdict on a spec, as the pipeline runs them: [] when it synthesizes. */
export const allErrors = (spec: MeshSpecInput): SpecIssue[] => specIssues(spec).errors;
