// The consul-ecs configuration (the JSON in CONSUL_ECS_CONFIG_JSON) of consul-ecs 0.10.0, field
// by field: the table behind tools/judges/consul-ecs-config.ts. Written by hand from:
//   - github.com/hashicorp/consul-ecs, tag v0.10.0: config/schema.json (the draft-07 schema that
//     config/validate.go checks with gojsonschema before anything else runs: names, JSON types,
//     required, enums, nullability, additionalProperties), config/types.go (the Go structs the
//     JSON is then decoded into, with the defaults their UnmarshalJSON methods apply),
//     config/config.go, subcommand/mesh-init/command.go and checks.go,
//     subcommand/controller/command.go (what the binary does with the values);
//     compared with tag v0.9.4 (the 0.10.0 additions are marked `since: "0.10.0"`) and with
//     v0.5.2 / v0.6.2 (keys since removed, REMOVED_KEYS).
//   - The docs page "Consul on AWS ECS configuration reference",
//     https://developer.hashicorp.com/consul/docs/reference/ecs: stale (0.4/0.5 era). It still
//     lists consulHTTPAddr, consulCACertFile, consulLogin.extraLoginFlags and service.checks,
//     which 0.10.0's schema rejects, and omits consulServers, transparentProxy, controller and
//     networkResilienceConfig. Nothing here is taken from it except REMOVED_KEYS' "the docs
//     still list it".
//
// Strictness: the real schema sets additionalProperties: false on the top level, consulLogin,
// controller, consulServers, service, service.weights, service.networkResilienceConfig (and its
// outlierDetection), proxy.upstreams[] items, gateway (and its lanAddress/wanAddress) and
// transparentProxy (and its consulDNS): there an unknown key fails validation. It does NOT on
// consulServers.defaults/grpc/http, proxy, proxy.meshGateway, proxy.upstreams[].meshGateway,
// gateway.proxy and proxy.expose: there consul-ecs accepts an unknown key and Go's decoder drops
// it silently. Each object records which (`strict`); the judge flags unknown keys in both and
// says which kind it is.

/** The consul-ecs release this table was written for. */
export const CONSUL_ECS_REFERENCE_VERSION = "0.10.0";

/**
 * Value shapes:
 * - string, integer, boolean: JSON scalars (integer: a JSON number with no fraction; Go's
 *   encoding/json also refuses 8080.0 or 1e3 for a Go int).
 * - object: nested `fields`; array: `items`.
 * - stringMap: an object whose values are strings (the schema's patternProperties ".*": string).
 * - opaque: an object passed to Consul as it is (proxy/upstream config); not descended into.
 */
export type FieldType = "string" | "integer" | "boolean" | "object" | "array" | "stringMap" | "opaque";

export interface FieldSpec {
  readonly type: FieldType;
  /** What it does, and the default consul-ecs applies in Go when it is absent (the schema injects none). */
  readonly doc: string;
  /** The schema lists it in `required` (presence; a null value then fails the type check). */
  readonly required?: true;
  /** The schema's type includes "null" (Go then leaves the zero value or its default). */
  readonly nullable?: true;
  readonly enum?: readonly string[];
  /** Equivalent of the schema's `pattern`, anchored; `patternText` is the schema's own spelling. */
  readonly pattern?: RegExp;
  readonly patternText?: string;
  readonly minLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly uniqueItems?: true;
  readonly items?: FieldSpec;
  readonly fields?: FieldTable;
  /** Objects: the real schema sets additionalProperties: false here. */
  readonly strict?: boolean;
  /**
   * "go": the schema does not check this value (untyped, or outside `properties`), but Go's
   * encoding/json fails on a wrong type when consul-ecs decodes it. "consul": neither does;
   * the Consul server refuses the registration.
   */
  readonly checkedBy?: "go" | "consul";
  /** Go decodes it into a uint32: larger values fail to decode. */
  readonly uint32?: true;
  /** A TCP port number (1-65535), or 0 where consul-ecs reads 0 as "use the default" (`zeroIsDefault`). */
  readonly port?: true;
  readonly zeroIsDefault?: true;
  /** Added in this consul-ecs release (absent from v0.9.4's schema). */
  readonly since?: string;
  /** Consul Enterprise only. */
  readonly enterprise?: true;
}

