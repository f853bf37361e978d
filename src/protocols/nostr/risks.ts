/**
 * Nostr's risk catalog rows (guideline 003: its rows of the category tables and the Nostr risk
 * matrix, then Warden's own rows on event kinds), the kind lists they single out, and its monitor
 * signal. Numbers and the reading of the guideline's words: src/risk/catalog.ts.
 *
 * Rows that appear in two tables with different numbers keep both facts, under distinct ids:
 *   nostr key  security `nostr.key-theft` (High/Medium = 6) · matrix `nostr.impersonation` (Medium/Possible = 6)
 *   relays     operational `nostr.relay-unavailable` (Low/Medium = 2) · matrix `nostr.relay-censorship` (Low/Possible = 3)
 */
import {
  type CatalogEntry,
  facetIn,
  type Operation,
  type ProtocolRisks,
  RECENT_FAILURES,
  type SignalRule,
} from '../../risk/index.ts';
import { SENSITIVE_NOSTR_KINDS, sensitiveKinds } from './kinds.ts';

const PROTOCOL = 'nostr';
/** The facet a signature request carries its event kind in (a number). */
export const KIND_FACET = 'kind';

/*
 * The sensitive kinds come from the one table in kinds.ts (the default policies hold the same
 * kinds); the catalog scores them in three rows, by what they redirect.
 */
/** What the identity is, where it is read and messaged, where its files go, or erasing it. */
export const PROFILE_KINDS: readonly number[] = sensitiveKinds('identity', 'messages', 'uploads');
/** Logins and remote-signing sessions in its name (NIP-42, NIP-98, NIP-46). */
export const HTTP_AUTH_KINDS: readonly number[] = sensitiveKinds('login');
/** Where its money goes, or a payment itself (zaps, nutzaps, Cashu wallet, wallet connect). */
export const ZAP_REQUEST_KINDS: readonly number[] = sensitiveKinds('money');
/** Every sensitive kind, each in exactly one of the three lists above. */
export const IDENTITY_REDIRECTION_KINDS: readonly number[] = SENSITIVE_NOSTR_KINDS.map((k) => k.kind);
/** Direct messages: NIP-04 (4), NIP-17 chat message (14), its seal (13) and gift wrap (1059). */
export const DM_KINDS: readonly number[] = [4, 13, 14, 1059];
export const NIP04_DM_KINDS: readonly number[] = [4];

/** `relayHealthyCount`: number of healthy relays of the identity; the guideline alerts below 3. */
export const MIN_HEALTHY_RELAYS = 3;
export const RELAYS_UNHEALTHY: SignalRule = {
  signal: 'relayHealthyCount',
  tiers: [
    { test: { type: 'at-most', than: 0 }, steps: 2, reason: 'monitor: no healthy relay, likelihood +2' },
    {
      test: { type: 'below', than: MIN_HEALTHY_RELAYS },
      steps: 1,
      reason: `monitor: {value} healthy relays (< ${MIN_HEALTHY_RELAYS}), likelihood +1`,
    },
  ],
};

const SIGN: Operation = { protocol: PROTOCOL, actions: ['sign_event'] };
/** Signing an event whose kind is one of `kinds` (or is not known). */
const signKinds = (kinds: readonly number[]): Operation => ({
  protocol: PROTOCOL,
  actions: ['sign_event'],
  when: [facetIn(KIND_FACET, kinds)],
});

