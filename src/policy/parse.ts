/**
 * Reading a policy in a language: text → validated, normalized, deeply frozen Policy. Every failure
 * is a WardenError with code POLICY_INVALID whose message starts with the path of the problem
 * (`rules[2].limits[0].window: unknown window "2x"`). language.ts binds these to its grammar.
 */
import type { z } from 'zod';
import { isWardenError } from '../core/errors.ts';
import type { IntentAction, Protocol } from '../core/intent.ts';
import { normalizeDestinations } from './destination.ts';
import { parseDuration, parseWindow } from './duration.ts';
import { type PolicyProblem, policyInvalid } from './invalid.ts';
import { loadPolicyText, type PolicyFormat } from './load.ts';
import type { LimitDocument, MatchDocument, PolicyDocument, RuleDocument } from './schema.ts';
import type {
  FacetCondition,
  OptInFacet,
  Policy,
  PolicyLimit,
  PolicyRule,
  RuleCap,
  RuleMatch,
} from './types.ts';
import type { CapVocabulary, FacetItem, FacetVocabulary } from './vocabulary.ts';
import type { PolicyWords } from './words.ts';

/** Everything a language reads documents with. */
export interface Grammar {
  readonly schema: z.ZodType<PolicyDocument>;
  /** In declaration order: the order conditions are checked and explained in. */
  readonly facets: readonly FacetVocabulary[];
  readonly caps: readonly CapVocabulary[];
  readonly optIn: readonly OptInFacet[];
  readonly words: PolicyWords;
}

export function parsePolicyIn(grammar: Grammar, text: string, format?: PolicyFormat): Policy {
  let data: unknown;
  try {
    data = loadPolicyText(text, format);
  } catch (err) {
    if (isWardenError(err)) throw err;
    // A parser failure we did not foresee (e.g. exhausted stack): still a refusal, never a crash.
    throw policyInvalid([], 'document could not be parsed');
  }
  return policyFromDataIn(grammar, data);
}

/** Validates already-parsed data (e.g. a policy stored as JSON in the database). */
export function policyFromDataIn(grammar: Grammar, data: unknown): Policy {
  const result = grammar.schema.safeParse(data);
  if (!result.success) {
    // An unknown field first: a misspelt key also makes the real one look missing.
    const issues = [...result.error.issues].sort(
      (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
    );
    // Every problem, one per unknown key: the first names the error, the rest are listed with it.
    const problems = issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({ path: [...i.path, key], message: 'unknown field' }))
        : [{ path: i.path, message: i.message }],
    );
    const [head, ...rest]: PolicyProblem[] = problems;
    if (head === undefined) throw policyInvalid([], 'invalid policy');
    throw policyInvalid(head.path, head.message, rest);
  }
  return deepFreeze(normalize(grammar, result.data));
}

function list<T>(value: T | readonly T[] | undefined): readonly T[] | null {
  if (value === undefined) return null;
  const items = Array.isArray(value) ? (value as readonly T[]) : [value as T];
  return [...new Set(items)];
}

function lowerList(value: string | readonly string[] | undefined): readonly string[] | null {
  const items = list(value);
  return items === null ? null : [...new Set(items.map((s) => s.toLowerCase()))];
}

function destinationList(value: string | readonly string[] | undefined): readonly string[] | null {
  const items = list(value);
  return items === null ? null : normalizeDestinations(items);
}

const amount = (v: string | number | undefined): bigint | null => (v === undefined ? null : BigInt(v));

/** A declared key of the document: own properties only (a facet named `constructor` finds no Object's). */
function own(doc: object | undefined, key: string): unknown {
  return doc !== undefined && Object.hasOwn(doc, key) ? (doc as Record<string, unknown>)[key] : undefined;
}

function facetCondition(f: FacetVocabulary, value: unknown): FacetCondition | null {
  const items = list(value as FacetItem | readonly FacetItem[] | undefined);
  if (items === null) return null;
  const lowerCase = f.lowerCase === true;
  const values = lowerCase
    ? [...new Set(items.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)))]
    : items;
  return { facet: f.name, type: f.type, lowerCase, label: f.label, missing: f.missing, values };
}

function normalizeMatch(grammar: Grammar, m: MatchDocument | undefined): RuleMatch {
  return {
    protocols: list<Protocol>(m?.protocol),
    actions: list<IntentAction>(m?.action),
    assets: lowerList(m?.asset),
    destinations: destinationList(m?.destination),
    amountMin: amount(m?.amount?.min),
    amountMax: amount(m?.amount?.max),
    facets: grammar.facets.flatMap((f) => facetCondition(f, own(m, f.name)) ?? []),
  };
}

function normalizeCaps(grammar: Grammar, r: RuleDocument): RuleCap[] {
  return grammar.caps.flatMap((c) => {
    const value = own(r, c.name) as string | number | undefined;
    return value === undefined ? [] : [{ name: c.name, max: BigInt(value) }];
  });
}

function normalizeLimit(l: LimitDocument): PolicyLimit {
  const window = parseWindow(l.window);
  if (window === null) throw policyInvalid([], `unknown window "${l.window}"`); // unreachable: schema checked it
  return {
    window,
    maxValue: amount(l.max_value),
    maxCount: l.max_count ?? null,
    perDestination: l.per_destination ?? false,
  };
}

function normalizeRule(grammar: Grammar, r: RuleDocument, index: number): PolicyRule {
  const delayMs = r.delay === undefined ? 0 : (parseDuration(r.delay) ?? 0);
  const approvals = r.effect === 'hold' ? (r.approvals ?? (delayMs > 0 ? 0 : 1)) : 0;
  return {
    id: r.id,
    index,
    description: r.description ?? null,
    match: normalizeMatch(grammar, r.match),
    effect: r.effect,
    approvals,
    delayMs,
    maxPerTx: amount(r.max_per_tx),
    caps: normalizeCaps(grammar, r),
    limits: (r.limits ?? []).map(normalizeLimit),
    allowlist: r.allowlist === undefined ? null : normalizeDestinations(r.allowlist),
    denylist: r.denylist === undefined ? null : normalizeDestinations(r.denylist),
    newDestination: r.new_destination ?? null,
    maxRiskScore: r.risk?.max_score ?? null,
  };
}

function normalize(grammar: Grammar, doc: PolicyDocument): Policy {
  return {
    version: 1,
    name: doc.name,
    description: doc.description ?? null,
    risk: { tolerance: doc.risk?.tolerance ?? 'medium', maxScore: doc.risk?.max_score ?? null },
    destinations: {
      allow: doc.destinations?.allow === undefined ? null : normalizeDestinations(doc.destinations.allow),
      deny: normalizeDestinations(doc.destinations?.deny ?? []),
    },
    newDestination: doc.new_destination ?? 'allow',
    rules: doc.rules.map((r, i) => normalizeRule(grammar, r, i)),
    optIn: grammar.optIn,
    words: grammar.words,
  };
}

/** Freezes the document's data; the words (functions) are frozen by their language already. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
