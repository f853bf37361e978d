/**
 * What the Bitcoin module asks of a chain backend (a Bitcoin Core node over JSON-RPC, or an
 * Esplora server over REST), whichever it is. Every answer is hostile until checked: ids are hex
 * of the right length, amounts whole satoshis as bigint, heights safe integers. Raw transactions
 * come back as bytes and are checked against their txid by the caller (a backend can lie about
 * amounts; the bytes cannot lie about themselves).
 */
import type { BitcoinNetwork } from '../networks.ts';

export interface ChainUtxo {
  txid: string;
  vout: number;
  value: bigint;
  /** The block height it was mined at; null while in the mempool. */
  height: number | null;
}

export type TxStatus =
  | { state: 'confirmed'; height: number }
  | { state: 'mempool' }
  /** Neither in the mempool nor in the chain, as far as this backend knows. */
  | { state: 'unknown' };

export interface BitcoinChain {
  readonly network: BitcoinNetwork;
  /** `core` or `esplora`: for the audit trail and doctor. */
  readonly kind: 'core' | 'esplora';
  tipHeight(): Promise<number>;
  /** Unspent outputs paying `address` (mempool ones with height null where the backend sees them). */
  utxos(address: string): Promise<ChainUtxo[]>;
  /** The raw bytes of a transaction, or null when the backend does not know it. */
  rawTransaction(txid: string): Promise<Uint8Array | null>;
  status(txid: string): Promise<TxStatus>;
  /**
   * Hands a signed transaction to the backend. Resolves when the backend took it; the caller still
   * looks it up (bcoin answers a txid even for a transaction its mempool refused). Rejects with
   * BACKEND_REJECTED (`details.sent: true`: the node saw it and said no) or BACKEND_UNREACHABLE.
   */
  broadcast(raw: Uint8Array): Promise<void>;
  /**
   * The fee environment, read once (the backend's calls made together): its estimate for
   * confirmation within `blocks` and for the next block, and the size of its mempool when it says.
   */
  feeEnvironment(blocks: number): Promise<FeeEnvironment>;
}

/** What a backend tells of the fees now. Rates in msat/vB; null where it has no answer. */
export interface FeeEnvironment {
  /** The estimate for confirmation within the target asked for. */
  estimate: bigint | null;
  /** The estimate for the next block (the backend's fastest target): what a hurried payer pays. */
  fastest: bigint | null;
  /** Transactions waiting in the backend's mempool; null when it does not say (or would not). */
  mempoolTx: number | null;
}

export const TXID = /^[0-9a-f]{64}$/;

/** Transaction ids as backends write them: 64 lower-case hex digits. */
export function isTxid(value: unknown): value is string {
  return typeof value === 'string' && TXID.test(value);
}

/** A height or output index: a safe non-negative integer. */
export function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * A decimal fee rate as a backend writes it (Esplora: sat/vB like 12.345; Core: BTC/kvB like
 * 0.00012345), read from its text, never through a float: msat/vB, rounded up.
 */
export function decimalToMsatPerVb(text: string, unit: 'sat/vB' | 'BTC/kvB'): bigint | null {
  const m = /^(\d{1,12})(?:\.(\d{1,12}))?$/.exec(text);
  if (!m) return null;
  // msat/vB = sat/vB × 1000 = BTC/kvB × 10^8 (sat per BTC) × 1000 (msat) / 1000 (vB per kvB).
  const scale = unit === 'sat/vB' ? 3 : 8;
  const frac = m[2] ?? '';
  const kept = frac.slice(0, scale).padEnd(scale, '0');
  const dropped = frac.slice(scale);
  const value = BigInt(m[1]!) * 10n ** BigInt(scale) + BigInt(kept);
  return /[1-9]/.test(dropped) ? value + 1n : value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
