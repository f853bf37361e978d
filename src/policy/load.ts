/**
 * Turns policy text (YAML or JSON) into plain data, refusing anything a policy has no use for and an
 * attacker might: documents over 256 KiB, YAML tags (custom or not), merge keys, several documents in
 * one stream, duplicate keys, numbers written as exponents, fractions, hex or octal, and alias
 * expansion beyond a small budget (the "billion laughs"). JSON goes through the same walk after a
 * strict JSON.parse, so both formats get the same checks and error paths.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  type Document as YamlDocument,
} from 'yaml';
import { setOwnField } from '../core/own-field.ts';
import { type PathSegment, policyInvalid } from './invalid.ts';

export const MAX_POLICY_BYTES = 256 * 1024;
/** Alias nodes a document may use (the yaml library's `maxAliasCount` idea, applied by our walk). */
export const MAX_ALIAS_COUNT = 64;
/** Nodes produced after alias expansion; a real policy has a few hundred. */
export const MAX_NODES = 100_000;
export const MAX_DEPTH = 32;

const PLAIN_INTEGER = /^-?(0|[1-9][0-9]*)$/;

export type PolicyFormat = 'yaml' | 'json';

interface WalkState {
  doc: YamlDocument.Parsed;
  aliases: number;
  nodes: number;
}

export function detectFormat(text: string): PolicyFormat {
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

export function loadPolicyText(text: string, format: PolicyFormat = detectFormat(text)): unknown {
  if (typeof text !== 'string') throw policyInvalid([], 'policy text must be a string');
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_POLICY_BYTES) {
    throw policyInvalid([], `document is ${bytes} bytes; the limit is ${MAX_POLICY_BYTES} (256 KiB)`);
  }
  if (format === 'json') {
    try {
      JSON.parse(text);
    } catch (err) {
      const detail = err instanceof SyntaxError ? err.message.split('\n')[0] : 'syntax error';
      throw policyInvalid([], `not valid JSON: ${detail}`);
    }
  }
  const doc = parseDocument(text, {
    version: '1.2',
    schema: format === 'json' ? 'json' : 'core',
    merge: false,
    uniqueKeys: false, // checked by the walk, which knows the path
    strict: true,
    prettyErrors: true,
    keepSourceTokens: false,
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const pos = problem.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const first = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw policyInvalid([], `${format === 'json' ? 'JSON' : 'YAML'} error${where}: ${first}`);
  }
  return walk(doc.contents, [], { doc, aliases: 0, nodes: 0 }, 0);
}

function walk(node: Node | null, path: PathSegment[], state: WalkState, depth: number): unknown {
  state.nodes += 1;
  if (state.nodes > MAX_NODES) throw policyInvalid(path, `document expands to more than ${MAX_NODES} values`);
  if (depth > MAX_DEPTH) throw policyInvalid(path, `nested more than ${MAX_DEPTH} levels deep`);
  if (node === null || node === undefined) return null;
  if (typeof node.tag === 'string') throw policyInvalid(path, `YAML tags are not allowed (${node.tag})`);
  if (isAlias(node)) {
    state.aliases += 1;
    if (state.aliases > MAX_ALIAS_COUNT) {
      throw policyInvalid(path, `more than ${MAX_ALIAS_COUNT} aliases (maxAliasCount)`);
    }
    const target = node.resolve(state.doc);
    if (target === undefined) throw policyInvalid(path, `unknown alias *${node.source}`);
    return walk(target, path, state, depth + 1);
  }
  if (isScalar(node)) return scalarValue(node.value, node.source, node.type, path);
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string' || typeof keyNode.tag === 'string') {
        throw policyInvalid(path, 'every key must be plain text');
      }
      const key = keyNode.value;
      if (Object.hasOwn(out, key)) throw policyInvalid([...path, key], 'duplicate key');
      // A key named "__proto__" stays an ordinary (and then unknown) field.
      setOwnField(out, key, walk(pair.value as Node | null, [...path, key], state, depth + 1));
    }
    return out;
  }
  if (isSeq(node)) {
    return node.items.map((item, i) => walk(item as Node | null, [...path, i], state, depth + 1));
  }
  throw policyInvalid(path, 'unsupported YAML node');
}

function scalarValue(
  value: unknown,
  source: string | undefined,
  type: string | undefined,
  path: PathSegment[],
) {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    const text = source ?? String(value);
    if (type !== 'PLAIN' || !PLAIN_INTEGER.test(text)) {
      throw policyInvalid(
        path,
        `number ${text.slice(0, 40)} is not a plain whole number; write whole numbers as digits (amounts may also be decimal strings, e.g. "1000000"), never with exponents, fractions, hex or octal`,
      );
    }
    return value;
  }
  throw policyInvalid(path, 'unsupported value');
}
