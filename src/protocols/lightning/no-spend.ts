/**
 * The intent of a Lightning operation that spends nothing (an invoice made, an invoice looked up,
 * the balance read): the protocol-neutral one of ../no-spend.ts, once the identity's credential
 * and the backend are known to be there, the identity's network in its detail.
 */
import type { Intent } from '../../core/intent.ts';
import type { IdentityView } from '../../keys/view.ts';
import { noSpendIntent } from '../no-spend.ts';
import type { LightningModuleBackend } from './backend/connect.ts';
import { checkCredential, requireBackend } from './identity.ts';

export function lightningNoSpendIntent(
  ctx: { identity: string; publicKeys: IdentityView; backend: LightningModuleBackend | null },
  what: {
    action: 'receive' | 'read';
    asset: 'btc:invoice' | 'btc:balance';
    digest: string;
    idempotencyKey: string | null;
    detail: Record<string, string | number | null>;
  },
): Intent {
  checkCredential(ctx.publicKeys, ctx.backend);
  requireBackend(ctx.backend);
  return noSpendIntent({
    ...what,
    protocol: 'lightning',
    identity: ctx.identity,
    feeAsset: 'btc',
    facets: {},
    detail: { network: ctx.publicKeys.network, ...what.detail },
  });
}
