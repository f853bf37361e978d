import type { LightningConfig } from '../../src/protocols/lightning/backend/connect.ts';
import { startTestGateway } from './gateway.ts';

/**
 * A test gateway that pays Lightning invoices as one identity through a configured backend (an
 * LND or CLN REST front over LDK nodes), its credential sealed in the identity's Lightning slot
 * as an operator seals it, an agent token allowed `lightning:pay_invoice`, and the reads the
 * pay_invoice tests make of the ledger.
 */

/** A policy allowing Lightning payments up to `cap` sat a day. */
export const PAY_POLICY = (cap: bigint) => `
version: 1
name: lightning-pay
risk: { tolerance: high }
new_destination: allow
rules:
  - id: payments
    match: { protocol: lightning, action: pay, asset: btc }
    effect: allow
    limits:
      - { window: 24h, max_value: ${cap} }
`;

export interface PayingGatewayOptions {
  identity: string;
  cap: bigint;
  lightning: LightningConfig | undefined;
  credential: { kind: 'macaroon' | 'rune' | 'nwc'; bytes: Uint8Array };
}

export async function startPayingGateway(o: PayingGatewayOptions) {
  const g = await startTestGateway({
    identities: [o.identity],
    policies: { [o.identity]: PAY_POLICY(o.cap) },
    protocols: { lightning: o.lightning },
    rateLimits: () => ({ max: 100_000, windowMs: 60_000 }),
  });
  await g.warden.setCredential(o.identity, o.credential.kind, Uint8Array.from(o.credential.bytes));
  const token = await g.token('agent', { identity: o.identity, capabilities: ['lightning:pay_invoice'] });
  const operator = await g.token('operator');
  const pay = (body: unknown) => g.call('POST', '/v1/lightning/pay-invoice', { token, body });
  const ledger = async () => {
    const r = await g.call('GET', '/v1/ledger', { token });
    return r.body.totals as { status: string; asset: string; total: string; fees: string; count: number }[];
  };
  const rowsOf = async (requestId: string) =>
    g.warden.store.db
      .selectFrom('ledger')
      .select(['status', 'amount', 'fee'])
      .where('request_id', '=', requestId)
      .execute();
  return { g, token, operator, pay, ledger, rowsOf };
}
