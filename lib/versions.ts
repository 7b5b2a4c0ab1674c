// Pinned versions. Consul and Envoy are a pair from Consul's Envoy compatibility table
// ("Supported versions" in developer.hashicorp.com/consul/docs/reference/proxy/envoy):
// Consul 1.21.x CE supports Envoy 1.38.x, 1.37.x and 1.35.x.
export const CONSUL = {
  version: "1.21.4",
  image: "hashicorp/consul:1.21.4",
  /** SHA-256 of consul_1.21.4_linux_<arch>.zip (releases.hashicorp.com consul_1.21.4_SHA256SUMS). */
  sha256: {
    amd64: "a641502dc2bd28e1ed72d3d48a0e8b98c83104d827cf33bee2aed198c0b849df",
    arm64: "50a1b6467a038166684fee25b70ebe9d710e154bd5a179f3e07c655c829646ea",
  },
} as const;

export const ENVOY = {
  version: "1.35.3",
  image: "envoyproxy/envoy:v1.35.3",
} as const;
