/**
 * The one policy language Warden reads, built from the vocabularies of its protocol modules, and
 * the ready-made policies put together from the modules' template fragments. Adding a protocol:
 * its src/protocols/<name>/policy.ts, one line in VOCABULARIES, and its fragments below.
 */
import { createPolicyLanguage, type PolicyLanguage, type TemplateFragments } from '../policy/index.ts';
import { BITCOIN_TEMPLATE_RULES, BITCOIN_VOCABULARY } from './bitcoin/policy.ts';
import { EVM_TEMPLATE_RULES, EVM_VOCABULARY } from './evm/policy.ts';
import { LIGHTNING_TEMPLATE_RULES, LIGHTNING_VOCABULARY } from './lightning/policy.ts';
import { NOSTR_TEMPLATE_RULES, NOSTR_VOCABULARY } from './nostr/policy.ts';

/** The order is the documents' contract: enum order in errors, facet order of checks and explanations. */
const VOCABULARIES = [NOSTR_VOCABULARY, EVM_VOCABULARY, BITCOIN_VOCABULARY, LIGHTNING_VOCABULARY];

export const POLICY_LANGUAGE: PolicyLanguage = createPolicyLanguage(VOCABULARIES);

/** The order the modules' rules appear in a template, each module's block apart from the next. */
const FRAGMENTS: readonly TemplateFragments[] = [
  BITCOIN_TEMPLATE_RULES,
  LIGHTNING_TEMPLATE_RULES,
  NOSTR_TEMPLATE_RULES,
  EVM_TEMPLATE_RULES,
];

function fragments(template: string): string[] {
  return FRAGMENTS.flatMap((f) => (Object.hasOwn(f, template) ? [f[template] ?? ''] : []));
}

/** Protocols that move value: what `nostr-only` denies outright. */
const PAYING = [BITCOIN_VOCABULARY, LIGHTNING_VOCABULARY, EVM_VOCABULARY].map((v) => v.name);

/** The numbers of the security guidelines, per protocol. */
const GUIDELINES_DEFAULT = `# Warden policy: the defaults of the security guidelines (docs/policy.md explains every field).
version: 1
name: guidelines-default
description: Defaults of the security guidelines for Bitcoin, Lightning, Nostr and EVM
risk:
  # The risk catalog scores a Lightning hot wallet at 8 and Nostr key theft at 6 or more, so the
  # medium tolerance (6) would deny nearly every payment and signature; high (12) denies the
  # critical combinations only. Lower it when the catalog and monitors allow.
  tolerance: high
new_destination: allow
rules:
${fragments('guidelines-default').join('\n')}`;

/** Signs Nostr events and pays nothing. */
const NOSTR_ONLY = `# Warden policy: Nostr signing only; nothing is paid or sent.
version: 1
name: nostr-only
description: Signs Nostr events; every payment is denied
risk:
  tolerance: high
rules:
  - id: no-payments
    description: this identity never pays or sends value
    match: { protocol: [${PAYING.join(', ')}] }
    effect: deny
${fragments('nostr-only').join('\n')}`;

/** The seed's spending tiers over a single-key hot account and a 2-of-3 (Bitcoin only). */
const BITCOIN_TIERS = `# Warden policy: Bitcoin spending tiers over a hot account and a 2-of-3 (docs/policy.md).
version: 1
name: bitcoin-tiers
description: Small payments from the single-key hot account, the rest from the 2-of-3, large ones after approval and a delay
risk:
  tolerance: high
rules:
${fragments('bitcoin-tiers').join('\n')}`;

const DENY_ALL = `# Warden policy: nothing is signed, paid or published.
version: 1
name: deny-all
description: Refuses every request
rules:
  - id: deny-everything
    description: nothing is allowed
    effect: deny
`;

/** Ready-made policy documents (YAML); each parses and explains (test/policy/compat.test.ts pins their text). */
export const POLICY_TEMPLATES: Readonly<Record<string, string>> = Object.freeze({
  'guidelines-default': GUIDELINES_DEFAULT,
  'nostr-only': NOSTR_ONLY,
  'bitcoin-tiers': BITCOIN_TIERS,
  'deny-all': DENY_ALL,
});
