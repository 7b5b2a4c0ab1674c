// Pinned versions. Consul and Envoy are a pair from Consul's Envoy compatibility table
// ("Supported versions", developer.hashicorp.com/consul/docs/reference/proxy/envoy):
// Consul 1.22.x CE supports Envoy 1.35.x (in every revision of that table).
export const CONSUL = {
  version: "1.22.7",
  /** HashiCorp publishes its images on ECR Public too (no Docker Hub limits). */
  image: "public.ecr.aws/hashicorp/consul:1.22.7",
  /** SHA-256 of consul_1.22.7_linux_<arch>.zip (releases.hashicorp.com consul_1.22.7_SHA256SUMS). */
  sha256: {
    amd64: "fe25cecd8dd3552a8e5b0941cde1d79bb6004eac384aa45679dd1398f947201d",
    arm64: "db54c5fb7c5ceaef97a38ca45dcc0f649ff592a48c73ab320e2d535c78e136cc",
  },
} as const;

/** Envoy publishes its images on Docker Hub only (envoyproxy is a Docker Sponsored Open Source namespace). */
export const ENVOY = {
  version: "1.35.10",
  image: "envoyproxy/envoy:v1.35.10",
} as const;
