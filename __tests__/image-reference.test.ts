// Image references are parsed in one place, and "latest" is refused by one rule wherever a tag
// comes from: a service's image, the TLS edge's app image tag, the Terraform variable app_image_tag.
import { describe, expect, it } from "vitest";
import { FLOATING_TAG, imagePinProblem, imageTagProblem, parseImage, registryOf } from "../lib/image-reference";
import { tlsEdgeSchema } from "../lib/spec/tls-edge-schema";
import { checkPlan } from "../lib/rules";
import { planOf, synthAllStacks } from "./support/synth";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";

describe("parseImage", () => {
  it.each([
    ["envoyproxy/envoy:v1.37.11", { repository: "envoyproxy/envoy", tag: "v1.37.11" }],
    ["public.ecr.aws/hashicorp/consul:2.0.1", { registry: "public.ecr.aws", repository: "hashicorp/consul", tag: "2.0.1" }],
    ["docker.io/library/nginx:1.27", { repository: "library/nginx", tag: "1.27" }],
    ["localhost:5000/app", { registry: "localhost:5000", repository: "app" }],
    [`nginx:1.27@sha256:${"a".repeat(64)}`, { repository: "nginx", tag: "1.27", digest: `sha256:${"a".repeat(64)}` }],
  ])("splits %s", (image, parts) => {
    expect(parseImage(image)).toEqual(parts);
  });

  it("names Docker Hub for images without a registry", () => {
    expect([registryOf("curlimages/curl:8.11.1"), registryOf("index.docker.io/x/y:1"), registryOf("111122223333.dkr.ecr.us-east-1.amazonaws.com/a:1")]).toEqual([
      "Docker Hub",
      "Docker Hub",
      "111122223333.dkr.ecr.us-east-1.amazonaws.com",
    ]);
  });

  it("finds pinned references and says why the others are not", () => {
    expect(imagePinProblem("nginx:1.27")).toBeUndefined();
    expect(imagePinProblem(`nginx@sha256:${"0".repeat(64)}`)).toBeUndefined();
    expect(imagePinProblem("nginx")).toMatch(/has no tag/);
    expect(imagePinProblem("nginx@sha256:abc")).toMatch(/invalid digest/);
    expect(imagePinProblem("localhost:5000/app")).toMatch(/has no tag/);
  });
});

describe(`the "${FLOATING_TAG}" rule, one text everywhere`, () => {
  const latest = imageTagProblem(FLOATING_TAG)!;

  it("refuses the floating tag of a service's image and of the TLS edge's app image with the same reason", () => {
    const spec = structuredClone(DEFAULT_SPEC) as any;
    spec.services["http-server"].image = `hashicorp/http-echo:${FLOATING_TAG}`;
    expect(checkPlan(planOf(spec)).errors).toContainEqual({ path: "services.http-server.image", message: `"hashicorp/http-echo:${FLOATING_TAG}": its tag ${latest}` });
    const parsed = tlsEdgeSchema.safeParse({ appImageTag: FLOATING_TAG });
    expect(parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join("."), i.message])).toEqual([["appImageTag", latest]]);
  });

  it("is the tag the stack's app_image_tag validation refuses", () => {
    const variable = synthAllStacks({ ...structuredClone(DEFAULT_SPEC), tlsEdge: {} })["tls-edge"].variable.app_image_tag;
    expect(variable.validation[0].condition).toContain(`var.app_image_tag != "${FLOATING_TAG}"`);
  });
});
