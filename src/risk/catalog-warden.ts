import { AMOUNT, type CatalogEntry, DESTINATION, EVM_ANY } from './catalog-types.ts';
import {
  APPROVAL_SELECTORS,
  HTTP_AUTH_KINDS,
  NIP04_DM_KINDS,
  PROFILE_KINDS,
  ZAP_REQUEST_KINDS,
} from './kinds.ts';

/**
 * Warden's own rows (source `warden`): the guideline has no EVM, and says nothing about Nostr event
 * kinds. Numbers are deliberately conservative; each one's reasoning is beside it.
 */
export const WARDEN_ROWS: readonly CatalogEntry[] = [
  // ── Warden's own: Nostr event kinds ─────────────────────────────────────────────────────────────
  {
    id: 'nostr.identity-redirection.profile',
    name: 'Identity redirection (profile, follows, relay and server lists, deletion)',
    category: 'security',
    protocol: 'nostr',
    severity: 3, // High: readers, DMs and tips follow these events
    likelihood: 3, // Possible: one injected prompt is enough
    mitigation:
      'Require operator approval for profile, list, key-package and deletion events; diff them against the current ones',
    source: 'warden',
    appliesTo: [
      { protocol: 'nostr', actions: ['sign_event'], when: [{ type: 'nostr-kind', kinds: PROFILE_KINDS }] },
    ],
  },
  {
    id: 'nostr.identity-redirection.http-auth',
    name: 'Identity redirection (login elsewhere: NIP-42, NIP-98, NIP-46)',
    category: 'security',
    protocol: 'nostr',
    severity: 3, // High: logs the identity in to a service chosen by whoever wrote the request
    likelihood: 3, // Possible
    mitigation:
      'Sign logins only for allowlisted relays, URLs and methods; check the relay, u and method tags',
    source: 'warden',
    appliesTo: [
      { protocol: 'nostr', actions: ['sign_event'], when: [{ type: 'nostr-kind', kinds: HTTP_AUTH_KINDS }] },
    ],
  },
  {
    id: 'nostr.identity-redirection.zap',
    name: 'Identity redirection (money: zaps, nutzaps, Cashu wallet, wallet connect)',
    category: 'security',
    protocol: 'nostr',
    severity: 3, // High: moves money and attributes a tip to the identity
    likelihood: 3, // Possible
    mitigation:
      'Sign money events only to allowlisted recipients, mints and wallets; check the p, amount and mint tags',
    source: 'warden',
    appliesTo: [
      {
        protocol: 'nostr',
        actions: ['sign_event'],
        when: [{ type: 'nostr-kind', kinds: ZAP_REQUEST_KINDS }],
      },
    ],
  },
  {
    id: 'nostr.dm-metadata-nip04',
    name: 'DM metadata exposure (NIP-04)',
    category: 'privacy',
    protocol: 'nostr',
    severity: 2, // Medium
    likelihood: 4, // Likely: sender, recipient and timing are public on every NIP-04 message
    mitigation: 'Use NIP-17 private messages (kind 14 sealed and gift-wrapped) instead of NIP-04',
    source: 'warden',
    appliesTo: [
      { protocol: 'nostr', actions: ['sign_event'], when: [{ type: 'nostr-kind', kinds: NIP04_DM_KINDS }] },
    ],
  },

  // ── Warden's own: EVM ───────────────────────────────────────────────────────────────────────────
  {
    // As Bitcoin's wrong address; lower-case EVM addresses carry no checksum of their own.
    id: 'evm.wrong-address',
    name: 'Transaction to wrong address',
    category: 'financial',
    protocol: 'evm',
    severity: 4, // Critical
    likelihood: 1, // Rare
    mitigation:
      'Verify the address via multiple sources and its EIP-55 checksum; allowlist destinations; send a small test first',
    source: 'warden',
    appliesTo: [
      { protocol: 'evm', actions: ['send'], when: [AMOUNT, DESTINATION] },
      { protocol: 'evm', actions: ['call'], when: [DESTINATION] },
    ],
  },
  {
    id: 'evm.wrong-chain-replay',
    name: 'Wrong chain or replay',
    category: 'financial',
    protocol: 'evm',
    severity: 3, // High: funds sent to an address that is not controlled on that chain
    likelihood: 2, // Unlikely: EIP-155 binds signatures to a chain, the chain id is still chosen by the caller
    mitigation:
      "Check chainId against the identity's allowed chains; sign chain-bound (EIP-155/EIP-1559) transactions only",
    source: 'warden',
    appliesTo: [EVM_ANY],
  },
  {
    id: 'evm.fee-overpayment',
    name: 'Overpaying fees (maxFeePerGas, gasLimit)',
    category: 'financial',
    protocol: 'evm',
    severity: 2, // Medium
    likelihood: 3, // Possible: generous caps are common and are paid in full during spikes
    mitigation: 'Cap maxFeePerGas and gasLimit against the current base fee; review the total maxFee',
    source: 'warden',
    appliesTo: [EVM_ANY],
  },
  {
    id: 'evm.contract-call',
    name: 'Contract call with unreviewed effects',
    category: 'security',
    protocol: 'evm',
    severity: 3, // High
    likelihood: 2, // Unlikely
    mitigation: 'Allowlist contracts and function selectors; simulate the call before signing',
    source: 'warden',
    appliesTo: [{ protocol: 'evm', actions: ['call'] }],
  },
  {
    id: 'evm.token-approval',
    name: 'Token approval to an unknown spender',
    category: 'security',
    protocol: 'evm',
    severity: 4, // Critical: a spender can drain every approved token, now or later
    likelihood: 3, // Possible: the most common wallet-drain path
    mitigation:
      'Approve only allowlisted spenders, for the exact amount, never unlimited; revoke unused approvals',
    source: 'warden',
    appliesTo: [
      { protocol: 'evm', actions: ['call'], when: [{ type: 'evm-selector', selectors: APPROVAL_SELECTORS }] },
    ],
  },
  {
    // Same custody as the Bitcoin seed in Warden's vault, hence the same numbers.
    id: 'evm.key-exposure',
    name: 'Private key exposure',
    category: 'security',
    protocol: 'evm',
    severity: 4, // Critical
    likelihood: 1, // Rare
    mitigation: 'Keep the key sealed in the vault; never export it; limit the balance held by hot keys',
    source: 'warden',
    appliesTo: [{ protocol: 'evm' }],
  },
];
