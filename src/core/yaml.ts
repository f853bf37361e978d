/**
 * Safe YAML for the files an operator writes (warden.yaml): YAML 1.2 core schema read into plain
 * data, refusing what such a file has no use for and an attacker might: YAML tags (custom or not),
 * merge keys, several documents in one stream, duplicate keys, keys that are not text or whole
 * numbers, numbers written as exponents, fractions, hex or octal, and alias expansion beyond a small
 * budget (the "billion laughs"). Every refusal names the path (and line) of the value at fault.
 *
 * Pure: text in, data out. The caller decides the error it raises (`invalid`).
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Document as YamlDocument,
} from 'yaml';
import { setOwnField } from './own-field.ts';

export type YamlPath = readonly (string | number)[];

export interface SafeYamlLimits {
  /** Bytes of UTF-8 text. */
  maxBytes: number;
  /** Alias nodes the document may use. */
  maxAliases: number;
  /** Values produced after alias expansion. */
  maxNodes: number;
  maxDepth: number;
}

export const DEFAULT_YAML_LIMITS: SafeYamlLimits = {
  maxBytes: 64 * 1024,
  maxAliases: 16,
  maxNodes: 10_000,
  maxDepth: 16,
};

/** Builds the caller's error for a problem at `path` (`line` is 1-based, when known). */
export type YamlInvalid = (path: YamlPath, message: string, line?: number) => Error;

/** The parsed data, and where (which line) each value was written. */
export interface SafeYaml {
  value: unknown;
  lineOf(path: YamlPath): number | undefined;
}

const PLAIN_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** `['protocols', 'evm', 'rpc', '1']` → `protocols.evm.rpc["1"]`; the root is `(document)`. */
export function formatYamlPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += out.length === 0 ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment).slice(0, 80)}]`;
  }
  return out.length === 0 ? '(document)' : out;
}

interface WalkState {
  doc: YamlDocument.Parsed;
  lines: LineCounter;
  lineByPath: Map<string, number>;
  aliases: number;
  nodes: number;
  limits: SafeYamlLimits;
  invalid: YamlInvalid;
}

export function parseSafeYaml(
  text: string,
  invalid: YamlInvalid,
  limits: SafeYamlLimits = DEFAULT_YAML_LIMITS,
): SafeYaml {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > limits.maxBytes)
    throw invalid([], `the file is ${bytes} bytes; the limit is ${limits.maxBytes}`);
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    merge: false,
    uniqueKeys: false, // checked by the walk, which knows the path
    strict: true,
    prettyErrors: true,
    keepSourceTokens: false,
    lineCounter: lines,
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const line = problem.linePos?.[0]?.line;
    const first = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw invalid([], `YAML error: ${first}`, line);
  }
  const state: WalkState = {
    doc,
    lines,
    lineByPath: new Map(),
    aliases: 0,
    nodes: 0,
    limits,
    invalid,
  };
  const value = walk(doc.contents, [], state, 0);
  return { value, lineOf: (path) => state.lineByPath.get(JSON.stringify(path)) };
}

function lineOfNode(node: Node | null | undefined, state: WalkState): number | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : state.lines.linePos(offset).line;
}

function walk(node: Node | null, path: (string | number)[], state: WalkState, depth: number): unknown {
  const line = lineOfNode(node, state);
  const fail = (message: string) => state.invalid(path, message, line);
  state.nodes += 1;
  if (state.nodes > state.limits.maxNodes)
    throw fail(`the file expands to more than ${state.limits.maxNodes} values`);
  if (depth > state.limits.maxDepth) throw fail(`nested more than ${state.limits.maxDepth} levels deep`);
  if (line !== undefined && !state.lineByPath.has(JSON.stringify(path)))
    state.lineByPath.set(JSON.stringify(path), line);
  if (node === null || node === undefined) return null;
  if (typeof node.tag === 'string') throw fail(`YAML tags are not allowed (${node.tag.slice(0, 40)})`);
  if (isAlias(node)) {
    state.aliases += 1;
    if (state.aliases > state.limits.maxAliases)
      throw fail(`more than ${state.limits.maxAliases} aliases; write the values out`);
    const target = node.resolve(state.doc);
    if (target === undefined) throw fail(`unknown alias *${node.source.slice(0, 40)}`);
    return walk(target, path, state, depth + 1);
  }
  if (isScalar(node)) return scalarValue(node.value, node.source, node.type, fail);
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = keyText(pair.key as Node | null);
      if (key === null) throw fail('every key must be plain text or a number');
      if (Object.hasOwn(out, key))
        throw state.invalid([...path, key], 'duplicate key', lineOfNode(pair.key as Node, state));
      // A key named "__proto__" stays an ordinary (and then unknown) field.
      setOwnField(out, key, walk(pair.value as Node | null, [...path, key], state, depth + 1));
    }
    return out;
  }
  if (isSeq(node))
    return node.items.map((item, i) => walk(item as Node | null, [...path, i], state, depth + 1));
  throw fail('unsupported YAML node');
}

/**
 * A key as text: a string, or a plain number exactly as written (`42161:` is the key "42161",
 * `042:` the key "042"), for the schema to judge. Other keys (true, null, lists…) are refused.
 */
function keyText(node: Node | null): string | null {
  if (!isScalar(node) || typeof node.tag === 'string') return null;
  if (typeof node.value === 'string') return node.value;
  if (typeof node.value === 'number' && node.type === 'PLAIN' && typeof node.source === 'string')
    return node.source;
  return null;
}

function scalarValue(
  value: unknown,
  source: string | undefined,
  type: string | undefined,
  fail: (message: string) => Error,
): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    const text = source ?? String(value);
    if (type !== 'PLAIN' || !PLAIN_INTEGER.test(text) || !Number.isSafeInteger(value))
      throw fail(
        `number ${text.slice(0, 40)} is not a plain whole number; write whole numbers as digits, never with exponents, fractions, hex or octal`,
      );
    return value;
  }
  throw fail('unsupported value');
}
