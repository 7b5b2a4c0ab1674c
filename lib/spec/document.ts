// A spec file's text -> a plain value. JSON goes through JSON.parse (a few milliseconds for a
// 500-service spec, against a few hundred for the YAML parser); YAML, and JSON that JSON.parse
// rejects, goes through the yaml library, whose errors carry a line, a column and a code frame.
// Both paths enforce SPEC_LIMITS before building anything large or deep, and reject duplicate
// keys with a check of their own that is linear in the number of keys (the yaml library's
// uniqueKeys compares each key with every earlier key of its mapping: quadratic).
import YAML, { Composer, isAlias, isMap, isNode, isSeq, Lexer, LineCounter, Parser, type CST, type Document, type Node as YamlNode, type Scalar, type YAMLMap } from "yaml";
import { SpecError, type SpecIssue } from "../issues";
import { formatBytes, SPEC_LIMITS } from "./limits";

/** YAML or JSON, bounded by SPEC_LIMITS, duplicate keys rejected, positions in every error. */
export function parseDocument(text: string, source: string): unknown {
  checkFileSize(Buffer.byteLength(text, "utf8"), source);
  if (text.trim() === "") throw new SpecError(source, [{ path: "(file)", message: "the file is empty; write a spec with at least a services section" }]);
  const value = parseJson(text, source) ?? parseYaml(text, source);
  if (value.value === null || value.value === undefined) {
    throw new SpecError(source, [{ path: "(file)", message: "the file holds no spec (only comments or null)" }]);
  }
  return value.value;
}

