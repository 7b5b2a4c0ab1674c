// Pinned versions. Consul and Envoy must be a pair listed in Consul's "Envoy proxy
// compatibility" table (developer.hashicorp.com/consul/docs/connect/proxies/envoy#supported-versions).
export const CONSUL = {
  version: "PLACEHOLDER",
  image: "hashicorp/consul:PLACEHOLDER",
  /** SHA-256 of consul_<version>_linux_<arch>.zip from releases.hashicorp.com (SHA256SUMS). */
  sha256: { amd64: "PLACEHOLDER", arm64: "PLACEHOLDER" },
} as const;

export const ENVOY = {
  version: "PLACEHOLDER",
  image: "envoyproxy/envoy:vPLACEHOLDER",
} as const;
