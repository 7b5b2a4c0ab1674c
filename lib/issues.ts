/** One problem found in a spec: where (a path such as services.web.upstreams[0].destination) and what to fix. */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
  /** Lines of the file around a syntax error, with a caret under the column (the yaml library's code frame). */
  readonly excerpt?: string;
}

/** What the rules found on a plan (lib/rules). */
export interface RuleResult {
  readonly errors: SpecIssue[];
  readonly warnings: SpecIssue[];
}

/** Errors listed by formatSpecIssues; past this, a count. A spec this broken is fixed in rounds anyway. */
export const MAX_LISTED_ISSUES = 100;

/** Thrown when a spec cannot be used; carries every error found in one run, plus any warnings. */
export class SpecError extends Error {
  constructor(
    public readonly source: string,
    public readonly errors: readonly SpecIssue[],
    public readonly warnings: readonly SpecIssue[] = [],
  ) {
    super(formatSpecIssues(source, errors, warnings));
    this.name = "SpecError";
  }
}

/** Renders a path from its segments: keys joined by dots, array indexes in brackets. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out === "" ? "(root)" : out;
}

export function formatSpecIssues(source: string, errors: readonly SpecIssue[], warnings: readonly SpecIssue[]): string {
  const lines: string[] = [];
  if (errors.length > 0) {
    lines.push(`Mesh spec ${source} is invalid (${errors.length} error${errors.length === 1 ? "" : "s"}):`);
    listIssues(errors, "error", lines);
  }
  if (warnings.length > 0) {
    lines.push(`Warnings for mesh spec ${source}:`);
    listIssues(warnings, "warning", lines);
  }
  return lines.join("\n");
}

function listIssues(issues: readonly SpecIssue[], kind: string, lines: string[]): void {
  const shown = groupedByService(issues);
  for (const issue of shown.slice(0, MAX_LISTED_ISSUES)) {
    lines.push(`  - ${issue.path}: ${issue.message}`);
    if (issue.excerpt) for (const line of issue.excerpt.split("\n")) lines.push(`      ${line}`.trimEnd());
  }
  const rest = shown.length - MAX_LISTED_ISSUES;
  if (rest > 0) lines.push(`  ... and ${rest} more ${kind}${rest === 1 ? "" : "s"} (fix the ones above first)`);
}

/** At most five names, then how many more: a line stays readable at 500 services. */
export function listed(names: readonly string[]): string {
  return names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

/** services.<name> and the rest of the path under it. */
const SERVICE_PATH = /^services\.([^.[\]]+)(.*)$/;

/**
 * Issues as they are shown: the same message on the same field of several services is one line at
 * services.*.<field> naming the services, where the first of them stood. The issues themselves
 * (LoadedSpec.warnings, SpecError) keep every path.
 */
export function groupedByService(issues: readonly SpecIssue[]): SpecIssue[] {
  const keyOf = (issue: SpecIssue) => {
    const match = issue.excerpt === undefined ? SERVICE_PATH.exec(issue.path) : null;
    return match ? { name: match[1]!, key: `${match[2]}\n${issue.message}`, field: match[2]! } : undefined;
  };
  const keyed = issues.map((issue) => ({ issue, at: keyOf(issue) }));
  // Each service once per key, however often it has the issue (linear: a Set per key).
  const services = new Map<string, Set<string>>();
  for (const { at } of keyed) if (at) (services.get(at.key) ?? services.set(at.key, new Set()).get(at.key)!).add(at.name);
  const shown: SpecIssue[] = [];
  const grouped = new Set<string>();
  for (const { issue, at } of keyed) {
    const names = at && services.get(at.key)!;
    if (!at || !names || names.size === 1) shown.push(issue);
    else if (!grouped.has(at.key)) {
      grouped.add(at.key);
      shown.push({ path: `services.*${at.field}`, message: `${issue.message} (${names.size} services: ${listed([...names])})` });
    }
  }
  return shown;
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  // 1 edit for short words, 2 up to ten letters, 3 beyond: wider, and "os" would suggest "tls".
  let bestDistance = (word.length <= 4 ? 1 : word.length <= 10 ? 2 : 3) + 1;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    // The distance is at least the difference in length: most candidates are skipped here.
    if (Math.abs(other.length - lower.length) >= bestDistance) continue;
    const d = editDistance(lower, other, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Optimal-string-alignment distance (Levenshtein, with a swap of two neighbours as one edit:
 * "prot" is one edit from "port"), or `bound` as soon as it cannot be below `bound`.
 */
function editDistance(a: string, b: string, bound: number): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      let cost = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cost = Math.min(cost, before[j - 2]! + 1);
      row.push(cost);
      if (cost < rowMin) rowMin = cost;
    }
    // Costs never decrease along an alignment: once two whole rows reach the bound, so does the result.
    if (rowMin >= bound && Math.min(...previous) >= bound) return bound;
    before = previous;
    previous = row;
  }
  return previous[b.length]!;
}