/** Rejects a file over SPEC_LIMITS.fileBytes; `bytes` is its size, or what was read so far of a stream. */
export function checkFileSize(bytes: number, source: string, stream = false): void {
  if (bytes <= SPEC_LIMITS.fileBytes) return;
  const size = stream ? "is larger than" : `is ${formatBytes(bytes)}, over`;
  throw new SpecError(source, [
    {
      path: "(file)",
      message: `the file ${size} the limit of ${formatBytes(SPEC_LIMITS.fileBytes)} for a spec (500 services take about 250 KiB); split it or remove what the mesh does not use`,
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// JSON

/** The value of a JSON text, or undefined when it is not JSON (the YAML path then reports why). */
function parseJson(text: string, source: string): { readonly value: unknown } | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!/^\s*[{[]/.test(body)) return undefined;
  let value: unknown;
  try {
    // V8's JSON.parse is iterative and linear, so it is safe to run before the scan below.
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const problems = scanJson(body);
  if (problems.length > 0) throw new SpecError(source, problems);
  return { value };
}

interface JsonFrame {
  /** Keys seen so far in an object, with their offsets; undefined for an array. */
  readonly keys: Map<string, number> | undefined;
  expectKey: boolean;
}

/**
 * One pass over text that JSON.parse accepted: nesting depth, number of values and duplicate
 * keys (which JSON.parse resolves silently in favour of the last one).
 */
function scanJson(text: string): SpecIssue[] {
  const positions = new Positions(text);
  const problems: SpecIssue[] = [];
  const stack: JsonFrame[] = [];
  let nodes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "{" || c === "[") {
      nodes++;
      if (stack.length >= SPEC_LIMITS.depth) return [positions.issue(i, TOO_DEEP)];
      stack.push({ keys: c === "{" ? new Map() : undefined, expectKey: c === "{" });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    } else if (c === '"') {
      nodes++;
      const start = i;
      let escaped = false;
      for (i++; text[i] !== '"'; i++) {
        if (text[i] === "\\") {
          escaped = true;
          i++;
        }
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        top.expectKey = false;
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        const first = top.keys.get(key);
        if (first === undefined) top.keys.set(key, start);
        else problems.push(positions.issue(start, duplicateKey(key, positions.describe(first))));
      }
    } else if (c !== " " && c !== "\t" && c !== "\n" && c !== "\r" && c !== ":") {
      // A number, true, false or null: skip to its end.
      nodes++;
      while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1]!)) i++;
    }
    if (nodes > SPEC_LIMITS.nodes) return [positions.issue(i, TOO_MANY_NODES)];
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// YAML

/**
 * How the yaml library reads a spec, whatever %YAML directive the file holds: YAML 1.2's core
 * schema, so values are JSON's (no "yes" booleans, "<<" merge keys, or !!binary, !!set and
 * !!timestamp objects); every key a string (a mapping, a list or an alias as a key is an error).
 */
const YAML_OPTIONS = { schema: "core", merge: false, resolveKnownTags: false, stringKeys: true, uniqueKeys: false, prettyErrors: true } as const;

function parseYaml(text: string, source: string): { readonly value: unknown } {
  const positions = new Positions(text);
  // The parser's own loop (Parser.parse), run here to stop it once the tokens exceed the budget:
  // the yaml library takes several microseconds per token.
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  let lexemes = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (++lexemes > SPEC_LIMITS.yamlTokens) throw new SpecError(source, [positions.issue(parser.offset, TOO_MANY_TOKENS)]);
    for (const token of parser.next(lexeme)) tokens.push(token);
  }
  for (const token of parser.end()) tokens.push(token);
  // The composer recurses once per level and resolving aliases scans earlier anchors: check the
  // depth and the counts on the parser's tokens first.
  const overLimit = checkTokens(tokens);
  if (overLimit) throw new SpecError(source, [positions.issue(overLimit.offset, overLimit.message)]);

  const docs = [...new Composer(YAML_OPTIONS).compose(tokens, true, text.length)];
  const doc = docs[0]!;
  // Warnings too: a tag the library cannot resolve would otherwise be dropped silently.
  if (doc.errors.length > 0 || doc.warnings.length > 0 || docs.length > 1) throw new SpecError(source, syntaxErrors(text));

  const problems = checkNodes(doc, positions);
  if (problems.length > 0) throw new SpecError(source, problems);
  try {
    // checkNodes bounded what aliases expand to: the library's own alias budget is not needed.
    return { value: doc.toJS({ maxAliasCount: -1 }) };
  } catch (error) {
    throw new SpecError(source, [{ path: "(file)", message: `cannot read the YAML: ${(error as Error).message}` }]);
  }
}

/**
 * Errors and warnings as the yaml library reports them, with its code frames (prettyErrors),
 * each once. Parsing again costs time only on this error path.
 */
function syntaxErrors(text: string): SpecIssue[] {
  const doc = YAML.parseDocument(text, YAML_OPTIONS);
  const issues = new Map<string, SpecIssue>();
  for (const error of [...doc.errors, ...doc.warnings]) {
    const pos = error.linePos?.[0];
    const path = pos ? `line ${pos.line}, column ${pos.col}` : "(file)";
    const at = pos ? error.message.indexOf(` at line ${pos.line}, column ${pos.col}`) : -1;
    let message = at >= 0 ? error.message.slice(0, at) : error.message;
    const frame = at >= 0 ? error.message.slice(at).split(":\n\n")[1]?.replace(/\n+$/, "") : undefined;
    if (error.code === "MULTIPLE_DOCS") message = 'the file holds more than one YAML document (a "---" line); a spec is one document';
    if (error.code === "NON_STRING_KEY") message = "a key must be a plain value such as a name, not a mapping, a list or an alias";
    if (error.code === "TAG_RESOLVE_FAILED") message = `${message}; a spec holds plain values (strings, numbers, booleans, lists, mappings): remove the tag`;
    const key = `${path}\u0000${message}`;
    if (!issues.has(key)) issues.set(key, frame ? { path, message, excerpt: frame } : { path, message });
  }
  return [...issues.values()];
}

/** The tokens that are values of the document (each counts against SPEC_LIMITS.nodes); the rest are spaces, comments and punctuation. */
const VALUE_TOKENS: ReadonlySet<string> = new Set(["alias", "scalar", "single-quoted-scalar", "double-quoted-scalar", "block-scalar", "block-map", "block-seq", "flow-collection"]);

/** The first limit that the parser's tokens exceed, with where, or undefined. */
function checkTokens(tokens: readonly CST.Token[]): { readonly offset: number; readonly message: string } | undefined {
  let nodes = 0;
  let aliases = 0;
  // Two stacks popped from the end, pushed in reverse: the first limit hit is the first in the file.
  const stack: CST.Token[] = [...tokens].reverse();
  const depths: number[] = stack.map(() => 0);
  const push = (token: CST.Token | null | undefined, depth: number) => {
    if (token) {
      stack.push(token);
      depths.push(depth);
    }
  };
  while (stack.length > 0) {
    const token = stack.pop()!;
    const depth = depths.pop()!;
    if (token.type === "document") {
      push(token.value, depth);
      continue;
    }
    if (!VALUE_TOKENS.has(token.type)) continue;
    if (token.type === "alias" && ++aliases > SPEC_LIMITS.aliases) {
      return { offset: token.offset, message: `more than ${SPEC_LIMITS.aliases} aliases (*name); write the values out instead` };
    }
    if (++nodes > SPEC_LIMITS.nodes) return { offset: token.offset, message: TOO_MANY_NODES };
    if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth >= SPEC_LIMITS.depth) return { offset: token.offset, message: TOO_DEEP };
      for (let i = token.items.length - 1; i >= 0; i--) {
        const item = token.items[i]!;
        push(item.value, depth + 1);
        if ("key" in item) push(item.key, depth + 1);
      }
    }
  }
  return undefined;
}

interface NodeFrame {
  readonly node: YamlNode;
  /** Expanded nodes counted when this node was entered: its own size is the difference at exit. */
  readonly startCount: number;
  readonly exited: boolean;
}

/**
 * One walk over the composed document: duplicate keys, aliases without an anchor or inside their
 * own anchor (a cycle), and the number of nodes once aliases are expanded (what the schema and the
 * rules will walk).
 */
