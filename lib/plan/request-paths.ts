// The normal form of a request path: what a destination's inbound HTTP listener turns a path into
// before any filter (RBAC, so every intention permission) sees it. Decided here once: the traffic
// rule (lib/rules/traffic.ts) refuses a permission path that is not in this form (no request has
// it), and the offline evaluator (tools/traffic-evaluator.ts) normalizes requests with it.
// Read for Consul 2.0.1 and Envoy 1.34:
//   agent/xds/listeners.go setNormalizationOptions (Test_setNormalizationOptions: no mesh entry, or
//   an empty one, still gives normalize_path true) from the mesh entry's
//   HTTP.Incoming.RequestNormalization (agent/structs/config_entry_mesh.go): normalize_path =
//   !InsecureDisablePathNormalization, merge_slashes = MergeSlashes, path_with_escaped_slashes_action
//   = PathWithEscapedSlashesAction (IMPLEMENTATION_SPECIFIC_DEFAULT is Envoy's KEEP_UNCHANGED).
//   Envoy applies them in this order (source/common/http/conn_manager_utility.cc
//   maybeNormalizePath): escaped slashes (%2F, %5C, either case, in the path before "?"),
//   then normalize_path (source/common/http/path_utility.cc canonicalPath: the path before "?"
//   through Chromium's CanonicalizePath: "\" becomes "/", "." and ".." segments, written with
//   "." or "%2e" in either case, are removed as RFC 3986 5.2.4 does, an escaped unreserved
//   character is decoded, other escapes are kept as written), then merge_slashes
//   (PathUtil::mergeSlashes: the non-empty segments joined by "/", one leading and one
//   trailing "/" kept). The query is left as it is.

/** Envoy's escaped-slash actions modelled here; UNESCAPE_AND_REDIRECT (a redirect the caller may follow) is not. */
export const ESCAPED_SLASH_ACTIONS = ["KEEP_UNCHANGED", "REJECT_REQUEST", "UNESCAPE_AND_FORWARD"] as const;

