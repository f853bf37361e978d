/**
 * The policy document as written (snake_case, amounts as decimal strings or safe integers), checked
 * with zod. Every object is strict: an unknown field is an error, never ignored. The schema is
 * assembled from a language's vocabularies: the protocol and action enums, `match` with exactly
 * the facets declared, rules with exactly the caps declared. `jsonSchema` publishes the same shape
 * as JSON Schema for editors and other tools.
 */
import { z } from 'zod';
import { BASE_UNITS_PATTERN } from '../core/validate.ts';
import { DURATION_PATTERN, parseDuration, parseWindow, WINDOW_PATTERN } from './duration.ts';
import type { CapVocabulary, FacetVocabulary, ProtocolVocabulary } from './vocabulary.ts';

/** A bad input as an error message shows it; modules use it in their facets' item messages. */
export const showInput = (input: unknown): string => {
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  if (typeof input === 'number' || typeof input === 'boolean' || input === null) return String(input);
  return Array.isArray(input) ? 'a list' : typeof input === 'object' ? 'an object' : typeof input;
};

/** A text facet's item: one of `values`; anything else is "bad <what> …; one of …" (all of them). */
export function oneOfItem<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (iss) => `bad ${what} ${showInput(iss.input)}; one of ${values.join(', ')}`,
  });
}

const AMOUNT_HELP = 'write a whole number of base units as digits, e.g. "1000000"';

function amountSchemaNaming(baseUnits: readonly string[]) {
  const examples = baseUnits.length > 0 ? ` (${[...baseUnits, '…'].join(', ')})` : '';
  return z
    .union([
      z.string().regex(BASE_UNITS_PATTERN, {
        error: (iss) => `amount ${showInput(iss.input)} is not a whole number of base units; ${AMOUNT_HELP}`,
      }),
      z
        .number({ error: (iss) => `expected an amount, got ${showInput(iss.input)}; ${AMOUNT_HELP}` })
        .int({ error: (iss) => `amount ${showInput(iss.input)} is not a safe whole number; ${AMOUNT_HELP}` })
        .min(0, { error: (iss) => `amount ${showInput(iss.input)} is negative; ${AMOUNT_HELP}` }),
    ])
    .describe(`Whole number of base units${examples}: a decimal string or a safe integer.`);
}

const durationSchema = z
  .string({
    error: (iss) => `expected a duration like "30s", "15m", "24h", "7d" or "2w", got ${showInput(iss.input)}`,
  })
  .regex(DURATION_PATTERN, {
    error: (iss) => `bad duration ${showInput(iss.input)}; use e.g. "30s", "15m", "24h", "7d"`,
  })
  .refine((s) => parseDuration(s) !== null, { error: 'duration too long (at most 3650d)' })
  .describe('A positive whole number followed by s, m, h, d or w.');

const windowSchema = z
  .string({
    error: (iss) =>
      `expected a window like "1h", "24h", "day", "week" or "month", got ${showInput(iss.input)}`,
  })
  .regex(WINDOW_PATTERN, { error: (iss) => `unknown window ${showInput(iss.input)}` })
  .refine((s) => parseWindow(s) !== null, { error: 'window too long (at most 3650d)' })
  .describe(
    'A rolling duration (30s, 15m, 1h, 24h, 7d, 2w) or a UTC calendar window: day, week (ISO), month.',
  );

function oneOrMany<T extends z.ZodType>(item: T, what: string) {
  return z.union(
    [
      item,
      z
        .array(item)
        .min(1, { error: `an empty list of ${what} matches nothing` })
        .max(10_000),
    ],
    {
      error: (iss) => `expected ${what} or a list of them, got ${showInput(iss.input)}`,
    },
  );
}

const destinationSchema = z
  .string({ error: (iss) => `expected a destination string, got ${showInput(iss.input)}` })
  .regex(/^\S{1,256}$/, { error: (iss) => `bad destination ${showInput(iss.input)}` });
const riskScoreSchema = z
  .int()
  .min(1)
  .max(16)
  .describe('Highest acceptable risk score (severity × likelihood, 1..16).');
