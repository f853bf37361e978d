/**
 * What policy knows of Nostr: the action, how signatures are counted and shown, the `kind` facet
 * (`match.kind`), and Nostr's rules in the ready-made policies.
 */
import { z } from 'zod';
import {
  type AssetUnit,
  BASE_UNITS,
  joinOr,
  type ProtocolVocabulary,
  type TemplateFragments,
} from '../../policy/index.ts';
import { SENSITIVE_NOSTR_KINDS } from './kinds.ts';

/** A signature moves no value: its amount (0) is shown in plain base units, but as its own unit. */
const SIGNATURE: AssetUnit = Object.freeze({ id: 'signature', format: BASE_UNITS.format });

export const NOSTR_VOCABULARY: ProtocolVocabulary = Object.freeze({
  name: 'nostr',
  title: 'Nostr',
  actions: [{ name: 'sign_event', noun: 'event signatures' }],
  countNoun: 'signatures',
  unitOf: (asset: string) => (asset === 'nostr:event' ? SIGNATURE : null),
  unit: SIGNATURE,
  facets: [
    {
      name: 'kind',
      type: 'number',
      item: z.int().min(0).max(65_535),
      plural: 'Nostr kinds',
      label: 'kind',
      missing: 'request has no Nostr kind',
      words: (kinds) => `of kind ${joinOr(kinds.map(String))}`,
      example: true,
    },
  ],
  describe: (intent) =>
    typeof intent.facets.kind === 'number'
      ? `signing a kind-${intent.facets.kind} Nostr event`
      : 'signing a Nostr event',
} satisfies ProtocolVocabulary);

/**
 * The rule both Nostr templates share: every sensitive kind (kinds.ts, the one list) is held for
 * an operator, each written on its own line with its reason so the document a user gets explains
 * itself.
 */
const NOSTR_SENSITIVE_RULE = `  # Nostr: events that log the identity in somewhere, authorize uploads, say where its money or
  # messages go, pay, or rewrite or erase the identity. docs/policy.md lists each kind.
  - id: nostr-sensitive
    description: >-
      logins, upload permissions, payments, and events that say where the identity's money or
      messages go or rewrite or erase it, need an operator's approval
    match:
      protocol: nostr
      action: sign_event
      kind:
${SENSITIVE_NOSTR_KINDS.map((k) => `        - ${k.kind} # ${k.nip} ${k.name}`).join('\n')}
    effect: hold
    approvals: 1
`;

export const NOSTR_TEMPLATE_RULES: TemplateFragments = Object.freeze({
  'guidelines-default': `${NOSTR_SENSITIVE_RULE}  - id: nostr-sign
    description: other events are signed without approval
    match: { protocol: nostr, action: sign_event }
    effect: allow
    limits:
      - { window: 1h, max_count: 100 } # 100 signatures per rolling hour
`,
  'nostr-only': `${NOSTR_SENSITIVE_RULE}  - id: nostr-sign
    description: other events are signed without approval
    match: { protocol: nostr, action: sign_event }
    effect: allow
    limits:
      - { window: 1h, max_count: 100 }
      - { window: day, max_count: 1000 }
`,
});
