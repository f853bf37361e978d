/**
 * What policy knows of Lightning: the pay action and amounts of asset `btc` in sat; `receive`
 * (invoices made: asset `btc:invoice`, amount 0) and `read` (invoices looked up, the balance:
 * `btc:invoice`, `btc:balance`), which spend nothing. Its payment rules in the ready-made
 * policies are Bitcoin's `btc` rules (src/protocols/bitcoin/policy.ts), which match both: the two
 * spend one budget. Its own fragment allows the receive side and the reads, at a bounded rate.
 * Its facet `payment` (invoice, keysend: opt-in) lets a policy allow invoices and not keysend.
 */
import {
  countedUnit,
  joinOr,
  oneOfItem,
  type ProtocolVocabulary,
  type TemplateFragments,
} from '../../policy/index.ts';

const PAYMENT_KINDS = ['invoice', 'keysend'] as const;

/** Shared with Bitcoin by id: a rule over both shows its amounts in sat. */
const SAT = countedUnit('sat');

export const LIGHTNING_VOCABULARY: ProtocolVocabulary = Object.freeze({
  name: 'lightning',
  title: 'Lightning',
  actions: [
    { name: 'pay', noun: 'payments' },
    { name: 'receive', noun: 'invoices made' },
    { name: 'read', noun: 'invoice lookups and balance reads' },
  ],
  countNoun: 'transactions',
  facets: [
    {
      // How a payment names its payee: an invoice (the payee asked for it) or keysend (Warden
      // sends to a node id, unasked). Keysend is opt-in: only a rule naming it lets one through,
      // so that a rule written for invoices never pays a node id by accident.
      name: 'payment',
      type: 'text',
      item: oneOfItem(PAYMENT_KINDS, 'Lightning payment kind'),
      plural: 'Lightning payment kinds',
      label: 'Lightning payment',
      missing: 'request is no Lightning payment',
      words: (kinds) => `by ${joinOr(kinds.map(String))}`,
      optIn: ['keysend'],
    },
  ],
  unitOf: (asset: string) => (asset === 'btc' ? SAT : null),
  unit: SAT,
  baseUnits: ['sat'],
  describe: (intent, { amount, to }) =>
    intent.action === 'receive'
      ? 'making a Lightning invoice'
      : intent.action === 'read'
        ? 'reading Lightning invoices or balance'
        : intent.facets.payment === 'keysend'
          ? `paying ${amount} over Lightning by keysend${to}`
          : `paying ${amount} over Lightning${to}`,
} satisfies ProtocolVocabulary);

/** The receive side and the reads move nothing: allowed, a bound on how often. */
const receiveAndReads = (
  id: string,
) => `  # Lightning: invoices and reads (its payments: the btc rules above).
  - id: ${id}
    description: invoices made and looked up, and balance reads, move nothing; a bound on how often
    match: { protocol: lightning, action: [receive, read] }
    effect: allow
    limits:
      - { window: 1h, max_count: 120 }
`;

/** Its payments: Bitcoin's `btc` rules (see above). */
export const LIGHTNING_TEMPLATE_RULES: TemplateFragments = Object.freeze({
  'guidelines-default': receiveAndReads('ln-receive-reads'),
});
