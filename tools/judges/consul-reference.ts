// The keys a Consul 2.0.1 (CE) agent accepts in an HCL/JSON configuration file, with their
// value types: the table behind tools/judges/consul-config.ts. Written by hand from:
//   - hashicorp/consul agent/config/config.go at ff87ecfd7b92, a main-branch commit of late
//     January 2026 on the way to 2.0 (it has the certificate telemetry of hashicorp/consul#23160
//     and #23176, not yet the HTTP timeouts of #22739). The code index held no v2.0.x tag and no
//     release/2.0.x commit of config.go, so nothing merged after that commit is read from source.
//     The `Config` struct and its nested structs (`mapstructure` tags are the accepted keys;
//     ServiceDefinition, CheckDefinition, ServiceConnect, ServiceProxy, Upstream for services).
//   - agent/config/deprecated.go 090b1af9ec70 (keys accepted with a deprecation warning),
//     builder.go 7178431a612a (md.Unused: acl_enforce_version_8 and audit.sink[].name only warn;
//     the tls stanza rules; ports.grpc_tls defaults to 8503 on servers) and builder_ce.go
//     0eca52e49cde (Enterprise keys CE ignores with a warning): the newest versions the index
//     returned, of unknown date; the 2.0.x docs below agree with them.
//   - hashicorp/web-unified-docs content/consul/v2.0.x/content/docs (the 2.0.x pages of
//     developer.hashicorp.com/consul/docs): reference/agent/configuration-file/general.mdx
//     @3f637df4, telemetry.mdx @d67a7952, tls.mdx @f2ed9ebf, raft.mdx @d0fb91af, dns.mdx
//     @1f2f426c, join.mdx @1f2f426c, encryption.mdx @4a006c1d, ui.mdx @9bb07b9a, gossip.mdx
//     @9bb07b9a, log.mdx @79d2982a, node.mdx @f64e60c1, address.mdx @7e81f023, bootstrap.mdx
//     @cdc068c2, index.mdx @7e81f023; reference/service/index.mdx @a635c73d and
//     service/health-check.mdx @f70ca5da; reference/proxy/connect-proxy.mdx @69c81e6a,
//     sidecar.mdx @1f2f426c, envoy.mdx @3f637df4; upgrade/version-specific.mdx @57e96e10 and
//     upgrade/instructions/upgrade-to-2-0-x.mdx @63e860bd ("no configuration changes are
//     required"); release-notes/consul/v2_0_x.mdx @6ac43679 and v1_22_x.mdx @bf177064;
//     monitor/telemetry/index.mdx @04c52511.
//   - Not verifiable here: the 2.0.x acl, service-mesh, serf, xds and hcp configuration pages
//     (absent from the index), so acl, connect, xds, cloud and the serf keys come from config.go
//     alone; and whether anything changed in config.go between ff87ecfd and the v2.0.1 tag.
// Keys newer than ff87ecfd, from the docs and the merged pull requests:
//   http_config.{read_timeout, read_header_timeout, write_timeout, idle_timeout}
//   (hashicorp/consul#22739, backported to 1.22.4 as #23182; 2.0 raised the read/write
//   defaults from 30s to 15m, #23267, also backported to release/1.22.x as #23272; general.mdx
//   still says 30s), and the Enterprise-only multi-port keys proxy.local_service_ports and
//   upstream destination_port (version-specific.mdx). #23449 ("port enterprise feature Multiport
//   for mesh to CE", merged 2026-04-09) may make CE parse them in a later 2.0.x: unverified.
// Differences from the 1.22.7 table this replaces:
//   - New in 2.0 (a 1.22 agent rejects them): telemetry.certificate (certificate expiry
//     telemetry, #23147/#23160), proxy.local_service_ports and upstream destination_port
//     (Enterprise).
//   - Missing from the 1.22.7 table, whose config.go (bf11280c) carries log_sublevels and so came
//     from the branch of the unmerged #16665, not from a release: default_intention_policy
//     (#20544, 1.18), the service `ports` list (multi-port service discovery, 1.22.0 release
//     notes), the http_config timeouts (1.22.4 and later), and experiments,
//     raft_prevote_disabled, connect.virtual_ip_cidr_v4/v6 and audit.rpc_enabled (in config.go
//     at ff87ecfd with no 2.0 release note; that 1.22.7 has them too is presumed, not checked).
//   - Removed: log_sublevels, which no Consul release accepts (#16665 was closed unmerged).
//   - No key 1.22.7 accepts is removed or newly deprecated by 2.0 in the sources read.
// Doc slips the table does not follow: general.mdx lists enable_xds_load_balancing at the top level
// (it is performance.enable_xds_load_balancing: #22299, #22472); tls.mdx lists and sets
// verify_server_hostname under tls.defaults, which builder.go refuses outside tls.internal_rpc;
// monitor/telemetry presents reporting.license.enabled as the 2.0 opt-in for product telemetry,
// but general.mdx marks `reporting` Enterprise and builder_ce.go warns it has no effect in CE.

