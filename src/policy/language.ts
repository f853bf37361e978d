/**
 * A policy language: the document schema, parser, words and explanation assembled from the
 * vocabularies the protocol modules declare (vocabulary.ts). policy/ knows no protocol; the one
 * language Warden reads is built in src/protocols/policy-language.ts.
 */
import { WardenError } from '../core/errors.ts';
import { WINDOW_PATTERN } from './duration.ts';
import { explainPolicy } from './explain.ts';
import type { PolicyFormat } from './load.ts';
import { type Grammar, parsePolicyIn, policyFromDataIn } from './parse.ts';
import { documentJsonSchema, documentSchema } from './schema.ts';
import type { OptInFacet, Policy } from './types.ts';
import type { CapVocabulary, FacetVocabulary, ProtocolVocabulary, RelativeCap } from './vocabulary.ts';
import { type PolicyWords, wordsOf } from './words.ts';

export interface PolicyLanguage {
  /** The vocabularies, in the order given: the order of enums, checks and explanations. */
  readonly protocols: readonly ProtocolVocabulary[];
  readonly words: PolicyWords;
  /** Text (YAML or JSON; guessed from the first character when `format` is absent) → Policy. */
  parse(text: string, format?: PolicyFormat): Policy;
  /** Already-parsed data (e.g. a policy stored as JSON), with the same validation. */
  fromData(data: unknown): Policy;
  /** The policy in sentences (explainPolicy; the words travel with the policy). */
  explain(policy: Policy): string[];
  /** The document shape as JSON Schema (draft 2020-12). */
  jsonSchema(): Record<string, unknown>;
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** Keys `match` has whatever the modules declare. */
const MATCH_KEYS = new Set(['protocol', 'action', 'asset', 'destination', 'amount']);
/** Keys a rule has whatever the modules declare. */
const RULE_KEYS = new Set([
  'id',
  'description',
  'match',
  'effect',
  'approvals',
  'delay',
  'max_per_tx',
  'limits',
  'allowlist',
  'denylist',
  'new_destination',
  'risk',
]);

function refuse(message: string): never {
  throw new WardenError('INVALID_ARGUMENT', `policy language: ${message}`);
}

function claim(seen: Map<string, string>, name: string, owner: string, what: string): void {
  if (!NAME.test(name))
    refuse(`${owner}: ${what} "${name}" must be 1 to 64 of a-z 0-9 _, starting with a letter`);
  const before = seen.get(name);
  if (before !== undefined) refuse(`${owner}: ${what} "${name}" is already declared by ${before}`);
  seen.set(name, owner);
}

/**
 * Names are the document's keys and the intent's facet names, so they must be unique across
 * modules (facets and caps alike) and leave the keys every policy has alone; a cap also must not
 * read as a window label, which is how its limit check is named.
 */
function check(vocabularies: readonly ProtocolVocabulary[]): void {
  if (vocabularies.length === 0) refuse('needs at least one protocol');
  const protocols = new Map<string, string>();
  const facets = new Map<string, string>([...MATCH_KEYS].map((k) => [k, 'every policy']));
  const caps = new Map<string, string>([...RULE_KEYS].map((k) => [k, 'every policy']));
  for (const v of vocabularies) {
    claim(protocols, v.name, 'the language', 'protocol');
    if (v.actions.length === 0) refuse(`${v.name}: declares no action`);
    for (const a of v.actions) if (!NAME.test(a.name)) refuse(`${v.name}: bad action name "${a.name}"`);
    for (const f of v.facets ?? []) {
      claim(facets, f.name, v.name, 'facet');
      checkOptIn(v.name, f);
    }
    for (const c of v.caps ?? []) {
      claim(caps, c.name, v.name, 'cap');
      // A plain cap reads the intent's facet of its name, which must then be no match facet's; a
      // relative cap reads the facets it names (which other caps may read too).
      if (c.relative === undefined) claim(facets, c.name, v.name, 'cap');
      else checkRelative(v.name, c.name, c.relative);
      if (WINDOW_PATTERN.test(c.name)) refuse(`${v.name}: cap "${c.name}" reads like a window`);
    }
  }
}

function checkRelative(owner: string, name: string, r: RelativeCap): void {
  const read = [r.facet, ...(r.reference === 'amount' ? [] : [r.reference.facet])];
  for (const facet of read) {
    if (!NAME.test(facet)) refuse(`${owner}: cap ${name} reads a badly named facet "${facet}"`);
    if (MATCH_KEYS.has(facet)) refuse(`${owner}: cap ${name} reads "${facet}", a key of every policy`);
  }
  if (typeof r.scale !== 'bigint' || r.scale <= 0n) refuse(`${owner}: cap ${name} needs a positive scale`);
}

function checkOptIn(owner: string, f: FacetVocabulary): void {
  if (f.optIn === undefined || f.optIn === 'every value') return;
  if (f.optIn.length === 0) refuse(`${owner}: facet ${f.name} lists no opt-in value`);
  for (const value of f.optIn) {
    const normal = f.lowerCase === true && typeof value === 'string' ? value.toLowerCase() : value;
    if (!f.item.safeParse(value).success || normal !== value) {
      refuse(`${owner}: opt-in value ${String(value)} of facet ${f.name} is not a valid item in normal form`);
    }
  }
}

/** A frozen copy down to each declaration (not into zod schemas): a module changing its objects later changes no language. */
function snapshot(v: ProtocolVocabulary): ProtocolVocabulary {
  return Object.freeze({
    ...v,
    actions: Object.freeze(v.actions.map((a) => Object.freeze({ ...a }))),
    facets: Object.freeze(
      (v.facets ?? []).map((f) =>
        Object.freeze(Array.isArray(f.optIn) ? { ...f, optIn: Object.freeze([...f.optIn]) } : { ...f }),
      ),
    ),
    caps: Object.freeze(
      (v.caps ?? []).map((c) =>
        Object.freeze(
          c.relative === undefined ? { ...c } : { ...c, relative: Object.freeze({ ...c.relative }) },
        ),
      ),
    ),
  });
}

export function createPolicyLanguage(vocabularies: readonly ProtocolVocabulary[]): PolicyLanguage {
  check(vocabularies);
  const protocols = Object.freeze(vocabularies.map(snapshot));
  const facets: readonly FacetVocabulary[] = protocols.flatMap((v) => v.facets ?? []);
  const caps: readonly CapVocabulary[] = protocols.flatMap((v) => v.caps ?? []);
  const optIn: readonly OptInFacet[] = Object.freeze(
    facets.flatMap((f) =>
      f.optIn === undefined
        ? []
        : [
            Object.freeze({
              facet: f.name,
              type: f.type,
              lowerCase: f.lowerCase === true,
              label: f.label,
              values: f.optIn === 'every value' ? f.optIn : Object.freeze([...f.optIn]),
            }),
          ],
    ),
  );
  const schema = documentSchema({ protocols, facets, caps });
  const grammar: Grammar = { schema, facets, caps, optIn, words: wordsOf(protocols) };
  return Object.freeze({
    protocols,
    words: grammar.words,
    parse: (text: string, format?: PolicyFormat) => parsePolicyIn(grammar, text, format),
    fromData: (data: unknown) => policyFromDataIn(grammar, data),
    explain: explainPolicy,
    jsonSchema: () => documentJsonSchema(schema),
  });
}
