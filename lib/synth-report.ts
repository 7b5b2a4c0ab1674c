// How spec problems reach whoever runs the app, each once and with the right label.
//
// cdktf-cli 0.21 runs the app command (cdktf.json "app") through @cdktf/commons `shell`/`exec`
// (@cdktf/cli-core SynthStack.synth): it prints the app's stdout as it comes, unlabelled, and its
// stderr through its logger, labelled "[ERROR] default -" whatever it says. When the app exits
// non-zero it prints both streams a second time in its "cdktf encountered an error while
// synthesizing" block. When the app exits 0, it reads cdktf.out/manifest.json and prints each
// stack's annotations once as "ERROR [<path>]: <message>" / "WARN [<path>]: <message>", then
// fails the command if any is an error (cli-core printAnnotations). So:
// - warnings of a good spec go to stdout: shown once under their heading, synthesis goes on;
// - errors, under the CLI, become error annotations of a report entry in the manifest, and the
//   app exits 0: the CLI prints each once and exits 1. Nothing is written under stacks/;
// - errors of a direct run (node dist/main.js, tests, the bench) go to stderr, exit code 1.
import * as fs from "node:fs";
import * as path from "node:path";
import { AnnotationMetadataEntryType, Manifest, type IManifest, type StackAnnotation } from "cdktf";
import { groupedByService, MAX_LISTED_ISSUES, type SpecIssue } from "./issues";

/** Set by cdktf-cli (cli-core SynthStack) for the app it runs: the CLI will print the manifest's annotations. */
export function runByCdktfCli(env: NodeJS.ProcessEnv): boolean {
  return env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS !== undefined;
}

/** The report entry of the manifest: named like no stack, so it cannot be mistaken for one. */
export const REPORT_NAME = "invalid-mesh-spec";
/** Files of the report entry, beside the manifest (the CLI reads them; nothing in them is deployable). */
export const REPORT_FILES = [`${REPORT_NAME}.tf`, `${REPORT_NAME}.metadata.json`] as const;

/**
 * Writes manifest.json with one entry whose annotations are the spec's errors and warnings.
 * The CLI reads the entry's synthesizedStackPath (a .tf file, formatted under --hcl) and, as it
 * is not .tf.json, its stackMetadataPath as JSON for telemetry: a comment and an empty metadata
 * block satisfy both.
 */
export function writeErrorReport(outdir: string, source: string, errors: readonly SpecIssue[], warnings: readonly SpecIssue[]): void {
  const [tfFile, metadataFile] = REPORT_FILES;
  const annotations: StackAnnotation[] = [
    ...asAnnotations(source, errors, AnnotationMetadataEntryType.ERROR, "error"),
    ...asAnnotations(source, warnings, AnnotationMetadataEntryType.WARN, "warning"),
  ];
  const manifest: IManifest = {
    version: "0.21.0",
    stacks: {
      [REPORT_NAME]: {
        name: REPORT_NAME,
        constructPath: source,
        synthesizedStackPath: tfFile,
        stackMetadataPath: metadataFile,
        workingDirectory: ".",
        annotations,
        dependencies: [],
      },
    },
  };
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, tfFile), `# The mesh spec ${source} is invalid: nothing was synthesized.\n`);
  fs.writeFileSync(path.join(outdir, metadataFile), `${JSON.stringify({ "//": { metadata: {} }, terraform: {} })}\n`);
  fs.writeFileSync(path.join(outdir, Manifest.fileName), `${JSON.stringify(manifest, null, 2)}\n`);
}

function asAnnotations(source: string, issues: readonly SpecIssue[], level: AnnotationMetadataEntryType, kind: string): StackAnnotation[] {
  const shown = groupedByService(issues);
  const listed = shown.slice(0, MAX_LISTED_ISSUES).map((issue) => ({
    constructPath: source,
    level,
    message: `${issue.path}: ${issue.message}${issue.excerpt ? `\n${issue.excerpt.replace(/^/gm, "    ")}` : ""}`,
  }));
  const rest = shown.length - listed.length;
  if (rest > 0) listed.push({ constructPath: source, level, message: `... and ${rest} more ${kind}${rest === 1 ? "" : "s"} (fix the ones above first)` });
  return listed;
}
