/**
 * The policy document as written (snake_case, amounts as decimal strings or safe integers), checked
 * with zod. Every object is strict: an unknown field is an error, never ignored. `policyJsonSchema()`
 * publishes the same shape as JSON Schema for editors and other tools.
 */
import { z } from 'zod';
import { BASE_UNITS_PATTERN } from '../core/validate.ts';
import { DURATION_PATTERN, parseDuration, parseWindow, WINDOW_PATTERN } from './duration.ts';

const show = (input: unknown): string => {
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  if (typeof input === 'number' || typeof input === 'boolean' || input === null) return String(input);
  return Array.isArray(input) ? 'a list' : typeof input === 'object' ? 'an object' : typeof input;
};

const AMOUNT_HELP = 'write a whole number of base units as digits, e.g. "1000000"';

export const amountSchema = z
  .union([
    z.string().regex(BASE_UNITS_PATTERN, {
      error: (iss) => `amount ${show(iss.input)} is not a whole number of base units; ${AMOUNT_HELP}`,
    }),
    z
      .number({ error: (iss) => `expected an amount, got ${show(iss.input)}; ${AMOUNT_HELP}` })
      .int({ error: (iss) => `amount ${show(iss.input)} is not a safe whole number; ${AMOUNT_HELP}` })
      .min(0, { error: (iss) => `amount ${show(iss.input)} is negative; ${AMOUNT_HELP}` }),
  ])
  .describe('Whole number of base units (sat, wei, …): a decimal string or a safe integer.');

const durationSchema = z
  .string({
    error: (iss) => `expected a duration like "30s", "15m", "24h", "7d" or "2w", got ${show(iss.input)}`,
  })
  .regex(DURATION_PATTERN, {
    error: (iss) => `bad duration ${show(iss.input)}; use e.g. "30s", "15m", "24h", "7d"`,
  })
  .refine((s) => parseDuration(s) !== null, { error: 'duration too long (at most 3650d)' })
  .describe('A positive whole number followed by s, m, h, d or w.');

const windowSchema = z
  .string({
    error: (iss) => `expected a window like "1h", "24h", "day", "week" or "month", got ${show(iss.input)}`,
  })
  .regex(WINDOW_PATTERN, { error: (iss) => `unknown window ${show(iss.input)}` })
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
      error: (iss) => `expected ${what} or a list of them, got ${show(iss.input)}`,
    },
  );
}

const protocolSchema = z.enum(['nostr', 'evm', 'bitcoin', 'lightning']);
const actionSchema = z.enum(['sign_event', 'send', 'call', 'pay']);
const destinationSchema = z
  .string({ error: (iss) => `expected a destination string, got ${show(iss.input)}` })
  .regex(/^\S{1,256}$/, { error: (iss) => `bad destination ${show(iss.input)}` });
const addressSchema = z
  .string({ error: (iss) => `expected a 0x address, got ${show(iss.input)}` })
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: (iss) => `bad contract address ${show(iss.input)}` });
const selectorSchema = z
  .string({ error: (iss) => `expected a function selector, got ${show(iss.input)}` })
  .regex(/^0x[0-9a-fA-F]{8}$/, {
    error: (iss) => `bad function selector ${show(iss.input)}; write "0x" and 8 hex digits`,
  });
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

const matchSchema = z.strictObject({
  protocol: oneOrMany(protocolSchema, 'protocols (nostr, evm, bitcoin, lightning)').optional(),
  action: oneOrMany(actionSchema, 'actions (sign_event, send, call, pay)').optional(),
  asset: oneOrMany(z.string().min(1).max(200), 'assets').optional(),
  destination: oneOrMany(destinationSchema, 'destinations').optional(),
  amount: amountRangeSchema.optional(),
  kind: oneOrMany(z.int().min(0).max(65_535), 'Nostr kinds').optional(),
  chain_id: oneOrMany(z.int().min(1), 'chain ids').optional(),
  contract: oneOrMany(addressSchema, 'contract addresses').optional(),
  function: oneOrMany(selectorSchema, 'function selectors').optional(),
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

const ruleSchema = z
  .strictObject({
    id: z
      .string({ error: (iss) => `expected a rule id, got ${show(iss.input)}` })
      .regex(/^[a-z0-9_-]{1,64}$/, {
        error: (iss) => `bad rule id ${show(iss.input)}; use 1 to 64 of a-z 0-9 _ -`,
      }),
    description: z.string().max(2000).optional(),
    match: matchSchema.optional(),
    effect: z.enum(['allow', 'deny', 'hold']),
    approvals: z.int().min(1).max(100).optional(),
    delay: durationSchema.optional(),
    max_per_tx: amountSchema.optional(),
    max_fee_per_gas: amountSchema.optional(),
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
          ctx.addIssue({ code: 'custom', message: `only a rule with effect hold takes ${key}`, path: [key] });
        }
      }
    }
  });

export const policyDocumentSchema = z
  .strictObject({
    version: z.literal(1, {
      error: (iss) => `unsupported version ${show(iss.input)}; this Warden reads version 1`,
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
        ctx.addIssue({ code: 'custom', message: `duplicate rule id "${rule.id}"`, path: ['rules', i, 'id'] });
      }
      seen.add(rule.id);
    });
  });

export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
export type RuleDocument = PolicyDocument['rules'][number];
export type LimitDocument = NonNullable<RuleDocument['limits']>[number];
export type MatchDocument = NonNullable<RuleDocument['match']>;

/** The document shape as JSON Schema (draft 2020-12). */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(policyDocumentSchema),
    title: 'Warden policy',
    description: 'Ordered rules that allow, hold or deny what agents ask Warden to sign, pay or publish.',
  };
}
