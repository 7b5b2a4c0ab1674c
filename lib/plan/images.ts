// Where each mesh image comes from. Images HashiCorp publishes on ECR Public go through an ECR
// pull-through cache (private, scanned, no Docker Hub limits); Docker Hub images go through one
// too when the spec gives Docker Hub credentials (ECR requires them), else straight from Docker
// Hub. Containers name an image by the slot image:<key>; the MeshImages construct binds it.
import { parseImage } from "../image-reference";
import { imagesOf, type Versions } from "../versions";
import type { MeshSpec } from "../spec/schema";
import type { ImagePlan, TaskPlan } from "./types";
import { isSlot, slot, type Slot } from "./text";

export type MeshImageKey = keyof ReturnType<typeof imagesOf>;

const IMAGE_SLOT_PREFIX = "image:";

/** The slot a container uses for a mesh image. */
export function imageSlot(key: MeshImageKey): Slot {
  return slot(`${IMAGE_SLOT_PREFIX}${key}`);
}

/** The mesh image a container runs, when its image is one (not the app's). */
export function meshImageKeyOf(image: unknown): MeshImageKey | undefined {
  return isSlot(image) && image.slot.startsWith(IMAGE_SLOT_PREFIX) ? (image.slot.slice(IMAGE_SLOT_PREFIX.length) as MeshImageKey) : undefined;
}

/** The mesh images a task's containers run, each once, in container order. */
export function meshImageKeysOf(task: TaskPlan): MeshImageKey[] {
  return [...new Set(task.containers.flatMap((c) => meshImageKeyOf(c.image) ?? []))];
}

const ECR_PUBLIC = "public.ecr.aws";

export function planImages(versions: Versions, images: MeshSpec["images"]): Map<string, ImagePlan> {
  const { pullThroughCache, dockerHubCredentialsSecretArn } = images;
  const plans = new Map<string, ImagePlan>();
  for (const [key, upstream] of Object.entries(imagesOf(versions))) {
    const { registry, repository, tag } = parseImage(upstream);
    const cache = registry === ECR_PUBLIC ? (pullThroughCache ? "ecr-public" : undefined) : dockerHubCredentialsSecretArn ? "docker-hub" : undefined;
    plans.set(key, { upstream, via: cache ? { cache, repository, tag: tag! } : "direct" });
  }
  return plans;
}
