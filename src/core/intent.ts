/**
 * The normalized form of every request, whatever front door it came through. Front doors parse
 * raw input into an Intent (chains/<protocol>/), and everything after that (risk, policy, ledger,
 * audit) works on Intents only. Amounts are bigint in the asset's base unit.
 */
export type Protocol = 'nostr' | 'evm' | 'bitcoin' | 'lightning';
export const PROTOCOLS: readonly Protocol[] = ['nostr', 'evm', 'bitcoin', 'lightning'];

/**
 * Actions per protocol: nostr `sign_event`; evm `send` (native value), `call` (contract);
 * bitcoin `send`; lightning `pay`.
 */
export type IntentAction = 'sign_event' | 'send' | 'call' | 'pay';

export interface EvmIntentFields {
  chainId: number;
  /** Lower-case 0x address of the recipient (or contract). */
  to: string;
  /** Lower-case contract address for token transfers / calls; null for native value. */
  contract: string | null;
  /** 4-byte function selector (0x…) of a contract call; null for a plain transfer. */
  functionSelector: string | null;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  gasLimit: bigint;
}

export interface NostrIntentFields {
  kind: number;
  /** Number of tags and content length: shapes only, never the content itself. */
  tagCount: number;
  contentLength: number;
}

export interface Intent {
  protocol: Protocol;
  action: IntentAction;
  identity: string;
  /**
   * The asset moved, in a stable spelling: `evm:<chainId>` for a chain's native coin,
   * `evm:<chainId>:<contract>` for a token, `btc` (sat) for Bitcoin and Lightning,
   * `nostr:event` for signatures (amount 0).
   */
  asset: string;
  amount: bigint;
  /** Normalized destinations (EVM: lower-case 0x address). Empty when nothing is sent anywhere. */
  destinations: string[];
  /**
   * Most the operation can cost in fees (EVM: gasLimit × maxFeePerGas), in the base unit of the
   * coin that pays them: `asset`'s, except for an EVM token, whose gas is paid in wei. Fees are
   * money: value limits count them (docs/policy.md).
   */
  maxFee: bigint;
  /** Hex SHA-256 of the canonical raw request: binds approvals and idempotency to exact bytes. */
  payloadDigest: string;
  idempotencyKey: string | null;
  evm?: EvmIntentFields;
  nostr?: NostrIntentFields;
}