/** The Consul release this table was written for (lib/versions.ts is to pin the same). */
export const CONSUL_REFERENCE_VERSION = "2.0.1";

import type { ScalarType } from "./consul-value-types";

/**
 * Value shapes, as Consul decodes them (mapstructure without weak typing: a string is not an int).
 * - duration: a string Go's time.ParseDuration accepts ("10s", "1h30m", "0").
 * - stringMap / durationMap / stringListMap: maps with string, duration or list-of-string values.
 * - opaque: free-form (proxy config, CA config, watches); not descended into.
 * - block: one nested object; blockList: a list of them; blockMap: objects keyed by a user name.
 */
export type ValueType = Exclude<ScalarType, "intList"> | "stringMap" | "durationMap" | "stringListMap" | "opaque" | "opaqueList" | "block" | "blockList" | "blockMap";

export interface KeySpec {
  readonly type: ValueType;
  /** The nested table of a block, blockList or blockMap. */
  readonly keys?: KeyTable;
  /** Accepted with a deprecation warning: the modern path to use, or "" when the key should just be removed. */
  readonly deprecated?: string;
  /** Consul Enterprise only: the CE image ignores it with a warning, or rejects it. */
  readonly enterprise?: true;
  /** Not user-configurable: Consul's own defaults overwrite it. */
  readonly internal?: true;
  /** Parsed, but Consul refuses it at this place: the reason. */
  readonly rejected?: string;
  /** Consul refuses the block without it. */
  readonly required?: true;
}

export type KeyTable = Readonly<Record<string, KeySpec>>;

const str: KeySpec = { type: "string" };
const int: KeySpec = { type: "int" };
const float: KeySpec = { type: "number" };
const bool: KeySpec = { type: "bool" };
const dur: KeySpec = { type: "duration" };
const strList: KeySpec = { type: "stringList" };
const strMap: KeySpec = { type: "stringMap" };
const opaque: KeySpec = { type: "opaque" };

const block = (keys: KeyTable): KeySpec => ({ type: "block", keys });
const blocks = (keys: KeyTable): KeySpec => ({ type: "blockList", keys });
const blockMap = (keys: KeyTable): KeySpec => ({ type: "blockMap", keys });
const deprecated = (spec: KeySpec, use: string): KeySpec => ({ ...spec, deprecated: use });
const enterprise = (spec: KeySpec): KeySpec => ({ ...spec, enterprise: true });
const internal = (spec: KeySpec): KeySpec => ({ ...spec, internal: true });
const rejected = (spec: KeySpec, reason: string): KeySpec => ({ ...spec, rejected: reason });
const required = (spec: KeySpec): KeySpec => ({ ...spec, required: true });

// ---------------------------------------------------------------------------------------------
// Service definitions (config.go ServiceDefinition and friends)
// ---------------------------------------------------------------------------------------------