function checkNodes(doc: Document, positions: Positions): SpecIssue[] {
  const problems: SpecIssue[] = [];
  const anchors = new Map<string, YamlNode>();
  const sizes = new Map<YamlNode, number>();
  const open = new Set<YamlNode>();
  let expanded = 0;
  const stack: NodeFrame[] = [];
  const enter = (node: unknown) => {
    if (isNode(node)) stack.push({ node, startCount: 0, exited: false });
  };
  enter(doc.contents);
  // Depth-first in document order: an alias refers to the last anchor of its name before it.
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const { node } = frame;
    if (frame.exited) {
      stack.pop();
      open.delete(node);
      if (node.anchor) sizes.set(node, expanded - frame.startCount);
      continue;
    }
    stack[stack.length - 1] = { node, startCount: expanded, exited: true };
    if (isAlias(node)) {
      stack.pop();
      const target = anchors.get(node.source);
      const offset = node.range?.[0] ?? 0;
      if (!target) {
        problems.push(positions.issue(offset, `alias *${node.source} has no anchor &${node.source} before it`));
      } else if (open.has(target)) {
        problems.push(positions.issue(offset, `alias *${node.source} is inside the value it refers to (&${node.source}), which would never end`));
      } else {
        expanded += sizes.get(target) ?? 1;
        if (expanded > SPEC_LIMITS.nodes) {
          return [
            positions.issue(offset, `alias *${node.source} expands the document past ${SPEC_LIMITS.nodes} values (an "alias bomb"); write the values out or reuse fewer aliases`),
          ];
        }
      }
      continue;
    }
    expanded++;
    if (node.anchor) anchors.set(node.anchor, node);
    open.add(node);
    if (isMap(node)) {
      checkKeys(node, positions, problems);
      // Pushed in reverse, so that they are visited in document order (keys before values).
      for (let i = node.items.length - 1; i >= 0; i--) {
        enter(node.items[i]!.value);
        enter(node.items[i]!.key);
      }
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) enter(node.items[i]);
    }
  }
  return problems;
}

/** Keys of one mapping (strings, YAML_OPTIONS.stringKeys), each once. */
function checkKeys(map: YAMLMap, positions: Positions, problems: SpecIssue[]): void {
  const keys = new Map<string, number>();
  for (const pair of map.items) {
    const key = pair.key as Scalar<string> | null;
    const name = key?.value ?? "";
    const offset = key?.range?.[0] ?? map.range?.[0] ?? 0;
    const first = keys.get(name);
    if (first === undefined) keys.set(name, offset);
    else problems.push(positions.issue(offset, duplicateKey(name, positions.describe(first))));
  }
}

// ---------------------------------------------------------------------------------------------
// Messages and positions

const TOO_DEEP = `nested more than ${SPEC_LIMITS.depth} levels deep; a mesh spec needs about 5`;

const TOO_MANY_NODES = `the document has more than ${SPEC_LIMITS.nodes} values (keys, items and scalars); 500 services take about 21,000`;

const TOO_MANY_TOKENS = `the YAML has more than ${SPEC_LIMITS.yamlTokens} tokens (names, values, punctuation, line breaks); 500 services take about 80,000. Split the spec, or write it as JSON, which parses much faster`;

function duplicateKey(key: string, first: string): string {
  return `duplicate key "${key}" (first at ${first}); keys must be unique, or the later one would silently replace the first`;
}

/** Line and column of offsets in a text (both from 1, counted on the first error), and a code frame in the yaml library's style. */
class Positions {
  private lines: LineCounter | undefined;

  constructor(private readonly text: string) {}

  /** "line L, column C" (both from 1). */
  describe(offset: number): string {
    const { line, col } = this.counter().linePos(offset);
    return `line ${line}, column ${col}`;
  }

  issue(offset: number, message: string): SpecIssue {
    return { path: this.describe(offset), message, excerpt: this.frame(offset) };
  }

  private counter(): LineCounter {
    if (!this.lines) {
      this.lines = new LineCounter();
      this.lines.addNewLine(0);
      for (let i = this.text.indexOf("\n"); i >= 0; i = this.text.indexOf("\n", i + 1)) this.lines.addNewLine(i + 1);
    }
    return this.lines;
  }

  /** The offset's line, cut to 80 characters around its column, and a caret under the column. */
  private frame(offset: number): string {
    const { line, col } = this.counter().linePos(offset);
    const start = this.counter().lineStarts[line - 1]!;
    const end = this.text.indexOf("\n", start);
    let text = this.text.slice(start, end < 0 ? this.text.length : end).replace(/\r$/, "");
    let caret = col - 1;
    if (text.length > 80) {
      const from = Math.max(0, Math.min(caret - 40, text.length - 80));
      text = `${from > 0 ? "…" : ""}${text.slice(from, from + 80)}${from + 80 < text.length ? "…" : ""}`;
      caret -= from - (from > 0 ? 1 : 0);
    }
    return `${text}\n${" ".repeat(caret)}^`;
  }
}
