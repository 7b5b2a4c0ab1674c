import { Construct } from "constructs";
import { EcrPullThroughCacheRule } from "@cdktf/provider-aws/lib/ecr-pull-through-cache-rule";
import { EcrRepositoryCreationTemplate } from "@cdktf/provider-aws/lib/ecr-repository-creation-template";
import type { MeshPlan } from "../plan/types";
import type { AwsAccount } from "./aws-service-role";

export interface MeshImagesProps extends AwsAccount {
  /**
   * The mesh's images and their sources, as the plan resolved them, with the mesh's own cache
   * prefixes, the Docker Hub credentials (a secret named ecr-pullthroughcache/...) of a Docker Hub
   * cache rule, and the cluster name for descriptions.
   */
  readonly plan: MeshPlan;
  /** The registry's DNS suffix (amazonaws.com; amazonaws.com.cn in China). */
  readonly dnsSuffix: string;
}

/** ECR lifecycle policy of every repository the project makes: untagged images (failed pushes, replaced cache tags) expire after a week. */
export const UNTAGGED_IMAGE_EXPIRY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: "Expire untagged images after 7 days",
      selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
      action: { type: "expire" },
    },
  ],
});

/** Upstream registry of each cache rule. */
const UPSTREAMS = { "ecr-public": "public.ecr.aws", "docker-hub": "registry-1.docker.io" } as const;

/**
 * Where tasks pull the mesh's images from: ECR pull-through cache rules (ECR Public needs no
 * credentials; Docker Hub needs a secret), so the images come from this account's private ECR,
 * KMS-encrypted, without Docker Hub's anonymous pull limits, and the first pull of each
 * tag creates its repository from a creation template. Images without a rule are pulled from
 * their registry as published.
 */
export class MeshImages extends Construct {
  /** The image URI each mesh image key resolves to (bound to the slots image:<key>). */
  public readonly uris: ReadonlyMap<string, string>;
  /** ARN pattern of the repositories the cache creates: execution roles may import into exactly these. */
  public readonly cacheRepositoryArns: readonly string[];

  constructor(scope: Construct, id: string, props: MeshImagesProps) {
    super(scope, id);
    const registry = `${props.accountId}.dkr.ecr.${props.region}.${props.dnsSuffix}`;
    const { images, names, dockerHubCredentialsSecretArn } = props.plan;
    const caches = new Set([...images.values()].flatMap((image) => (image.via === "direct" ? [] : [image.via.cache])));
    const prefixes = new Map<string, string>();
    for (const cache of [...caches].sort()) {
      const prefix = names.cachePrefixes[cache];
      prefixes.set(cache, prefix);
      const rule = new EcrPullThroughCacheRule(this, `${cache.replace("-", "_")}_cache`, {
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: UPSTREAMS[cache],
        ...(cache === "docker-hub" ? { credentialArn: dockerHubCredentialsSecretArn } : {}),
      });
      new EcrRepositoryCreationTemplate(this, `${cache.replace("-", "_")}_repositories`, {
        prefix,
        appliedFor: ["PULL_THROUGH_CACHE"],
        description: `Repositories the ${UPSTREAMS[cache]} pull-through cache of ${props.plan.name} creates`,
        encryptionConfiguration: [{ encryptionType: "KMS" }],
        // The cache keeps upstream tags up to date (at least daily); the spec pins every tag it uses.
        imageTagMutability: "MUTABLE",
        lifecyclePolicy: UNTAGGED_IMAGE_EXPIRY,
        dependsOn: [rule],
      });
    }
    this.uris = new Map(
      [...images].map(([key, image]) => [key, image.via === "direct" ? image.upstream : `${registry}/${prefixes.get(image.via.cache)}/${image.via.repository}:${image.via.tag}`]),
    );
    this.cacheRepositoryArns = [...prefixes.values()].map((prefix) => `arn:${props.partition}:ecr:${props.region}:${props.accountId}:repository/${prefix}/*`);
  }

  /** What an execution role needs beyond AmazonECSTaskExecutionRolePolicy for the first pull of a cached image. */
  public get pullPolicyStatements(): object[] {
    if (this.cacheRepositoryArns.length === 0) return [];
    return [{ Effect: "Allow", Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"], Resource: [...this.cacheRepositoryArns] }];
  }
}
