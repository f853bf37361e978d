/**
 * What the door makes of a connection and a finished request: the principal a connection's
 * requests run as (its identity, the capabilities of its methods, its own budget), the words of a
 * refusal, and the `payment_sent` notification of a payment.
 */
import type { Principal } from '../../core/principal.ts';
import type { NwcConnection } from '../../gateway/nwc-connections.ts';
import type { RequestView } from '../../gateway/requests.ts';
import { operationNamed } from '../../protocols/registry.ts';
import { METHODS } from './methods.ts';

/** The notifications a connection gets: `payment_received` only when it makes invoices. */
export function notificationsOf(c: NwcConnection): string[] {
  return c.methods.includes('make_invoice') ? ['payment_received', 'payment_sent'] : ['payment_sent'];
}

/**
 * The principal a connection's requests run as. A connection that makes invoices may also look
 * them up (the door follows them to send `payment_received`); the `lookup_invoice` method itself is
 * still only for a connection given it.
 */
export function principalOf(c: NwcConnection): Principal {
  const follows = c.methods.includes('make_invoice') ? ['lookup_invoice'] : [];
  const capabilities = [
    ...new Set(
      [...c.methods, ...follows].flatMap((name) => {
        const m = METHODS[name];
        const capability = m?.kind === 'operation' ? operationNamed(m.operation)?.capability : undefined;
        return capability ? [capability] : [];
      }),
    ),
  ];
  return {
    tokenId: c.id,
    label: c.label,
    role: 'agent',
    identity: c.identity,
    capabilities,
    expiresAt: new Date(c.expiresAt),
    actor: `nwc:${c.id}`,
    frontDoor: 'nwc',
    ...(c.budget ? { budget: c.budget } : {}),
  };
}

export function describe(view: RequestView): string {
  // The decision's own sentence (and what would let it pass): what an agent can act on.
  const d = view.decision as { reason?: unknown; remedy?: unknown } | null;
  const words = [d?.reason, d?.remedy].filter((w): w is string => typeof w === 'string' && w !== '');
  return words.length > 0 ? words.join(' ').slice(0, 500) : view.status;
}

export function paymentNotification(
  view: RequestView,
  result: Record<string, unknown>,
): Record<string, unknown> {
  const r = (view.result ?? {}) as Record<string, unknown>;
  return {
    type: 'outgoing',
    state: 'settled',
    payment_hash: r.paymentHash,
    preimage: result.preimage,
    amount: Number(r.amountMsat ?? 0),
    fees_paid: result.fees_paid,
    created_at: Math.floor(Date.parse(view.createdAt) / 1000),
    settled_at: Math.floor(Date.parse(view.updatedAt) / 1000),
  };
}
