import type { Logger } from 'pino';
import type { AuditKeyring } from '../audit/keyring.ts';
import type { Clock } from '../core/clock.ts';
import type { Vault } from '../keys/vault.ts';
import type { Store } from '../store/store.ts';
import type { ExecutorSlot } from './executor.ts';
import type { LedgerCache } from './ledger-cache.ts';
import type { SlidingWindowLimiter } from './rate-limit.ts';

/** What every step of the one path needs; built once when the server starts. */
export interface GatewayContext {
  store: Store;
  vault: Vault;
  keyring: AuditKeyring;
  clock: Clock;
  logger: Logger;
  auditHead: string;
  limiter: SlidingWindowLimiter;
  /** Budget snapshots inside store transactions (the store above is guarded by it). */
  ledger: LedgerCache;
  /** Whose `executing` rows these are: written on every row this gateway moves to `executing`. */
  executor: ExecutorSlot;
}
