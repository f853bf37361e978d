/**
 * The normalized form of every request, whatever front door it came through. A protocol module
 * (src/protocols/<name>/) parses raw input into an Intent, and everything after that (risk,
 * policy, ledger, audit) works on Intents only. The envelope is common to every protocol; what
 * only one protocol knows travels in `facets` (what policy and risk may match on, declared by the
 * module as data), `detail` (what its own execution needs, opaque to everyone else) and
 * `signals` (facts its backend told, which risk reads).
 * Amounts are bigint in the asset's base unit.
 */

/** A protocol module's name (`nostr`, `evm`, …): the registry says which exist. */
export type Protocol = string;
/** An action within a protocol (`sign_event`, `send`, …), declared by its module. */
export type IntentAction = string;

/**
 * One facet's value, in the normal form its module declares (lower-case addresses, numbers as
 * numbers). `null`: the request has none (a plain transfer calls no function). A bigint facet is
 * a quantity that policy may cap (the EVM max fee per gas); it is never booked in the ledger.
 */
export type FacetValue = string | number | bigint | null;
export type Facets = Readonly<Record<string, FacetValue>>;

/**
 * Facts the module learned while building the intent (its backend's fee environment, the depth of
 * the coins it would spend), by name: risk scores them as monitor signals. Part of the intent, so
 * the approver sees them and the review's hash covers them. Booleans and finite numbers only.
 */
export type IntentSignals = Readonly<Record<string, boolean | number>>;

/** The JSON a protocol keeps in `detail`: plain data (bigints as decimal strings), so it stores as is. */
export type IntentDetail = Readonly<Record<string, unknown>>;

export interface Intent {
  protocol: Protocol;
  action: IntentAction;
  identity: string;
  /**
   * The asset moved, in a stable spelling chosen by its module: `evm:<chainId>` for a chain's
   * native coin, `evm:<chainId>:<contract>` for a token, `btc` (sat) for Bitcoin and Lightning,
   * `nostr:event` for signatures (amount 0).
   */
  asset: string;
  amount: bigint;
  /** Normalized destinations (EVM: lower-case 0x address). Empty when nothing is sent anywhere. */
  destinations: string[];
  /**
   * Most the operation can cost in fees, in the base unit of `feeAsset`. Fees are money: value
   * limits count them where they are paid in the asset moved (docs/policy.md).
   */
  maxFee: bigint;
  /** The asset fees are paid in: `asset` itself, except e.g. an EVM token, whose gas is paid in wei. */
  feeAsset: string;
  /** Hex SHA-256 of the canonical raw request: binds approvals and idempotency to exact bytes. */
  payloadDigest: string;
  idempotencyKey: string | null;
  /** What policy and risk may match on, named as the module declares them (`kind`, `chain_id`). */
  facets: Facets;
  /** The module's own part of the intent (an EVM send's gas and fees): only its module reads it. */
  detail: IntentDetail;
  /** Absent when the module learned nothing (a signature needing no backend; intents stored before). */
  signals?: IntentSignals;
}
