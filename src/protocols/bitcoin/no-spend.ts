/**
 * The intent of a Bitcoin operation that moves nothing (an address handed out, the balance read):
 * the protocol-neutral one of ../no-spend.ts, the identity's network as facet and in its detail.
 */
import type { Intent } from '../../core/intent.ts';
import type { IdentityView } from '../../keys/view.ts';
import { noSpendIntent } from '../no-spend.ts';
import { accountsOf } from './accounts.ts';

export function bitcoinNoSpendIntent(
  ctx: { identity: string; publicKeys: IdentityView },
  what: {
    action: 'balance' | 'new_address';
    asset: 'btc:balance' | 'btc:address';
    digest: string;
    idempotencyKey: string | null;
    detail: Record<string, string | number>;
  },
): Intent {
  const { network } = accountsOf(ctx.publicKeys);
  return noSpendIntent({
    ...what,
    protocol: 'bitcoin',
    identity: ctx.identity,
    feeAsset: 'btc',
    facets: { network },
    detail: { network, ...what.detail },
  });
}