/** The inbound HTTP listener's path settings, as Consul writes them into Envoy's HTTP connection manager. */
export interface InboundNormalization {
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: (typeof ESCAPED_SLASH_ACTIONS)[number];
}

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The settings a mesh config entry (its JSON body; none: Consul's defaults) gives every inbound HTTP listener. */
export function inboundNormalizationOf(meshEntry: unknown): InboundNormalization {
  const http = isObj(meshEntry) ? meshEntry.HTTP : undefined;
  const incoming = isObj(http) ? http.Incoming : undefined;
  const rn = isObj(incoming) && isObj(incoming.RequestNormalization) ? incoming.RequestNormalization : {};
  const action =
    typeof rn.PathWithEscapedSlashesAction === "string" && rn.PathWithEscapedSlashesAction !== "" ? rn.PathWithEscapedSlashesAction : "IMPLEMENTATION_SPECIFIC_DEFAULT";
  const escapedSlashes = action === "IMPLEMENTATION_SPECIFIC_DEFAULT" ? "KEEP_UNCHANGED" : action;
  if (!(ESCAPED_SLASH_ACTIONS as readonly string[]).includes(escapedSlashes))
    throw new Error(`mesh entry: PathWithEscapedSlashesAction ${JSON.stringify(action)} is not one the evaluator models (${ESCAPED_SLASH_ACTIONS.join(", ")})`);
  return {
    normalizePath: rn.InsecureDisablePathNormalization !== true,
    mergeSlashes: rn.MergeSlashes === true,
    escapedSlashes: escapedSlashes as InboundNormalization["escapedSlashes"],
  };
}

/**
 * Envoy's maybeNormalizePath for one path (with its query): the path Envoy's filters then see,
 * or none when Envoy answers 400. A fragment, and characters whose handling depends on Envoy's
 * runtime flags or Chromium's tables beyond what was read (see CANONICAL_PASS), are errors.
 */
export function normalizeInboundPath(path: string, settings: InboundNormalization): string | undefined {
  if (path.includes("#")) throw new Error(`path ${JSON.stringify(path)}: a fragment, which Envoy rejects or strips by runtime flag; not modelled`);
  const q = path.indexOf("?");
  let p = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? "" : path.slice(q);
  if (settings.escapedSlashes !== "KEEP_UNCHANGED" && ESCAPED_SLASH.test(p)) {
    if (settings.escapedSlashes === "REJECT_REQUEST") return undefined;
    p = p.replace(/%2f/gi, "/").replace(/%5c/gi, "\\");
  }
  if (settings.normalizePath) p = canonicalizePath(p);
  if (settings.mergeSlashes && p.includes("//")) p = `${p.startsWith("/") ? "/" : ""}${p.split("/").filter(Boolean).join("/")}${p.endsWith("/") ? "/" : ""}`;
  return p + query;
}

const ESCAPED_SLASH = /%(2f|5c)/i;

/**
 * The first part of `text` (a piece of a path, without query) that no path normalized with
 * `settings` contains, with what normalization makes of it; none when there is no such part. A
 * pattern that requires such a part can match no request.
 */
export function unnormalizedPart(text: string, settings: InboundNormalization): { readonly part: string; readonly becomes: string } | undefined {
  const found: { at: number; part: string; becomes: string }[] = [];
  const first = (pattern: RegExp, becomes: (part: string) => string | undefined) => {
    for (const m of text.matchAll(pattern)) {
      const to = becomes(m[0]);
      if (to !== undefined) return void found.push({ at: m.index, part: m[0], becomes: to });
    }
  };
  if (settings.escapedSlashes === "REJECT_REQUEST") first(/%(2f|5c)/gi, () => "a rejected request (400)");
  if (settings.normalizePath) {
    first(/\\/g, () => "/");
    first(/%[0-9a-f]{2}/gi, (escaped) => {
      const decoded = String.fromCharCode(Number.parseInt(escaped.slice(1), 16));
      return UNRESERVED.test(decoded) ? decoded : undefined;
    });
    first(/\/\.\.?(?=\/)/g, (segment) => (segment === "/." ? "nothing (a . segment)" : "nothing, with the segment before it (a .. segment)"));
  }
  // Merging keeps one leading and one trailing slash, so a path of slashes alone stays "//".
  if (settings.mergeSlashes && /[^/]/.test(text)) first(/\/\/+/g, () => "/");
  return found.sort((a, b) => a.at - b.at)[0];
}

/**
 * The path with every character whose normal form is not modelled here (a ";", "{", "|", "^",
 * "[", "]", a non-ASCII letter) percent-encoded, as clients send them: normalizeInboundPath takes it.
 */
export function escapeUnmodelled(path: string): string {
  return [...path].map((c) => (c === "%" || c === "\\" || c === "?" || c === "#" || CANONICAL_PASS.test(c) || canonicalEscape(c) ? c : encodeURIComponent(c))).join("");
}

/** Characters Chromium's path canonicalizer copies unchanged (kPathCharLookup PASS or UNESCAPE); ";" is left out (Envoy may strip "..;" parameters by runtime flag). */
const CANONICAL_PASS = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]$/;
/** Characters it percent-encodes (kPathCharLookup ESCAPE): controls, space, '"', '<', '>', '`', DEL. */
const canonicalEscape = (c: string) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f || '"<>`'.includes(c);
/** RFC 3986's unreserved characters: an escaped one is decoded. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** "." or "%2e" (either case) at i: its length, else 0 (url_canon_path.cc IsDot). */
function dotAt(p: string, i: number): number {
  if (p[i] === ".") return 1;
  return p.slice(i, i + 3).toLowerCase() === "%2e" ? 3 : 0;
}

/** Chromium's CanonicalizePath (url_canon_path.cc DoPartialPath) over an absolute path without query, as Envoy's canonicalPath runs it. */
function canonicalizePath(p: string): string {
  let out = p.startsWith("/") || p.startsWith("\\") ? "" : "/";
  const slash = (i: number) => p[i] === "/" || p[i] === "\\";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    const dot = dotAt(p, i);
    if (dot > 0) {
      if (!out.endsWith("/")) {
        out += ".";
        i += dot - 1;
        continue;
      }
      // ClassifyAfterDot: "." then end or slash; ".." then end or slash; else a name that starts with a dot.
      const after = i + dot;
      if (after === p.length || slash(after)) {
        i = after + (after === p.length ? 0 : 1) - 1;
        continue;
      }
      const second = dotAt(p, after);
      if (second > 0 && (after + second === p.length || slash(after + second))) {
        // BackUpToPreviousSlash: drop the last segment, never the first "/".
        if (out.length > 1) out = out.slice(0, out.lastIndexOf("/", out.length - 2) + 1);
        i = after + second + (after + second === p.length ? 0 : 1) - 1;
        continue;
      }
      out += ".";
      i += dot - 1;
    } else if (c === "\\") out += "/";
    else if (c === "%") {
      const hex = p.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        const decoded = String.fromCharCode(Number.parseInt(hex, 16));
        out += UNRESERVED.test(decoded) ? decoded : `%${hex}`;
        i += 2;
      } else out += "%";
    } else if (CANONICAL_PASS.test(c)) out += c;
    else if (canonicalEscape(c)) out += `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
    else throw new Error(`path ${JSON.stringify(p)}: ${JSON.stringify(c)} is a character whose canonical form the evaluator does not model`);
  }
  return out;
}
