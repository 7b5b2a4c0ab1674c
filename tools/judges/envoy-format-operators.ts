// Envoy's access log command operators (%NAME%, %NAME(args)%, %NAME(args):Z%), the table a format
// string or JSON format dictionary is judged against: a Consul proxy-defaults AccessLogs format
// (tools/judges/consul-config-entries.ts) and the TLS edge's json_format. Written by hand from
// envoyproxy/envoy docs/root/configuration/observability/access_log/usage.rst @01625a89 (the newest
// version the index held; undated, it still documents typed_json_format, so it is older than the
// Envoy the project runs). Envoy removes an operator only after deprecating it; an operator added
// after that page is reported as unknown here, which errs toward refusing what no source read
// here shows. Envoy rejects an unknown operator when it loads the config (the listener is refused);
// a proxy-defaults entry with one reaches every proxy, so the judge refuses it before Consul does.

/** What the operators below were read from, and for which Envoy. */
export const FORMAT_OPERATORS_SOURCE = {
  repo: "envoyproxy/envoy",
  path: "docs/root/configuration/observability/access_log/usage.rst",
  commit: "01625a8961e2ca68e30c8db96142d24875a24c68",
  /** The Envoy line whose configs use these operators (lib/versions.ts pins its patch). */
  readForEnvoy: "1.37",
} as const;

/** How an operator takes an argument in parentheses, and whether a `:Z` truncation follows. */
interface OperatorShape {
  readonly args: "none" | "optional" | "required";
  readonly truncate?: true;
}

const plain: OperatorShape = { args: "none" };
const optionalArgs: OperatorShape = { args: "optional" };
const header: OperatorShape = { args: "required", truncate: true };
const metadata: OperatorShape = { args: "required", truncate: true };

const PLAIN_OPERATORS = [
  "REQUEST_HEADERS_BYTES",
  "BYTES_RECEIVED",
  "PROTOCOL",
  "UPSTREAM_PROTOCOL",
  "RESPONSE_CODE",
  "RESPONSE_CODE_DETAILS",
  "CONNECTION_TERMINATION_DETAILS",
  "RESPONSE_HEADERS_BYTES",
  "RESPONSE_TRAILERS_BYTES",
  "BYTES_SENT",
  "UPSTREAM_REQUEST_ATTEMPT_COUNT",
  "UPSTREAM_WIRE_BYTES_SENT",
  "UPSTREAM_WIRE_BYTES_RECEIVED",
  "UPSTREAM_HEADER_BYTES_SENT",
  "UPSTREAM_HEADER_BYTES_RECEIVED",
  "DOWNSTREAM_WIRE_BYTES_SENT",
  "DOWNSTREAM_WIRE_BYTES_RECEIVED",
  "DOWNSTREAM_HEADER_BYTES_SENT",
  "DOWNSTREAM_HEADER_BYTES_RECEIVED",
  "DURATION",
  "REQUEST_DURATION",
  "REQUEST_TX_DURATION",
  "RESPONSE_DURATION",
  "RESPONSE_TX_DURATION",
  "RESPONSE_FLAGS",
  "ROUTE_NAME",
  "VIRTUAL_CLUSTER_NAME",
  "UPSTREAM_HOST",
  "UPSTREAM_CLUSTER",
  "UPSTREAM_LOCAL_ADDRESS",
  "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
  "UPSTREAM_LOCAL_PORT",
  "UPSTREAM_REMOTE_ADDRESS",
  "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
  "UPSTREAM_REMOTE_PORT",
  "UPSTREAM_TRANSPORT_FAILURE_REASON",
  "DOWNSTREAM_REMOTE_ADDRESS",
  "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_REMOTE_PORT",
  "DOWNSTREAM_DIRECT_REMOTE_ADDRESS",
  "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_DIRECT_REMOTE_PORT",
  "DOWNSTREAM_LOCAL_ADDRESS",
  "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_LOCAL_PORT",
  "CONNECTION_ID",
  "GRPC_STATUS_NUMBER",
  "REQUESTED_SERVER_NAME",
  "DOWNSTREAM_LOCAL_URI_SAN",
  "DOWNSTREAM_PEER_URI_SAN",
  "DOWNSTREAM_LOCAL_SUBJECT",
  "DOWNSTREAM_PEER_SUBJECT",
  "DOWNSTREAM_PEER_ISSUER",
  "DOWNSTREAM_TLS_SESSION_ID",
  "DOWNSTREAM_TLS_CIPHER",
  "DOWNSTREAM_TLS_VERSION",
  "DOWNSTREAM_PEER_FINGERPRINT_256",
  "DOWNSTREAM_PEER_FINGERPRINT_1",
  "DOWNSTREAM_PEER_SERIAL",
  "DOWNSTREAM_PEER_CERT",
  "UPSTREAM_PEER_SUBJECT",
  "UPSTREAM_PEER_ISSUER",
  "UPSTREAM_TLS_SESSION_ID",
  "UPSTREAM_TLS_CIPHER",
  "UPSTREAM_TLS_VERSION",
  "UPSTREAM_PEER_CERT",
  "HOSTNAME",
  "LOCAL_REPLY_BODY",
  "FILTER_CHAIN_NAME",
] as const;