export const NOSTR_ROWS: readonly CatalogEntry[] = [
  // ── Operational (guideline table 2) ─────────────────────────────────────────────────────────────
  {
    id: 'nostr.relay-unavailable',
    name: 'Relay unavailability',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 1, // Low
    likelihood: 2, // Medium
    mitigation: 'Publish to several relays; keep at least 3 healthy relays',
    source: 'guideline:operational',
    appliesTo: [SIGN],
    raisedBy: [RELAYS_UNHEALTHY, RECENT_FAILURES],
  },
  {
    id: 'nostr.event-rejection',
    name: 'Event rejection',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 1, // Low
    likelihood: 1, // Low
    mitigation: 'Check relay limits (NIP-11); retry on other relays',
    source: 'guideline:operational',
    appliesTo: [SIGN],
    raisedBy: [RECENT_FAILURES],
  },
  // Financial: "N/A (no native payments)", impact None: not a risk, no row.

  // ── Security (guideline table 3) ────────────────────────────────────────────────────────────────
  {
    id: 'nostr.key-theft',
    name: 'Private key theft',
    category: 'security',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 2, // Medium
    mitigation: 'Keep the nsec in the vault and sign remotely (NIP-46); rotate the identity if exposed',
    source: 'guideline:security',
    appliesTo: [{ protocol: PROTOCOL }],
  },

  // ── Nostr risk matrix ───────────────────────────────────────────────────────────────────────────
  {
    id: 'nostr.relay-censorship',
    name: 'Relay censorship',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 1, // Low
    likelihood: 3, // Possible
    mitigation: 'Multiple relays',
    source: 'guideline:nostr-matrix',
    appliesTo: [SIGN],
    raisedBy: [RELAYS_UNHEALTHY],
  },
  {
    id: 'nostr.relay-data-loss',
    name: 'Relay data loss',
    category: 'operational',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Publish to 5+ relays',
    source: 'guideline:nostr-matrix',
    appliesTo: [SIGN],
    raisedBy: [RELAYS_UNHEALTHY],
  },
  {
    id: 'nostr.identity-linking',
    name: 'Identity linking',
    category: 'privacy',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'Separate npubs',
    source: 'guideline:nostr-matrix',
    appliesTo: [SIGN],
  },
  {
    id: 'nostr.dm-interception',
    name: 'DM interception',
    category: 'privacy',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 1, // Rare
    mitigation: 'NIP-44 encryption',
    source: 'guideline:nostr-matrix',
    appliesTo: [signKinds(DM_KINDS)],
  },
  {
    // Signing anything in the identity's name is what an impersonator would want to do.
    id: 'nostr.impersonation',
    name: 'Impersonation',
    category: 'security',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible
    mitigation: 'NIP-05 verification',
    source: 'guideline:nostr-matrix',
    appliesTo: [SIGN],
  },

  // ── Warden's own: event kinds (the guideline says nothing about them) ───────────────────────────
  {
    id: 'nostr.identity-redirection.profile',
    name: 'Identity redirection (profile, follows, relay and server lists, deletion)',
    category: 'security',
    protocol: PROTOCOL,
    severity: 3, // High: readers, DMs and tips follow these events
    likelihood: 3, // Possible: one injected prompt is enough
    mitigation:
      'Require operator approval for profile, list, key-package and deletion events; diff them against the current ones',
    source: 'warden',
    appliesTo: [signKinds(PROFILE_KINDS)],
  },
  {
    id: 'nostr.identity-redirection.http-auth',
    name: 'Identity redirection (login elsewhere: NIP-42, NIP-98, NIP-46)',
    category: 'security',
    protocol: PROTOCOL,
    severity: 3, // High: logs the identity in to a service chosen by whoever wrote the request
    likelihood: 3, // Possible
    mitigation:
      'Sign logins only for allowlisted relays, URLs and methods; check the relay, u and method tags',
    source: 'warden',
    appliesTo: [signKinds(HTTP_AUTH_KINDS)],
  },
  {
    id: 'nostr.identity-redirection.zap',
    name: 'Identity redirection (money: zaps, nutzaps, Cashu wallet, wallet connect)',
    category: 'security',
    protocol: PROTOCOL,
    severity: 3, // High: moves money and attributes a tip to the identity
    likelihood: 3, // Possible
    mitigation:
      'Sign money events only to allowlisted recipients, mints and wallets; check the p, amount and mint tags',
    source: 'warden',
    appliesTo: [signKinds(ZAP_REQUEST_KINDS)],
  },
  {
    id: 'nostr.dm-metadata-nip04',
    name: 'DM metadata exposure (NIP-04)',
    category: 'privacy',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 4, // Likely: sender, recipient and timing are public on every NIP-04 message
    mitigation: 'Use NIP-17 private messages (kind 14 sealed and gift-wrapped) instead of NIP-04',
    source: 'warden',
    appliesTo: [signKinds(NIP04_DM_KINDS)],
  },
];

/** Nostr moves no value: its amounts are never priced, and it has no safer alternative. */
export const NOSTR_RISKS: ProtocolRisks = { protocol: PROTOCOL, rows: NOSTR_ROWS };
