// Bounds on a spec document, checked before anything is built from it, so that a hostile or
// broken file fails fast with a spec error instead of exhausting time, memory or the stack.
// Each is far above what a real mesh needs; the numbers in the comments are measured on the
// specs that tools/bench.ts generates (500 Fargate services with upstreams and intentions).

export const SPEC_LIMITS = {
  /**
   * File size, checked before the file is read. A 500-service spec is 224 KiB as YAML and
   * 317 KiB as pretty-printed JSON: this is 6 to 9 times that.
   */
  fileBytes: 2 * 1024 * 1024,
  /**
   * Tokens of the YAML lexer (scalars, indicators, spaces, line breaks): the yaml library spends
   * several microseconds on each (5 to 7 on a 2-core machine), so this bounds its time to about
   * 3 s. A 500-service spec has 79,000.
   */
  yamlTokens: 400_000,
  /**
   * Nesting of mappings and sequences. The deepest path of the schema
   * (services.<name>.secrets.<VAR>.secretsManagerArn) is 5 levels; the YAML composer, zod and
   * structuredClone recurse per level and overflow the stack somewhere past 800.
   */
  depth: 64,
  /**
   * Alias nodes (*name). Reusing one anchor per service, e.g. a shared health check for 500
   * services, takes 500; resolving an alias scans the anchors before it, so many thousands
   * would cost quadratic time.
   */
  aliases: 5_000,
  /**
   * Values (scalars, keys, mappings, sequences) of the document once every alias is expanded:
   * what the schema and the rules walk. A 500-service spec has 21,000; an alias bomb ("billion
   * laughs") has billions.
   */
  nodes: 250_000,
} as const;

/** "2 MiB (2097152 bytes)": a size for messages, exact so that two sizes never read the same. */
export function formatBytes(bytes: number): string {
  const mib = (bytes / (1024 * 1024)).toFixed(2).replace(/\.?0+$/, "");
  return `${mib} MiB (${bytes} bytes)`;
}