/** Every operator of the page, by name. */
export const FORMAT_OPERATORS: Readonly<Record<string, OperatorShape>> = {
  ...Object.fromEntries(PLAIN_OPERATORS.map((name) => [name, plain])),
  // A strftime format in parentheses (with %s and %[1-9]f).
  START_TIME: optionalArgs,
  DOWNSTREAM_PEER_CERT_V_START: optionalArgs,
  DOWNSTREAM_PEER_CERT_V_END: optionalArgs,
  UPSTREAM_PEER_CERT_V_START: optionalArgs,
  UPSTREAM_PEER_CERT_V_END: optionalArgs,
  GRPC_STATUS: optionalArgs,
  // REQ(X?Y):Z: a header, an alternative, a truncation.
  REQ: header,
  RESP: header,
  TRAILER: header,
  DYNAMIC_METADATA: metadata,
  CLUSTER_METADATA: metadata,
  UPSTREAM_METADATA: metadata,
  FILTER_STATE: metadata,
  UPSTREAM_FILTER_STATE: metadata,
  ENVIRONMENT: header,
};

/** One command operator: NAME, (args) with anything but ")" inside (START_TIME's strftime has "%"), :Z. */
const OPERATOR = /%([A-Z0-9_]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/** The operators a format string uses, in order. */
export function operatorsOf(format: string): string[] {
  return [...format.matchAll(OPERATOR)].map((m) => m[1]!);
}

/** Findings for one format string: unknown operators, arguments or truncations where the operator takes none, a stray "%". */
export function judgeFormatString(format: string, at = "format"): string[] {
  const findings: string[] = [];
  for (const match of format.matchAll(OPERATOR)) {
    const [token, name, args, truncate] = match as unknown as [string, string, string | undefined, string | undefined];
    const shape = FORMAT_OPERATORS[name];
    if (!shape) {
      findings.push(`${at}: ${token}: not a command operator of Envoy ${FORMAT_OPERATORS_SOURCE.readForEnvoy} (${FORMAT_OPERATORS_SOURCE.path}); check its spelling`);
      continue;
    }
    if (args === undefined && shape.args === "required") findings.push(`${at}: ${token}: ${name} needs an argument, such as ${name}(X-REQUEST-ID)`);
    if (args !== undefined && shape.args === "none") findings.push(`${at}: ${token}: ${name} takes no argument`);
    if (args !== undefined && args.trim() === "" && shape.args === "required") findings.push(`${at}: ${token}: ${name} has an empty argument`);
    if (truncate !== undefined && !shape.truncate) findings.push(`${at}: ${token}: ${name} takes no :Z truncation`);
  }
  // A "%" left over is an operator Envoy cannot parse (it refuses the format).
  if (format.replace(OPERATOR, "").includes("%")) findings.push(`${at}: ${JSON.stringify(format)} has a "%" that starts no command operator`);
  return findings;
}

/** Findings for a JSON format dictionary (json_format): every string value, nested objects included. */
export function judgeJsonFormat(format: unknown, at = "json_format"): string[] {
  if (typeof format === "string") return judgeFormatString(format, at);
  if (format !== null && typeof format === "object" && !Array.isArray(format)) return Object.entries(format).flatMap(([key, value]) => judgeJsonFormat(value, `${at}.${key}`));
  // Numbers and booleans are written as they are; lists are not a format dictionary's.
  return Array.isArray(format) ? [`${at}: a list; a format dictionary maps names to format strings or dictionaries`] : [];
}