/** CheckDefinition; the `alias` tags of the struct are accepted spellings Consul translates. */
const CHECK: KeyTable = {
  id: str,
  name: str,
  notes: str,
  service_id: str,
  serviceid: deprecated(str, "service_id"),
  token: str,
  status: str,
  args: strList,
  scriptargs: deprecated(strList, "args"),
  http: str,
  header: { type: "stringListMap" },
  method: str,
  body: str,
  disable_redirects: bool,
  output_max_size: int,
  tcp: str,
  tcp_use_tls: bool,
  udp: str,
  interval: dur,
  docker_container_id: str,
  dockercontainerid: deprecated(str, "docker_container_id"),
  shell: str,
  grpc: str,
  grpc_use_tls: bool,
  tls_server_name: str,
  tls_skip_verify: bool,
  tlsskipverify: deprecated(bool, "tls_skip_verify"),
  alias_node: str,
  alias_service: str,
  timeout: dur,
  ttl: dur,
  h2ping: str,
  h2ping_use_tls: bool,
  os_service: str,
  success_before_passing: int,
  failures_before_warning: int,
  failures_before_critical: int,
  deregister_critical_service_after: dur,
  deregistercriticalserviceafter: deprecated(dur, "deregister_critical_service_after"),
  // EnterpriseMeta is an empty struct in CE: these are "invalid config key" there.
  namespace: enterprise(str),
  partition: enterprise(str),
};

const MESH_GATEWAY: KeyTable = { mode: str };

const UPSTREAM: KeyTable = {
  destination_type: str,
  destination_namespace: enterprise(str),
  destination_partition: enterprise(str),
  destination_peer: str,
  destination_name: required(str),
  // Multi-port routing is Enterprise-only in 2.0 (version-specific.mdx). connect-proxy.mdx types it
  // as the name of the port; the multiport.mdx draft shows numbers.
  destination_port: enterprise(str),
  datacenter: str,
  local_bind_address: str,
  local_bind_port: int,
  local_bind_socket_path: str,
  local_bind_socket_mode: str,
  config: opaque,
  mesh_gateway: block(MESH_GATEWAY),
};

const EXPOSE: KeyTable = {
  checks: bool,
  port: int,
  paths: blocks({ listener_port: int, path: str, protocol: str, local_path_port: int }),
};

const PROXY: KeyTable = {
  destination_service_name: str,
  destination_service_id: str,
  local_service_address: str,
  local_service_port: int,
  local_service_socket_path: str,
  // Enterprise-only in 2.0 (version-specific.mdx); no page documents its shape, so not descended into.
  local_service_ports: enterprise(opaque),
  transparent_proxy: block({ outbound_listener_port: int, dialed_directly: bool }),
  mode: str,
  config: opaque,
  upstreams: blocks(UPSTREAM),
  mesh_gateway: block(MESH_GATEWAY),
  expose: block(EXPOSE),
};

/** The keys every service definition (top-level or sidecar) shares. */
const SERVICE_COMMON: KeyTable = {
  name: str,
  tags: strList,
  address: str,
  tagged_addresses: blockMap({ address: str, port: int }),
  meta: strMap,
  port: int,
  // Multi-port service discovery (1.22.0); service/index.mdx forbids port and ports together.
  ports: blocks({ name: str, port: int, default: bool }),
  socket_path: str,
  check: block(CHECK),
  checks: blocks(CHECK),
  token: str,
  weights: block({ passing: int, warning: int }),
  enable_tag_override: bool,
  proxy: block(PROXY),
  locality: enterprise(block({ region: str, zone: str })),
  namespace: enterprise(str),
  partition: enterprise(str),
};

/** connect.sidecar_service: a nested service definition minus what the sidecar reference's "Limitations" forbid. */
const SIDECAR_SERVICE: KeyTable = {
  ...SERVICE_COMMON,
  id: rejected(str, "the sidecar's ID is assigned by Consul (<service-id>-sidecar-proxy) and cannot be overridden"),
  kind: rejected(str, "a sidecar's kind is always connect-proxy"),
  connect: rejected(opaque, "service definitions cannot be nested recursively, and a sidecar cannot be Connect-native"),
};

export const SERVICE_DEFINITION: KeyTable = {
  ...SERVICE_COMMON,
  name: required(str),
  kind: str,
  id: str,
  connect: block({ native: bool, sidecar_service: block(SIDECAR_SERVICE) }),
};

// ---------------------------------------------------------------------------------------------
// Agent configuration (config.go Config, deprecated.go DeprecatedConfig)
// ---------------------------------------------------------------------------------------------

