// Rules on the plan: references, ports, addresses, capacity, images, artifact sizes and the
// deployability model (network paths, boot order, task lifecycle, rollouts; lib/rules/model.ts). They
// run after the schema has accepted the structure and the plan has resolved every default, and
// report every problem with the spec path it comes from. Errors stop synthesis; warnings do not.
// To add a rule: write a function (plan, result) => void in the file of its topic, and list it here.
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";
import { checkArtifacts } from "./artifacts";
import { checkAutoscaling } from "./autoscaling";
import { checkBootOrder } from "./boot-order";
import { checkCapacity } from "./capacity";
import { checkDataplane } from "./dataplane";
import { checkImages } from "./images";
import { checkLifecycle } from "./lifecycle";
import { checkNames } from "./names";
import { checkNetwork } from "./network";
import { checkNetworkPaths } from "./network-paths";
import { checkObservability } from "./observability";
import { checkPorts } from "./ports";
import { checkReferences } from "./references";
import { checkRollouts } from "./rollouts";
import { checkSecurity } from "./security";
import { checkServers } from "./servers";
import { checkTrust } from "./trust";
import { checkTlsEdge } from "./tls-edge";
import { checkTraffic } from "./traffic";
import { checkFips, checkVersions } from "./versions";

export type Rule = (plan: MeshPlan, result: RuleResult) => void;

export const RULES: readonly Rule[] = [
  checkReferences,
  checkNames,
  checkPorts,
  checkNetwork,
  checkServers,
  checkCapacity,
  checkAutoscaling,
  checkRollouts,
  checkImages,
  checkSecurity,
  checkNetworkPaths,
  checkBootOrder,
  checkLifecycle,
  checkTlsEdge,
  checkVersions,
  checkFips,
  checkDataplane,
  checkArtifacts,
  checkTrust,
  checkTraffic,
  checkObservability,
];

export function checkPlan(plan: MeshPlan): RuleResult {
  const result: RuleResult = { errors: [], warnings: [] };
  for (const rule of RULES) rule(plan, result);
  return result;
}
