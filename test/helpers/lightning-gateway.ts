import type { LightningConfig } from '../../src/protocols/lightning/backend/connect.ts';
import type { TestGateway } from './gateway.ts';
import { startLightningGateway } from './lightning-setup.ts';

/**
 * A test gateway that pays Lightning invoices as one identity through a configured backend (an
 * LND or CLN REST front over LDK nodes), its credential sealed in the identity's Lightning slot
 * as an operator seals it, an agent token allowed `lightning:pay_invoice`, and the reads the
 * pay_invoice tests make of the ledger.
 */

/** A rule's limits: one 24-hour window of `cap` sat, or none. */
const capOf = (cap: bigint | undefined) =>
  cap === undefined ? '' : `\n    limits:\n      - { window: 24h, max_value: ${cap} }`;

/**
 * A policy allowing Lightning payments to new destinations, up to `cap` sat a day if given; with
 * `keysend`, a second rule allows keysends too (a broad rule does not match one: opt-in), within
 * its own `keysend.cap` if given.
 */
export function lightningPayPolicy(name: string, o: { cap?: bigint; keysend?: { cap?: bigint } } = {}) {
  const keysend = o.keysend
    ? `
  - id: keysend
    match: { protocol: lightning, action: pay, payment: keysend }
    effect: allow${capOf(o.keysend.cap)}`
    : '';
  return `
version: 1
name: ${name}
risk: { tolerance: high }
new_destination: allow
rules:
  - id: payments
    match: { protocol: lightning, action: pay, asset: btc }
    effect: allow${capOf(o.cap)}${keysend}
`;
}

/** The ledger rows of one request (status, amount and fee in sat), as the tests compare them. */
export const ledgerRowsOf = (g: TestGateway, requestId: string) =>
  g.warden.store.db
    .selectFrom('ledger')
    .select(['status', 'amount', 'fee'])
    .where('request_id', '=', requestId)
    .execute();

export interface PayingGatewayOptions {
  identity: string;
  cap: bigint;
  lightning: LightningConfig | undefined;
  credential: { kind: 'macaroon' | 'rune' | 'nwc'; bytes: Uint8Array };
}

export async function startPayingGateway(o: PayingGatewayOptions) {
  const g = await startLightningGateway({
    identities: [o.identity],
    policies: { [o.identity]: lightningPayPolicy('lightning-pay', { cap: o.cap }) },
    lightning: o.lightning,
    credential: o.credential,
  });
  const token = await g.token('agent', { identity: o.identity, capabilities: ['lightning:pay_invoice'] });
  const operator = await g.token('operator');
  const pay = (body: unknown) => g.call('POST', '/v1/lightning/pay-invoice', { token, body });
  const ledger = async () => {
    const r = await g.call('GET', '/v1/ledger', { token });
    return r.body.totals as { status: string; asset: string; total: string; fees: string; count: number }[];
  };
  const rowsOf = (requestId: string) => ledgerRowsOf(g, requestId);
  return { g, token, operator, pay, ledger, rowsOf };
}