/**
 * One tls stanza (TLSProtocolConfig). The builder refuses verify_server_hostname outside
 * internal_rpc, use_auto_cert outside grpc, and verify_outgoing in grpc.
 */
function tlsStanza(name: "defaults" | "internal_rpc" | "https" | "grpc"): KeyTable {
  const serverHostname = "verify_server_hostname is only valid in tls.internal_rpc (Consul's builder refuses it elsewhere)";
  const autoCert = "use_auto_cert is only valid in tls.grpc";
  return {
    ca_file: str,
    ca_path: str,
    cert_file: str,
    key_file: str,
    tls_min_version: str,
    tls_cipher_suites: str,
    verify_incoming: bool,
    verify_outgoing: name === "grpc" ? rejected(bool, "Consul makes no outgoing connections on the gRPC port: verify_outgoing is not valid in tls.grpc") : bool,
    verify_server_hostname: name === "internal_rpc" ? bool : rejected(bool, serverHostname),
    use_auto_cert: name === "grpc" ? bool : rejected(bool, autoCert),
  };
}

const ACL_TOKENS: KeyTable = {
  initial_management: str,
  replication: str,
  agent_recovery: str,
  default: str,
  agent: str,
  config_file_service_registration: str,
  dns: str,
  managed_service_provider: enterprise(blocks({ accessor_id: str, secret_id: str })),
  master: deprecated(str, "acl.tokens.initial_management"),
  agent_master: deprecated(str, "acl.tokens.agent_recovery"),
};

const ACL: KeyTable = {
  enabled: bool,
  enable_token_replication: bool,
  policy_ttl: dur,
  role_ttl: dur,
  token_ttl: dur,
  down_policy: str,
  default_policy: str,
  enable_key_list_policy: bool,
  tokens: block(ACL_TOKENS),
  enable_token_persistence: bool,
  msp_disable_bootstrap: enterprise(bool),
};

const GOSSIP: KeyTable = {
  gossip_nodes: int,
  gossip_interval: dur,
  probe_interval: dur,
  probe_timeout: dur,
  suspicion_mult: int,
  retransmit_mult: int,
};

const AUTO_CONFIG: KeyTable = {
  enabled: bool,
  intro_token: str,
  intro_token_file: str,
  server_addresses: strList,
  dns_sans: strList,
  ip_sans: strList,
  authorization: block({
    enabled: bool,
    static: block({
      claim_assertions: strList,
      allow_reuse: bool,
      jwt_supported_algs: strList,
      bound_audiences: strList,
      claim_mappings: strMap,
      list_claim_mappings: strMap,
      oidc_discovery_url: str,
      oidc_discovery_ca_cert: str,
      jwks_url: str,
      jwks_ca_cert: str,
      jwt_validation_pub_keys: strList,
      bound_issuer: str,
      expiration_leeway: dur,
      not_before_leeway: dur,
      clock_skew_leeway: dur,
    }),
  }),
};

const DNS_CONFIG: KeyTable = {
  allow_stale: bool,
  a_record_limit: int,
  disable_compression: bool,
  enable_truncate: bool,
  max_stale: dur,
  node_ttl: dur,
  only_passing: bool,
  recursor_strategy: str,
  recursor_timeout: dur,
  service_ttl: { type: "durationMap" },
  udp_answer_limit: deprecated(int, "dns_config.a_record_limit"),
  enable_additional_node_meta_txt: bool,
  soa: block({ refresh: int, retry: int, expire: int, min_ttl: int }),
  use_cache: bool,
  cache_max_age: dur,
  prefer_namespace: enterprise(bool),
};

const TELEMETRY: KeyTable = {
  circonus_api_app: str,
  circonus_api_token: str,
  circonus_api_url: str,
  circonus_broker_id: str,
  circonus_broker_select_tag: str,
  circonus_check_display_name: str,
  circonus_check_force_metric_activation: str,
  circonus_check_id: str,
  circonus_check_instance_id: str,
  circonus_check_search_tag: str,
  circonus_check_tags: str,
  circonus_submission_interval: str,
  circonus_submission_url: str,
  disable_hostname: bool,
  disable_per_tenancy_usage_metrics: bool,
  dogstatsd_addr: str,
  dogstatsd_tags: strList,
  enable_host_metrics: bool,
  retry_failed_connection: bool,
  filter_default: bool,
  prefix_filter: strList,
  metrics_prefix: str,
  prometheus_retention_time: dur,
  statsd_address: str,
  statsite_address: str,
  // Certificate expiry telemetry, new in 2.0 (telemetry.mdx "Certificate expiration").
  certificate: block({
    enabled: bool,
    cache_duration: dur,
    critical_threshold_days: int,
    warning_threshold_days: int,
    info_threshold_days: int,
    exclude_auto_renewable: bool,
  }),
};

