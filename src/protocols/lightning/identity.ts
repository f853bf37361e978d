/**
 * What every Lightning operation checks of its identity and its backend before it is judged: a
 * backend is configured, and the identity's sealed credential is of the kind it takes (lnd: a
 * macaroon, Core Lightning: a rune). Then, at execution, the one call that uses the lent credential.
 */
import { WardenError } from '../../core/errors.ts';
import type { BackendCredential } from '../../keys/capabilities.ts';
import type { BitcoinNetwork } from '../../keys/derive.ts';
import type { IdentityView } from '../../keys/view.ts';
import type { LightningBackend, LightningBackendKind } from './backend/backend.ts';
import { checkCredentialKind, type LightningModuleBackend } from './backend/connect.ts';

/** The identity's credential is of the kind the configured backend takes (lnd when none is). */
export function checkCredential(
  publicKeys: IdentityView,
  backend: LightningBackendKind | LightningModuleBackend | null | undefined,
): void {
  const kind = typeof backend === 'string' ? backend : (backend?.kind ?? 'lnd');
  checkCredentialKind(kind, publicKeys.lightning.kind);
}

export function requireBackend(backend: LightningModuleBackend | null): LightningModuleBackend {
  if (!backend)
    throw new WardenError('BACKEND_UNREACHABLE', 'no Lightning backend is configured', {
      protocol: 'lightning',
      reason: 'not_configured',
    });
  return backend;
}

/** The identity's backend, with its credential lent for this one call. */
export function withIdentityBackend<T>(
  ctx: {
    identity: string;
    publicKeys: IdentityView;
    backend: LightningModuleBackend | null;
    signer: BackendCredential;
  },
  fn: (ln: LightningBackend) => Promise<T>,
): Promise<T> {
  return requireBackend(ctx.backend).withBackend(
    ctx.identity,
    ctx.publicKeys.network as BitcoinNetwork,
    ctx.signer,
    fn,
  );
}
