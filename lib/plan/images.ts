// Where each mesh image comes from. Images HashiCorp publishes on ECR Public go through an ECR
// pull-through cache (private, scanned, no Docker Hub limits); Docker Hub images go through one
// too when the spec gives Docker Hub credentials (ECR requires them), else straight from Docker
// Hub. Containers name an image by the slot image:<key>; the MeshImages construct binds it.
import { CONSUL, ENVOY } from "../versions";
import type { MeshSpec } from "../spec/schema";
import type { ImagePlan } from "./types";
import { slot, type Slot } from "./text";

export const MESH_IMAGES = { consul: CONSUL.image, envoy: ENVOY.image } as const;
export type MeshImageKey = keyof typeof MESH_IMAGES;

/** The slot a container uses for a mesh image. */
export function imageSlot(key: MeshImageKey): Slot {
  return slot(`image:${key}`);
}

const ECR_PUBLIC = "public.ecr.aws/";

/** repository and tag of "registry/repo/path:tag" (Docker Hub images have no registry part). */
function splitImage(image: string): { repository: string; tag: string } {
  const colon = image.lastIndexOf(":");
  return { repository: image.slice(0, colon).replace(ECR_PUBLIC, ""), tag: image.slice(colon + 1) };
}

export function planImages(spec: MeshSpec): Map<string, ImagePlan> {
  const { pullThroughCache, dockerHubCredentialsSecretArn } = spec.images;
  const images = new Map<string, ImagePlan>();
  for (const [key, upstream] of Object.entries(MESH_IMAGES)) {
    const cache = upstream.startsWith(ECR_PUBLIC) ? (pullThroughCache ? "ecr-public" : undefined) : dockerHubCredentialsSecretArn ? "docker-hub" : undefined;
    images.set(key, { upstream, via: cache ? { cache, ...splitImage(upstream) } : "direct" });
  }
  return images;
}
