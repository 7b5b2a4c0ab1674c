// Every image pinned: a tag other than "latest", or a digest.
import { IMAGE_TAG } from "../aws-limits";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "./index";

export function checkImages(plan: MeshPlan, { errors }: RuleResult): void {
  for (const service of plan.services) {
    const problem = imagePinProblem(service.image);
    if (problem) errors.push({ path: `${service.path}.image`, message: problem });
  }
}

export function imagePinProblem(image: string): string | undefined {
  if (/\s/.test(image)) return `"${image}" contains whitespace`;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return `"${image}" has no tag; pin a version (name:1.2.3) or a digest (name@sha256:...)`;
  const tag = lastSegment.slice(colon + 1);
  if (tag === "latest") return `"${image}" uses :latest, which changes under you; pin a version or a digest`;
  if (!IMAGE_TAG.test(tag)) return `"${image}" has an invalid tag "${tag}"`;
  return undefined;
}
