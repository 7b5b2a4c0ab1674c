/** One problem found in a spec: where (a path such as services.web.upstreams[0].destination) and what to fix. */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
}

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
    for (const e of errors) lines.push(`  - ${e.path}: ${e.message}`);
  }
  if (warnings.length > 0) {
    lines.push(`Warnings for mesh spec ${source}:`);
    for (const w of warnings) lines.push(`  - ${w.path}: ${w.message}`);
  }
  return lines.join("\n");
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
