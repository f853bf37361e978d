import { GUIDELINE_ROWS } from './catalog-guideline.ts';
import type { CatalogEntry } from './catalog-types.ts';
import { WARDEN_ROWS } from './catalog-warden.ts';

export type {
  CatalogEntry,
  CatalogProtocol,
  Condition,
  Operation,
  RiskCategory,
  RiskSource,
} from './catalog-types.ts';
export {
  APPROVAL_SELECTORS,
  DM_KINDS,
  HTTP_AUTH_KINDS,
  IDENTITY_REDIRECTION_KINDS,
  NIP04_DM_KINDS,
  PROFILE_KINDS,
  ZAP_REQUEST_KINDS,
} from './kinds.ts';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * The severity × likelihood catalog, as data (guideline 003 "Risk Assessment", plus Warden's own rows).
 *
 * Words → numbers, as the guideline's enums:
 *   severity / impact:       Low 1 · Medium 2 · High 3 · Critical 4   (impact "None" is not a risk)
 *   likelihood / probability: Rare 1 · Unlikely 2 · Possible 3 · Likely 4
 *   "Very rare" (Bitcoin matrix, reorg at 6 confirmations) → 1: the scale has nothing below Rare.
 * The three category tables (financial, operational, security) grade likelihood with the severity
 * words instead: Low → 1 and Medium → 2. The guideline's own catalog confirms that reading: its
 * `hot_wallet_compromise` (table: Critical / Medium) is CRITICAL × UNLIKELY, and its wrong-address
 * `transaction_malleation` (table: Critical / Low) is CRITICAL × RARE.
 *
 * Rows that appear in two tables with different numbers keep both facts, under distinct ids:
 *   force close     financial `ln.force-close-loss` (High/Low = 3)  · matrix `ln.force-close-high-fees` (High/Unlikely = 6)
 *   stuck HTLCs     financial `ln.stuck-htlcs.financial` (Medium/Medium = 4) · matrix `ln.stuck-htlc.matrix` (Medium/Possible = 6)
 *   channel balance operational `ln.channel-depletion` (High/Medium = 6) · matrix `ln.channel-exhaustion` (Medium/Possible = 6)
 *   peer down       operational `ln.node-offline` (High/Low = 3) · matrix `ln.counterparty-offline` (Medium/Possible = 6)
 *   nostr key       security `nostr.key-theft` (High/Medium = 6) · matrix `nostr.impersonation` (Medium/Possible = 6)
 *   relays          operational `nostr.relay-unavailable` (Low/Medium = 2) · matrix `nostr.relay-censorship` (Low/Possible = 3)
 *   hot wallet      security table Critical/Medium and the guideline's sketch CRITICAL/UNLIKELY agree (4 × 2 = 8): one row.
 * The guideline's sketch also lists `channel_force_close` (Medium/Possible, "closed by counterparty during a
 * low fee period"); it is sketch code, not a table row, and is covered by the two force-close rows above.
 *
 * Rows whose `source` is `warden` are Warden's own (the guideline has no EVM, and nothing on Nostr event
 * kinds); their numbers are deliberately conservative. The rows live in catalog-guideline.ts and
 * catalog-warden.ts; this joins them and freezes the result deeply, so nothing can edit it at run time.
 */
export const RISK_CATALOG: readonly CatalogEntry[] = deepFreeze([...GUIDELINE_ROWS, ...WARDEN_ROWS]);

/** The catalog entry with this id, or undefined. */
export function catalogEntry(id: string): CatalogEntry | undefined {
  return RISK_CATALOG.find((e) => e.id === id);
}
