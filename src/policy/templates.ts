/**
 * Ready-made policy documents (YAML). `guidelines-default` carries the numbers of the security
 * guidelines; `nostr-only` signs Nostr events and pays nothing; `deny-all` refuses everything.
 * Each one parses and explains (test/policy/templates.test.ts).
 */
import { SENSITIVE_NOSTR_KINDS } from '../protocols/nostr/kinds.ts';

/**
 * The rule both Nostr templates share: every sensitive kind (protocols/nostr/kinds.ts, the one list)
 * is held for an operator, each written on its own line with its reason so the document a user
 * gets explains itself.
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
  # Bitcoin and Lightning: asset btc, amounts in sat.
  - id: btc-limits
    description: every Bitcoin and Lightning payment counts against these caps
    match: { protocol: [bitcoin, lightning], asset: btc }
    effect: allow
    max_per_tx: 5000000 # 0.05 BTC per transaction
    limits:
      - { window: 24h, max_value: 10000000 } # 0.1 BTC per rolling 24 hours
      - { window: 1h, max_count: 10 } # 10 transactions per rolling hour
  - id: btc-small
    description: below 1,000 sat no approval is needed
    match: { protocol: [bitcoin, lightning], asset: btc, amount: { max: 999 } }
    effect: allow
    limits:
      # 100,000 sat per rolling hour for the payments that need no delay. Larger payments wait
      # 24 hours anyway and are bounded by the 24 h cap of btc-limits.
      - &btc-hourly-value { window: 1h, max_value: 100000 }
  - id: btc-medium
    description: 1,000 to 100,000 sat need an operator's approval
    match: { protocol: [bitcoin, lightning], asset: btc, amount: { min: 1000, max: 100000 } }
    effect: hold
    approvals: 1
    limits: [*btc-hourly-value]
  - id: btc-large
    description: above 100,000 sat need an operator's approval and a 24 hour delay
    match: { protocol: [bitcoin, lightning], asset: btc, amount: { min: 100001 } }
    effect: hold
    approvals: 1
    delay: 24h

${NOSTR_SENSITIVE_RULE}  - id: nostr-sign
    description: other events are signed without approval
    match: { protocol: nostr, action: sign_event }
    effect: allow
    limits:
      - { window: 1h, max_count: 100 } # 100 signatures per rolling hour

  # EVM: native ETH on Arbitrum One, Ethereum, OP Mainnet and Base. Other chains, tokens and
  # contract calls match no rule and are denied.
  - id: evm-native
    description: native ETH sends on allowed chains
    match:
      protocol: evm
      action: send
      chain_id: [42161, 1, 10, 8453]
      asset: ["evm:42161", "evm:1", "evm:10", "evm:8453"]
    effect: allow
    max_per_tx: "50000000000000000" # 0.05 ETH per transaction
    max_fee_per_gas: "200000000000" # 200 gwei
    new_destination: hold # a first payment to an address needs an operator's approval
    limits:
      - { window: 24h, max_value: "200000000000000000" } # 0.2 ETH per rolling 24 hours, per chain
      - { window: 1h, max_count: 10 }
`;

const NOSTR_ONLY = `# Warden policy: Nostr signing only; nothing is paid or sent.
version: 1
name: nostr-only
description: Signs Nostr events; every payment is denied
risk:
  tolerance: high
rules:
  - id: no-payments
    description: this identity never pays or sends value
    match: { protocol: [bitcoin, lightning, evm] }
    effect: deny
${NOSTR_SENSITIVE_RULE}  - id: nostr-sign
    description: other events are signed without approval
    match: { protocol: nostr, action: sign_event }
    effect: allow
    limits:
      - { window: 1h, max_count: 100 }
      - { window: day, max_count: 1000 }
`;

const DENY_ALL = `# Warden policy: nothing is signed, paid or published.
version: 1
name: deny-all
description: Refuses every request
rules:
  - id: deny-everything
    description: nothing is allowed
    effect: deny
`;

export const POLICY_TEMPLATES: Readonly<Record<string, string>> = Object.freeze({
  'guidelines-default': GUIDELINES_DEFAULT,
  'nostr-only': NOSTR_ONLY,
  'deny-all': DENY_ALL,
});