const PORTS: KeyTable = {
  dns: int,
  http: int,
  https: int,
  serf_lan: int,
  serf_wan: int,
  server: int,
  grpc: int,
  grpc_tls: int,
  proxy_min_port: int,
  proxy_max_port: int,
  sidecar_min_port: int,
  sidecar_max_port: int,
  expose_min_port: int,
  expose_max_port: int,
};

const LIMITS: KeyTable = {
  http_max_conns_per_client: int,
  https_handshake_timeout: dur,
  request_limits: block({ mode: str, read_rate: float, write_rate: float }),
  rpc_client_timeout: dur,
  rpc_handshake_timeout: dur,
  rpc_max_burst: int,
  rpc_max_conns_per_client: int,
  rpc_rate: float,
  kv_max_value_size: int,
  txn_max_req_len: int,
};

const UI_CONFIG: KeyTable = {
  enabled: bool,
  dir: str,
  content_path: str,
  metrics_provider: str,
  metrics_provider_files: strList,
  metrics_provider_options_json: str,
  metrics_proxy: block({
    base_url: str,
    add_headers: blocks({ name: str, value: str }),
    path_allowlist: strList,
  }),
  dashboard_url_templates: strMap,
};

const AUDIT_SINK: KeyTable = {
  type: str,
  format: str,
  path: str,
  delivery_guarantee: str,
  mode: str,
  rotate_bytes: int,
  rotate_duration: dur,
  rotate_max_files: int,
  name: deprecated(str, ""),
};

const TLS_KEY = (stanza: string, key: string) => `tls.${stanza}.${key}`;

