/**
 * When the NWC door looks up the open invoices its connections made (`payment_received`). Each
 * lookup is an audited read, so the interval doubles from the first (most invoices are paid
 * within seconds of being made) up to the last: a ten-minute invoice costs some two dozen lookups,
 * not 120, and a payment is still told within half a minute. Times are milliseconds since 1970.
 */
export const INVOICE_POLL_FIRST_MS = 5000;
export const INVOICE_POLL_MAX_MS = 30_000;
/** An invoice is followed this long past its expiry (a payment may settle just before it). */
export const INVOICE_FOLLOW_AFTER_EXPIRY_MS = 60_000;

interface Followed<T> {
  value: T;
  expiresAt: number;
  nextPollAt: number;
  intervalMs: number;
}

export class InvoicePolls<T> {
  readonly #followed = new Map<string, Followed<T>>();

  /** @param max invoices followed at once: past it, the oldest is let go (it is never notified). */
  constructor(readonly max = 1000) {}

  get size(): number {
    return this.#followed.size;
  }

  follow(paymentHash: string, value: T, expiresAt: number, now: number): void {
    if (!this.#followed.has(paymentHash) && this.#followed.size >= this.max)
      this.#followed.delete(this.#followed.keys().next().value!);
    this.#followed.set(paymentHash, {
      value,
      expiresAt,
      nextPollAt: now + INVOICE_POLL_FIRST_MS,
      intervalMs: INVOICE_POLL_FIRST_MS,
    });
  }

  /**
   * The invoices to look up at `now`, each then scheduled for its next lookup; those long
   * expired, or whose `keep` is false (the connection was revoked), are let go.
   */
  due(now: number, keep: (value: T) => boolean): { paymentHash: string; value: T }[] {
    const out: { paymentHash: string; value: T }[] = [];
    for (const [paymentHash, f] of this.#followed) {
      if (now > f.expiresAt + INVOICE_FOLLOW_AFTER_EXPIRY_MS || !keep(f.value)) {
        this.#followed.delete(paymentHash);
        continue;
      }
      if (now < f.nextPollAt) continue;
      f.intervalMs = Math.min(f.intervalMs * 2, INVOICE_POLL_MAX_MS);
      f.nextPollAt = now + f.intervalMs;
      out.push({ paymentHash, value: f.value });
    }
    return out;
  }

  /** Settled or failed: no more lookups. */
  done(paymentHash: string): void {
    this.#followed.delete(paymentHash);
  }
}
