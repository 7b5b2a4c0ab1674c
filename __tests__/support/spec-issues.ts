// What the spec stage (document, schema, plan, rules) says of a spec, for the tests that feed it
// bad input: one reading of a rejection for every test. An exception other than a SpecError is
// not a rejection and fails the test.
import { SpecError, type SpecIssue } from "../../lib/issues";
import { parseSpec } from "../../lib/pipeline";
import { parseDocument } from "../../lib/spec/document";

export interface SpecIssues {
  readonly errors: SpecIssue[];
  readonly warnings: SpecIssue[];
}

/** A spec's errors (none: it is accepted) and warnings; the spec is a value, or the text of a YAML or JSON document. */
export function specIssues(input: unknown, file = "test.yaml"): SpecIssues {
  try {
    return { errors: [], warnings: [...parseSpec(typeof input === "string" ? parseDocument(input, file) : input, file).warnings] };
  } catch (error) {
    if (error instanceof SpecError) return { errors: [...error.errors], warnings: [...error.warnings] };
    throw error;
  }
}

/** The issues of a spec the test expects rejected: a spec accepted fails the test. */
export function rejectionOf(input: unknown, file?: string): SpecIssues {
  const issues = specIssues(input, file);
  if (issues.errors.length === 0) throw new Error("the spec was accepted");
  return issues;
}