export const AGENT_CONFIG: KeyTable = {
  acl: block(ACL),
  addresses: block({ dns: str, http: str, https: str, grpc: str, grpc_tls: str }),
  advertise_addr: str,
  advertise_addr_ipv4: str,
  advertise_addr_ipv6: str,
  advertise_addr_wan: str,
  advertise_addr_wan_ipv4: str,
  advertise_addr_wan_ipv6: str,
  advertise_reconnect_timeout: dur,
  alt_domain: str,
  auto_config: block(AUTO_CONFIG),
  auto_encrypt: block({ tls: bool, dns_san: strList, ip_san: strList, allow_tls: bool }),
  auto_reload_config: bool,
  autopilot: block({
    cleanup_dead_servers: bool,
    last_contact_threshold: dur,
    max_trailing_logs: int,
    min_quorum: int,
    server_stabilization_time: dur,
    disable_upgrade_migration: enterprise(bool),
    redundancy_zone_tag: enterprise(str),
    upgrade_version_tag: enterprise(str),
  }),
  bind_addr: str,
  bootstrap: bool,
  bootstrap_expect: int,
  cache: block({ entry_fetch_max_burst: int, entry_fetch_rate: float }),
  check: block(CHECK),
  check_output_max_size: int,
  check_update_interval: dur,
  checks: blocks(CHECK),
  client_addr: str,
  cloud: block({ resource_id: str, client_id: str, client_secret: str, hostname: str, auth_url: str, scada_address: str }),
  config_entries: block({ bootstrap: { type: "opaqueList" } }),
  connect: block({
    enabled: bool,
    ca_provider: str,
    ca_config: opaque,
    enable_mesh_gateway_wan_federation: bool,
    virtual_ip_cidr_v4: str,
    virtual_ip_cidr_v6: str,
    test_ca_leaf_root_change_spread: internal(dur),
  }),
  data_dir: str,
  datacenter: str,
  default_query_time: dur,
  default_intention_policy: str,
  disable_anonymous_signature: bool,
  disable_coordinates: bool,
  disable_host_node_id: bool,
  disable_http_unprintable_char_filter: bool,
  disable_keyring_file: bool,
  disable_kv_key_validation: bool,
  disable_remote_exec: bool,
  disable_update_check: bool,
  discard_check_output: bool,
  discovery_max_stale: dur,
  dns_config: block(DNS_CONFIG),
  domain: str,
  enable_agent_tls_for_checks: bool,
  enable_central_service_config: bool,
  enable_debug: bool,
  enable_local_script_checks: bool,
  enable_script_checks: bool,
  enable_syslog: bool,
  encrypt: str,
  encrypt_verify_incoming: bool,
  encrypt_verify_outgoing: bool,
  experiments: strList,
  gossip_lan: block(GOSSIP),
  gossip_wan: block(GOSSIP),
  http_config: block({
    block_endpoints: strList,
    allow_write_http_from: strList,
    response_headers: strMap,
    use_cache: bool,
    max_header_bytes: int,
    // 1.22.4 and later; 2.0 defaults read/write to 15m (was 30s), header 10s, idle 120s.
    read_timeout: dur,
    read_header_timeout: dur,
    write_timeout: dur,
    idle_timeout: dur,
  }),
  leave_on_terminate: bool,
  limits: block(LIMITS),
  log_file: str,
  log_json: bool,
  log_level: str,
  log_rotate_bytes: int,
  log_rotate_duration: dur,
  log_rotate_max_files: int,
  max_query_time: dur,
  node_id: str,
  node_meta: strMap,
  node_name: str,
  peering: block({ enabled: bool, test_allow_peer_registrations: internal(bool) }),
  performance: block({
    leave_drain_time: dur,
    raft_multiplier: int,
    rpc_hold_timeout: dur,
    grpc_keepalive_interval: dur,
    grpc_keepalive_timeout: dur,
    enable_xds_load_balancing: bool,
  }),
  pid_file: str,
  ports: block(PORTS),
  primary_datacenter: str,
  primary_gateways: strList,
  primary_gateways_interval: dur,
  protocol: int,
  raft_logstore: block({
    backend: str,
    disable_log_cache: bool,
    verification: block({ enabled: bool, interval: dur }),
    boltdb: block({ no_freelist_sync: bool }),
    wal: block({ segment_size_mb: int }),
  }),
  raft_prevote_disabled: bool,
  raft_protocol: int,
  raft_snapshot_interval: dur,
  raft_snapshot_threshold: int,
  raft_trailing_logs: int,
  reconnect_timeout: dur,
  reconnect_timeout_wan: dur,
  recursors: strList,
  rejoin_after_leave: bool,
  retry_interval: dur,
  retry_interval_wan: dur,
  retry_join: strList,
  retry_join_wan: strList,
  retry_max: int,
  retry_max_wan: int,
  rpc: block({ enable_streaming: bool }),
  serf_lan: str,
  serf_lan_allowed_cidrs: strList,
  serf_wan: str,
  serf_wan_allowed_cidrs: strList,
  server: bool,
  server_name: str,
  server_rejoin_age_max: dur,
  service: block(SERVICE_DEFINITION),
  services: blocks(SERVICE_DEFINITION),
  session_ttl_min: dur,
  skip_leave_on_interrupt: bool,
  snapshot_agent: opaque,
  syslog_facility: str,
  tagged_addresses: strMap,
  telemetry: block(TELEMETRY),
  tls: block({
    defaults: block(tlsStanza("defaults")),
    internal_rpc: block(tlsStanza("internal_rpc")),
    https: block(tlsStanza("https")),
    grpc: block(tlsStanza("grpc")),
  }),
  translate_wan_addrs: bool,
  ui_config: block(UI_CONFIG),
  unix_sockets: block({ group: str, mode: str, user: str }),
  use_streaming_backend: bool,
  watches: { type: "opaqueList" },
  xds: block({ update_max_per_second: float }),

  // Deprecated: Consul maps them onto the modern key and logs a warning (unchanged in 2.0).
  acl_agent_master_token: deprecated(str, "acl.tokens.agent_recovery"),
  acl_agent_token: deprecated(str, "acl.tokens.agent"),
  acl_datacenter: deprecated(str, "primary_datacenter"),
  acl_default_policy: deprecated(str, "acl.default_policy"),
  acl_down_policy: deprecated(str, "acl.down_policy"),
  acl_enable_key_list_policy: deprecated(bool, "acl.enable_key_list_policy"),
  acl_enforce_version_8: deprecated(bool, ""),
  acl_master_token: deprecated(str, "acl.tokens.initial_management"),
  acl_replication_token: deprecated(str, "acl.tokens.replication"),
  acl_token: deprecated(str, "acl.tokens.default"),
  acl_ttl: deprecated(dur, "acl.token_ttl"),
  enable_acl_replication: deprecated(bool, "acl.enable_token_replication"),
  ca_file: deprecated(str, TLS_KEY("defaults", "ca_file")),
  ca_path: deprecated(str, TLS_KEY("defaults", "ca_path")),
  cert_file: deprecated(str, TLS_KEY("defaults", "cert_file")),
  key_file: deprecated(str, TLS_KEY("defaults", "key_file")),
  tls_cipher_suites: deprecated(str, TLS_KEY("defaults", "tls_cipher_suites")),
  tls_min_version: deprecated(str, TLS_KEY("defaults", "tls_min_version")),
  tls_prefer_server_cipher_suites: deprecated(bool, ""),
  verify_incoming: deprecated(bool, TLS_KEY("defaults", "verify_incoming")),
  verify_incoming_https: deprecated(bool, TLS_KEY("https", "verify_incoming")),
  verify_incoming_rpc: deprecated(bool, TLS_KEY("internal_rpc", "verify_incoming")),
  verify_outgoing: deprecated(bool, TLS_KEY("defaults", "verify_outgoing")),
  verify_server_hostname: deprecated(bool, TLS_KEY("internal_rpc", "verify_server_hostname")),
  start_join: deprecated(strList, "retry_join"),
  start_join_wan: deprecated(strList, "retry_join_wan"),
  raft_boltdb: deprecated(opaque, "raft_logstore.boltdb"),
  ui: deprecated(bool, "ui_config.enabled"),
  ui_dir: deprecated(str, "ui_config.dir"),
  ui_content_path: deprecated(str, "ui_config.content_path"),

  // Enterprise only (builder_ce.go validateEnterpriseConfigKeys: "will have no effect").
  audit: enterprise(block({ enabled: bool, sink: blockMap(AUDIT_SINK), rpc_enabled: bool })),
  license_path: enterprise(str),
  locality: enterprise(block({ region: str, zone: str })),
  non_voting_server: enterprise(deprecated(bool, "read_replica")),
  partition: enterprise(str),
  read_replica: enterprise(bool),
  reporting: enterprise(block({ license: block({ enabled: bool }), snapshot_retention_time: dur })),
  segment: enterprise(str),
  segments: enterprise(blocks({ advertise: str, bind: str, name: str, port: int, rpc_listener: bool })),

  // Not user-configurable (config.go "non-user configurable values"; NonUserSource overrides them).
  ae_interval: internal(dur),
  build_date: internal(str),
  check_deregister_interval_min: internal(dur),
  check_reap_interval: internal(dur),
  consul: internal(
    block({
      coordinate: block({ update_batch_size: int, update_max_batches: int, update_period: dur }),
      raft: block({ election_timeout: dur, heartbeat_timeout: dur, leader_lease_timeout: dur }),
      server: block({ health_interval: dur }),
    }),
  ),
  license_poll_base_time: internal(dur),
  license_poll_max_time: internal(dur),
  license_update_base_time: internal(dur),
  license_update_max_time: internal(dur),
  revision: internal(str),
  segment_limit: internal(int),
  segment_name_limit: internal(int),
  sync_coordinate_interval_min: internal(dur),
  sync_coordinate_rate_target: internal(float),
  version: internal(str),
  version_metadata: internal(str),
  version_prerelease: internal(str),
};

/** What a service definition file may hold at its top level: services and checks. */
export const SERVICE_DEFINITION_FILE_KEYS: readonly string[] = ["check", "checks", "service", "services"];