const destinationList = z.array(destinationSchema).max(10_000);
const newDestinationSchema = z
  .enum(['allow', 'hold'])
  .describe('hold: a destination never paid before needs an operator approval.');

/** Refinements may run on values whose own checks failed: convert defensively. */
function bigOrNull(v: unknown): bigint | null {
  if (typeof v === 'string' && BASE_UNITS_PATTERN.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return null;
}

/** Amounts as a document writes them; a facet condition as one item or a list. */
export type AmountDocument = string | number;
type OneOrMany<T> = T | T[];

export interface MatchDocument {
  protocol?: OneOrMany<string>;
  action?: OneOrMany<string>;
  asset?: OneOrMany<string>;
  destination?: OneOrMany<string>;
  amount?: { min?: AmountDocument; max?: AmountDocument };
  /** The facets the language declares (`match.<facet>`): one item or a list of them. */
  [facet: string]: unknown;
}

export interface LimitDocument {
  window: string;
  max_value?: AmountDocument;
  max_count?: number;
  per_destination?: boolean;
}

export interface RuleDocument {
  id: string;
  description?: string;
  match?: MatchDocument;
  effect: 'allow' | 'deny' | 'hold';
  approvals?: number;
  delay?: string;
  max_per_tx?: AmountDocument;
  limits?: LimitDocument[];
  allowlist?: string[];
  denylist?: string[];
  new_destination?: 'allow' | 'hold';
  risk?: { max_score: number };
  /** The caps the language declares (`max_<quantity>`), amounts. */
  [cap: string]: unknown;
}

export interface PolicyDocument {
  version: 1;
  name: string;
  description?: string;
  risk?: { tolerance?: 'low' | 'medium' | 'high'; max_score?: number };
  destinations?: { allow?: string[]; deny?: string[] };
  new_destination?: 'allow' | 'hold';
  rules: RuleDocument[];
}

/** What the document schema is built from (language.ts checks it first: names unique, none reserved). */
export interface SchemaParts {
  readonly protocols: readonly ProtocolVocabulary[];
  readonly facets: readonly FacetVocabulary[];
  readonly caps: readonly CapVocabulary[];
}

function nonEmpty(values: readonly string[]): [string, ...string[]] {
  const [first, ...rest] = values;
  if (first === undefined) throw new Error('policy language: an enum needs at least one value');
  return [first, ...rest];
}

/** The document schema of a language: strict at every level, in the order documents are written. */
export function documentSchema(parts: SchemaParts): z.ZodType<PolicyDocument> {
  const protocolNames = parts.protocols.map((p) => p.name);
  const actionNames = [...new Set(parts.protocols.flatMap((p) => p.actions.map((a) => a.name)))];
  const baseUnits = [...new Set(parts.protocols.flatMap((p) => p.baseUnits ?? []))].sort();
  const amountSchema = amountSchemaNaming(baseUnits);

  const amountRangeSchema = z
    .strictObject({ min: amountSchema.optional(), max: amountSchema.optional() })
    .superRefine((v, ctx) => {
      if (v.min === undefined && v.max === undefined) {
        ctx.addIssue({ code: 'custom', message: 'give min, max or both' });
        return;
      }
      const min = bigOrNull(v.min);
      const max = bigOrNull(v.max);
      if (min !== null && max !== null && min > max) {
        ctx.addIssue({ code: 'custom', message: 'min is above max, so nothing can match', path: ['min'] });
      }
    });

  const facetShape = Object.fromEntries(
    parts.facets.map((f) => [f.name, oneOrMany(f.item, f.plural).optional()]),
  );
  const matchSchema = z.strictObject({
    protocol: oneOrMany(
      z.enum(nonEmpty(protocolNames)),
      `protocols (${protocolNames.join(', ')})`,
    ).optional(),
    action: oneOrMany(z.enum(nonEmpty(actionNames)), `actions (${actionNames.join(', ')})`).optional(),
    asset: oneOrMany(z.string().min(1).max(200), 'assets').optional(),
    destination: oneOrMany(destinationSchema, 'destinations').optional(),
    amount: amountRangeSchema.optional(),
    ...facetShape,
  });

  const limitSchema = z
    .strictObject({
      window: windowSchema,
      max_value: amountSchema.optional(),
      max_count: z.int().min(0).optional(),
      per_destination: z.boolean().optional(),
    })
    .superRefine((v, ctx) => {
      if (v.max_value === undefined && v.max_count === undefined) {
        ctx.addIssue({ code: 'custom', message: 'a limit needs max_value, max_count or both' });
      }
    });

  // A relative cap's value is a ratio, read like an amount (a whole number) but said as one.
  const capShape = Object.fromEntries(
    parts.caps.map((c) => [
      c.name,
      (c.relative === undefined
        ? amountSchema
        : amountSchema.describe(
            `Whole number: the cap in 1/${c.relative.scale} of ${c.relative.referenceWords} (${c.relative.formatValue(c.relative.scale)} = all of it)${c.relative.reference === 'amount' ? '' : `; denied when ${c.relative.referenceWords} is unknown`}.`,
          )
      ).optional(),
    ]),
  );
  const ruleSchema = z
    .strictObject({
      id: z
        .string({ error: (iss) => `expected a rule id, got ${showInput(iss.input)}` })
        .regex(/^[a-z0-9_-]{1,64}$/, {
          error: (iss) => `bad rule id ${showInput(iss.input)}; use 1 to 64 of a-z 0-9 _ -`,
        }),
      description: z.string().max(2000).optional(),
      match: matchSchema.optional(),
      effect: z.enum(['allow', 'deny', 'hold']),
      approvals: z.int().min(1).max(100).optional(),
      delay: durationSchema.optional(),
      max_per_tx: amountSchema.optional(),
      ...capShape,
      limits: z.array(limitSchema).max(100).optional(),
      allowlist: destinationList.optional(),
      denylist: destinationList.optional(),
      new_destination: newDestinationSchema.optional(),
      risk: z.strictObject({ max_score: riskScoreSchema }).optional(),
    })
    .superRefine((rule, ctx) => {
      if (rule.effect !== 'hold') {
        for (const key of ['approvals', 'delay'] as const) {
          if (rule[key] !== undefined) {
            ctx.addIssue({
              code: 'custom',
              message: `only a rule with effect hold takes ${key}`,
              path: [key],
            });
          }
        }
      }
    });

  const schema = z
    .strictObject({
      version: z.literal(1, {
        error: (iss) => `unsupported version ${showInput(iss.input)}; this Warden reads version 1`,
      }),
      name: z.string().min(1).max(128),
      description: z.string().max(4000).optional(),
      risk: z
        .strictObject({
          tolerance: z.enum(['low', 'medium', 'high']).optional(),
          max_score: riskScoreSchema.optional(),
        })
        .optional(),
      destinations: z
        .strictObject({ allow: destinationList.optional(), deny: destinationList.optional() })
        .optional(),
      new_destination: newDestinationSchema.optional(),
      rules: z.array(ruleSchema).min(1, { error: 'a policy needs at least one rule' }).max(1000),
    })
    .superRefine((doc, ctx) => {
      const seen = new Set<string>();
      if (!Array.isArray(doc.rules)) return;
      doc.rules.forEach((rule, i) => {
        if (typeof rule?.id !== 'string') return;
        if (seen.has(rule.id)) {
          ctx.addIssue({
            code: 'custom',
            message: `duplicate rule id "${rule.id}"`,
            path: ['rules', i, 'id'],
          });
        }
        seen.add(rule.id);
      });
    });
  // The facets and caps are known only at run time, so zod cannot infer them; the schema checks
  // exactly the shape PolicyDocument describes (its index signatures are those declared keys).
  return schema as unknown as z.ZodType<PolicyDocument>;
}

/** The document shape as JSON Schema (draft 2020-12). */
export function documentJsonSchema(schema: z.ZodType<PolicyDocument>): Record<string, unknown> {
  return {
    ...z.toJSONSchema(schema),
    title: 'Warden policy',
    description: 'Ordered rules that allow, hold or deny what agents ask Warden to sign, pay or publish.',
  };
}
