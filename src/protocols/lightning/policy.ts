/**
 * What policy knows of Lightning: the pay action and amounts of asset `btc` in sat. No facets yet.
 * Its rules in the ready-made policies are Bitcoin's `btc` rules (src/protocols/bitcoin/policy.ts),
 * which match both: the two spend one budget.
 */
import { countedUnit, type ProtocolVocabulary, type TemplateFragments } from '../../policy/index.ts';

/** Shared with Bitcoin by id: a rule over both shows its amounts in sat. */
const SAT = countedUnit('sat');

export const LIGHTNING_VOCABULARY: ProtocolVocabulary = Object.freeze({
  name: 'lightning',
  title: 'Lightning',
  actions: [{ name: 'pay', noun: 'payments' }],
  countNoun: 'transactions',
  unitOf: (asset: string) => (asset === 'btc' ? SAT : null),
  unit: SAT,
  baseUnits: ['sat'],
  describe: (_intent, { amount, to }) => `paying ${amount} over Lightning${to}`,
} satisfies ProtocolVocabulary);

/** None of its own: see above. */
export const LIGHTNING_TEMPLATE_RULES: TemplateFragments = Object.freeze({});
