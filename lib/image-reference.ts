// Image references ("registry/repository:tag@digest"), parsed in one place, and the one rule on
// their tags: pinned, never the floating "latest". The spec schema, the plan, the rules and the
// tls-edge stack's Terraform validation all use these.
import { IMAGE_TAG } from "./aws-limits";

/** The tag registries move to each new push: an image pinned by it changes under you. */
export const FLOATING_TAG = "latest";

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

export interface ImageReference {
  /** The registry host; undefined for Docker Hub (no registry part, or one of its names). */
  readonly registry?: string;
  /** The repository path within the registry, e.g. "hashicorp/consul". */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** The parts of an image reference (Docker's reference grammar: a registry is a first segment with "." or ":", or localhost). */
export function parseImage(image: string): ImageReference {
  const at = image.indexOf("@");
  const name = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  const tagged = colon > slash;
  const path = tagged ? name.slice(0, colon) : name;
  const first = path.split("/")[0]!;
  const hasRegistry = path.includes("/") && (/[.:]/.test(first) || first === "localhost");
  const registry = hasRegistry && !DOCKER_HUB_HOSTS.has(first) ? first : undefined;
  return {
    ...(registry === undefined ? {} : { registry }),
    repository: hasRegistry ? path.slice(first.length + 1) : path,
    ...(tagged ? { tag: name.slice(colon + 1) } : {}),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** The registry of an image, or "Docker Hub". */
export function registryOf(image: string): string {
  return parseImage(image).registry ?? "Docker Hub";
}

/** Why a string is not an image tag (IMAGE_TAG), for the schema's pattern too. */
export const INVALID_TAG = "must be an image tag: letters, digits, '_', '.', '-', at most 128 characters";

/** Why a tag does not pin an image (invalid, or the floating one), or undefined. */
export function imageTagProblem(tag: string): string | undefined {
  if (!IMAGE_TAG.test(tag)) return INVALID_TAG;
  if (tag === FLOATING_TAG) return `must not be "${FLOATING_TAG}", which moves to every new push: pin a version (or, for an image you push, the tag scripts/push-images.sh prints)`;
  return undefined;
}

/** Why an image reference is not pinned by a valid tag or a digest, or undefined. */
export function imagePinProblem(image: string): string | undefined {
  if (/\s/.test(image)) return `"${image}" contains whitespace`;
  const { tag, digest } = parseImage(image);
  if (digest !== undefined) return DIGEST.test(digest) ? undefined : `"${image}" has an invalid digest; use name@sha256:<64 hex digits>`;
  if (tag === undefined) return `"${image}" has no tag; pin a version (name:1.2.3) or a digest (name@sha256:...)`;
  const problem = imageTagProblem(tag);
  return problem && `"${image}": its tag ${problem}`;
}

/** ECR (private repositories, the pull-through cache) by host name; anything else is a public registry. */
const ECR_REGISTRY = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** Whether an image is pulled from ECR (a private repository or a pull-through cache). */
export function isEcrImage(image: string): boolean {
  const { registry } = parseImage(image);
  return registry !== undefined && ECR_REGISTRY.test(registry);
}