export type FieldTable = Readonly<Record<string, FieldSpec>>;

// Service and gateway names: the schema's pattern `(^$)|(^[a-z0-9]([a-z0-9-_]*[a-z0-9])?$)`.
// Lower case because the login token's service identity must be (mesh-init constructServiceName).
const NAME_PATTERN_TEXT = "(^$)|(^[a-z0-9]([a-z0-9-_]*[a-z0-9])?$)";
const NAME_PATTERN = /^(?:[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)?$/;

const MESH_GATEWAY_MODES = ["none", "local", "remote"] as const;

/** The Consul Enterprise scope a service or gateway registers in (refused on CE). */
const ENTERPRISE_SCOPE_FIELDS = {
  namespace: { type: "string", nullable: true, enterprise: true, doc: "Consul namespace." },
  partition: { type: "string", nullable: true, enterprise: true, doc: "Consul admin partition." },
} as const satisfies FieldTable;

/** proxy.upstreams[] items (strict). */
export const UPSTREAM_FIELDS = {
  destinationType: { type: "string", nullable: true, enum: ["service", "prepared_query"], doc: "Discovery type; Consul treats empty as service." },
  destinationNamespace: { type: "string", nullable: true, enterprise: true, doc: "Namespace of the upstream service." },
  destinationPartition: { type: "string", nullable: true, enterprise: true, doc: "Admin partition of the upstream service." },
  destinationName: { type: "string", required: true, doc: "Upstream service (or prepared query) name." },
  destinationPeer: { type: "string", nullable: true, doc: "Cluster peer that holds the upstream; Consul refuses it together with datacenter." },
  datacenter: { type: "string", nullable: true, doc: "Datacenter to query." },
  localBindAddress: { type: "string", nullable: true, doc: "Listener address; Consul's default 127.0.0.1." },
  localBindPort: { type: "integer", required: true, port: true, doc: "Local listener port the app connects to." },
  config: { type: "opaque", nullable: true, doc: "Opaque per-upstream proxy config (passive_health_check, connect_timeout_ms, limits, ...), passed to Consul as is." },
  meshGateway: {
    type: "object",
    nullable: true,
    strict: false,
    doc: "Mesh gateway mode for this upstream.",
    fields: { mode: { type: "string", required: true, enum: MESH_GATEWAY_MODES, doc: "How a remote-datacenter upstream is reached." } },
  },
} as const satisfies FieldTable;

/** proxy.expose: outside proxy.properties in the schema (so never validated), decoded by Go. */
export const EXPOSE_FIELDS = {
  checks: { type: "boolean", checkedBy: "go", doc: "Expose HTTP/gRPC checks through Envoy." },
  paths: {
    type: "array",
    checkedBy: "go",
    doc: "Paths to expose through Envoy.",
    items: {
      type: "object",
      strict: false,
      checkedBy: "go",
      doc: "One exposed path.",
      fields: {
        listenerPort: { type: "integer", port: true, checkedBy: "go", doc: "Envoy listener port; Consul refuses duplicates and values outside 1-65535." },
        path: { type: "string", checkedBy: "go", doc: "HTTP path, starting with /; Consul refuses an empty one." },
        localPathPort: { type: "integer", port: true, checkedBy: "go", doc: "Port of the local service for this path." },
        protocol: { type: "string", enum: ["http", "http2"], checkedBy: "consul", doc: "Listener protocol; the schema's enum is never applied, Consul refuses other values." },
      },
    },
  },
} as const satisfies FieldTable;

/** proxy (NOT strict in the real schema). */
export const PROXY_FIELDS = {
  config: { type: "opaque", nullable: true, doc: "Opaque proxy config (proxy.config of the sidecar registration)." },
  localServiceAddress: { type: "string", nullable: true, doc: "Address Envoy uses to reach the app; Consul's default localhost." },
  publicListenerPort: { type: "integer", nullable: true, port: true, zeroIsDefault: true, doc: "Envoy public listener, the registered proxy port. Default 20000." },
  healthCheckPort: {
    type: "integer",
    nullable: true,
    port: true,
    zeroIsDefault: true,
    checkedBy: "go",
    doc: "Envoy readiness listener (dataplane envoy.readyBindPort on 127.0.0.1). Untyped in the schema; a Go int. Default 22000.",
  },
  upstreams: {
    type: "array",
    nullable: true,
    doc: "Upstreams the proxy listens for.",
    items: { type: "object", strict: true, doc: "One upstream.", fields: UPSTREAM_FIELDS },
  },
  meshGateway: {
    type: "object",
    nullable: true,
    strict: false,
    doc: "Mesh gateway mode for all upstreams.",
    fields: { mode: { type: "string", required: true, enum: MESH_GATEWAY_MODES, doc: "How remote-datacenter upstreams are reached." } },
  },
  expose: { type: "object", nullable: true, strict: false, checkedBy: "go", doc: "HTTP paths exposed through Envoy (schema bug: not validated).", fields: EXPOSE_FIELDS },
} as const satisfies FieldTable;

/** service.networkResilienceConfig.outlierDetection (strict); Go decodes the counts as uint32. */
export const OUTLIER_DETECTION_FIELDS = {
  interval: { type: "integer", minimum: 0, doc: "Passive health check interval in nanoseconds (10000000000 = 10 s). Default 10 s." },
  maxFailures: { type: "integer", minimum: 1, uint32: true, doc: "Failures before ejection. Default 5." },
  enforcingConsecutive5xx: { type: "integer", minimum: 0, maximum: 100, uint32: true, doc: "Percent chance a 5xx run ejects. 0.10.0 sets no default (0.9.4 used 100)." },
  consecutive5xx: { type: "integer", minimum: 0, uint32: true, since: "0.10.0", doc: "5xx responses in a row before ejection." },
  enforcingConsecutiveGatewayFailure: {
    type: "integer",
    minimum: 0,
    maximum: 100,
    uint32: true,
    since: "0.10.0",
    doc: "Percent chance a gateway-failure run (502/503/504) ejects. Always written: 100 when absent.",
  },
  consecutiveGatewayFailure: { type: "integer", minimum: 0, uint32: true, since: "0.10.0", doc: "Gateway failures in a row before ejection." },
  maxEjectionPercent: { type: "integer", minimum: 0, maximum: 100, uint32: true, doc: "Most hosts ejected at once, percent. Default 50." },
} as const satisfies FieldTable;

/** service (strict, required port). */
export const SERVICE_FIELDS = {
  name: { type: "string", nullable: true, pattern: NAME_PATTERN, patternText: NAME_PATTERN_TEXT, doc: "Consul service name, lower case. Default: the task family, lower-cased." },
  tags: { type: "array", nullable: true, uniqueItems: true, items: { type: "string", doc: "A tag." }, doc: "Service tags, copied to the proxy." },
  port: { type: "integer", required: true, port: true, doc: "The app's port (the proxy's LocalServicePort)." },
  enableTagOverride: { type: "boolean", nullable: true, doc: "Anti-entropy tag override. Default false." },
  meta: { type: "stringMap", nullable: true, doc: "Service meta, merged with task-id, task-arn and source=consul-ecs." },
  weights: {
    type: "object",
    nullable: true,
    strict: true,
    doc: "DNS SRV weights.",
    fields: {
      passing: { type: "integer", required: true, doc: "Weight while passing." },
      warning: { type: "integer", required: true, doc: "Weight while warning." },
    },
  },
  ...ENTERPRISE_SCOPE_FIELDS,
  networkResilienceConfig: {
    type: "object",
    nullable: true,
    strict: true,
    doc: "When enabled, mesh-init writes service-defaults UpstreamConfig.Defaults.PassiveHealthCheck (only if none exists).",
    fields: {
      enabled: { type: "boolean", doc: "Turn it on (not nullable)." },
      outlierDetection: { type: "object", nullable: true, strict: true, doc: "The PassiveHealthCheck values.", fields: OUTLIER_DETECTION_FIELDS },
    },
  },
} as const satisfies FieldTable;

/** consulServers.defaults / grpc / http share these TLS fields (none of the three is strict). */
const TLS_FIELDS = {
  caCertFile: { type: "string", nullable: true, doc: "CA file; the CONSUL_GRPC_CACERT_PEM / CONSUL_HTTPS_CACERT_PEM variables take precedence." },
  tls: { type: "boolean", nullable: true, doc: "TLS on. defaults.tls: true when absent; grpc/http.tls override it." },
  tlsServerName: { type: "string", nullable: true, doc: "SNI / name verified in the server certificate." },
} as const satisfies FieldTable;

export const CONSUL_SERVERS_FIELDS = {
  hosts: { type: "string", required: true, doc: "An IP, a DNS name, or exec=<command> printing IPs (go-netaddrs; the image ships discover)." },
  defaults: { type: "object", nullable: true, strict: false, doc: "TLS defaults for gRPC and HTTP. Absent object: {tls: true}.", fields: TLS_FIELDS },
  http: {
    type: "object",
    nullable: true,
    strict: false,
    doc: "HTTP API settings. Absent object: {port: 8501, https: true}.",
    fields: {
      ...TLS_FIELDS,
      https: { type: "boolean", nullable: true, doc: "Use HTTPS. Default true." },
      port: { type: "integer", nullable: true, port: true, doc: "HTTP(S) port. Default 8501." },
    },
  },
  grpc: {
    type: "object",
    nullable: true,
    strict: false,
    doc: "gRPC settings (also given to the dataplane). Absent object: {port: 8503}.",
    fields: { ...TLS_FIELDS, port: { type: "integer", nullable: true, port: true, doc: "gRPC port. Default 8503." } },
  },
  skipServerWatch: { type: "boolean", nullable: true, doc: "Do not watch the server set (servers behind a load balancer). Default false." },
} as const satisfies FieldTable;

export const CONSUL_LOGIN_FIELDS = {
  enabled: { type: "boolean", nullable: true, doc: "Log in with the AWS IAM auth method. Default false." },
  method: { type: "string", nullable: true, doc: "Auth method name. Default iam-ecs-service-token." },
  datacenter: { type: "string", nullable: true, doc: "Datacenter to log in to." },
  includeEntity: { type: "boolean", nullable: true, doc: "Sign iam:GetRole too (needs EnableIAMEntityDetails on the method). Default true." },
  meta: { type: "stringMap", nullable: true, doc: "Token meta; task-id and cluster are always added." },
  region: { type: "string", nullable: true, doc: "Signing region. Default: the task's region." },
  stsEndpoint: { type: "string", nullable: true, doc: "STS endpoint; must equal the method's STSEndpoint." },
  serverIdHeaderValue: { type: "string", nullable: true, doc: "X-Consul-IAM-ServerID value; must equal the method's ServerIDHeaderValue." },
} as const satisfies FieldTable;

const GATEWAY_ADDRESS_FIELDS = {
  address: { type: "string", nullable: true, doc: "Address. Default: the task IP." },
  port: { type: "integer", nullable: true, port: true, zeroIsDefault: true, doc: "Port. Default 8443." },
} as const satisfies FieldTable;

export const GATEWAY_FIELDS = {
  kind: { type: "string", required: true, enum: ["mesh-gateway", "terminating-gateway", "api-gateway"], doc: "Gateway kind; a non-empty kind makes the task a gateway." },
  lanAddress: { type: "object", nullable: true, strict: true, doc: "LAN address (mesh gateways).", fields: GATEWAY_ADDRESS_FIELDS },
  wanAddress: { type: "object", nullable: true, strict: true, doc: "WAN address (mesh gateways).", fields: GATEWAY_ADDRESS_FIELDS },
  name: { type: "string", nullable: true, pattern: NAME_PATTERN, patternText: NAME_PATTERN_TEXT, doc: "Gateway service name. Default: the task family, lower-cased." },
  tags: { type: "array", nullable: true, uniqueItems: true, items: { type: "string", doc: "A tag." }, doc: "Gateway tags." },
  meta: { type: "stringMap", nullable: true, doc: "Gateway meta." },
  ...ENTERPRISE_SCOPE_FIELDS,
  healthCheckPort: {
    type: "integer",
    nullable: true,
    port: true,
    zeroIsDefault: true,
    checkedBy: "go",
    doc: "Envoy readiness port. Untyped in the schema; a Go int. Default 22000.",
  },
  proxy: {
    type: "object",
    nullable: true,
    strict: false,
    doc: "Gateway proxy parameters.",
    fields: { config: { type: "opaque", nullable: true, doc: "Opaque gateway proxy config." } },
  },
} as const satisfies FieldTable;

export const TRANSPARENT_PROXY_FIELDS = {
  enabled: { type: "boolean", nullable: true, doc: "Transparent proxy (iptables; EC2 only). Default true, also when the whole object is absent." },
  excludeInboundPorts: { type: "array", nullable: true, uniqueItems: true, items: { type: "integer", port: true, doc: "A port." }, doc: "Inbound ports not redirected." },
  excludeOutboundPorts: { type: "array", nullable: true, uniqueItems: true, items: { type: "integer", port: true, doc: "A port." }, doc: "Outbound ports not redirected." },
  excludeOutboundCIDRs: { type: "array", nullable: true, uniqueItems: true, items: { type: "string", doc: "A CIDR." }, doc: "Outbound CIDRs not redirected." },
  excludeUIDs: { type: "array", nullable: true, uniqueItems: true, items: { type: "string", doc: "A UID." }, doc: "UIDs whose traffic is not redirected." },
  consulDNS: {
    type: "object",
    strict: true,
    doc: "Consul DNS in the task (not nullable).",
    fields: { enabled: { type: "boolean", nullable: true, doc: "Dataplane DNS on 127.0.0.1:8600; needs transparent proxy. Default false." } },
  },
} as const satisfies FieldTable;

export const CONTROLLER_FIELDS = {
  iamRolePath: { type: "string", nullable: true, doc: "IAM role path the auth method trusts. Default /consul-ecs/ (also when empty)." },
  partitionsEnabled: { type: "boolean", nullable: true, enterprise: true, doc: "Partitions and namespaces." },
  partition: { type: "string", nullable: true, enterprise: true, doc: "Controller partition; refused without partitionsEnabled." },
} as const satisfies FieldTable;

/** The top level (strict; required bootstrapDir and consulServers). */
export const CONSUL_ECS_CONFIG_FIELDS = {
  logLevel: { type: "string", nullable: true, enum: ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"], doc: "Log level of consul-ecs (and the dataplane's). Default INFO." },
  bootstrapDir: { type: "string", required: true, minLength: 1, doc: "Shared volume where mesh-init writes consul-dataplane.json, the consul-ecs binary and the gRPC CA." },
  consulLogin: { type: "object", nullable: true, strict: true, doc: "AWS IAM auth method login.", fields: CONSUL_LOGIN_FIELDS },
  controller: { type: "object", nullable: true, strict: true, doc: "consul-ecs controller settings.", fields: CONTROLLER_FIELDS },
  consulServers: { type: "object", required: true, strict: true, doc: "How to find and reach the Consul servers.", fields: CONSUL_SERVERS_FIELDS },
  healthSyncContainers: {
    type: "array",
    nullable: true,
    uniqueItems: true,
    items: { type: "string", doc: "A container name." },
    doc: "Containers whose ECS health is synced into Consul checks (consul-dataplane is always added).",
  },
  service: { type: "object", strict: true, doc: "Service registration (needed for a non-gateway task).", fields: SERVICE_FIELDS },
  proxy: { type: "object", nullable: true, strict: false, doc: "Sidecar proxy registration (needed for a non-gateway task).", fields: PROXY_FIELDS },
  gateway: { type: "object", strict: true, doc: "Gateway registration; a non-empty kind makes the task a gateway.", fields: GATEWAY_FIELDS },
  transparentProxy: { type: "object", nullable: true, strict: true, doc: "Transparent proxy; absent means enabled.", fields: TRANSPARENT_PROXY_FIELDS },
} as const satisfies FieldTable;

/** Keys an older consul-ecs (and the stale docs page) had and 0.10.0's schema rejects; keyed by path (arrays as []). */
export const REMOVED_KEYS: Readonly<Record<string, { readonly lastIn: string; readonly instead: string }>> = {
  consulHTTPAddr: { lastIn: "0.6.2", instead: "consulServers.hosts with consulServers.http (port, https)" },
  consulCACertFile: { lastIn: "0.6.2", instead: "consulServers.defaults.caCertFile, or the CONSUL_GRPC_CACERT_PEM / CONSUL_HTTPS_CACERT_PEM environment variables" },
  "service.checks": { lastIn: "0.6.2", instead: "ECS container health checks, synced into Consul by healthSyncContainers" },
  "consulLogin.extraLoginFlags": { lastIn: "0.5.2", instead: "the consulLogin fields (method, datacenter, region, stsEndpoint, serverIdHeaderValue, meta)" },
};

// ---------------------------------------------------------------------------------------------
// Types derived from the table, for a template context that must match it.

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type NullIf<S> = S extends { readonly nullable: true } ? null : never;

/** The TypeScript value of one field of the table. */
export type FieldValue<S> = S extends { readonly type: "string"; readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: "string" }
    ? string
    : S extends { readonly type: "integer" }
      ? number
      : S extends { readonly type: "boolean" }
        ? boolean
        : S extends { readonly type: "stringMap" }
          ? Readonly<Record<string, string>>
          : S extends { readonly type: "opaque" }
            ? Readonly<Record<string, unknown>>
            : S extends { readonly type: "array"; readonly items: infer I }
              ? readonly FieldValue<I>[]
              : S extends { readonly type: "object"; readonly fields: infer F }
                ? TableValue<F>
                : never;

/** The TypeScript object of a table: required fields required, the rest optional (null where the schema allows it). */
export type TableValue<F> = Simplify<
  { readonly [K in keyof F as F[K] extends { readonly required: true } ? K : never]: FieldValue<F[K]> } & {
    readonly [K in keyof F as F[K] extends { readonly required: true } ? never : K]?: FieldValue<F[K]> | NullIf<F[K]>;
  }
>;

/** A CONSUL_ECS_CONFIG_JSON document of consul-ecs 0.10.0, as the schema accepts it. */
export type ConsulEcsConfig = TableValue<typeof CONSUL_ECS_CONFIG_FIELDS>;

/** Counts the fields of a table, nested ones included (a shared sub-table counts at each place). */
export function countFields(table: FieldTable = CONSUL_ECS_CONFIG_FIELDS): number {
  let count = 0;
  for (const spec of Object.values(table)) {
    count += 1;
    const nested = spec.fields ?? spec.items?.fields;
    if (nested) count += countFields(nested);
  }
  return count;
}
