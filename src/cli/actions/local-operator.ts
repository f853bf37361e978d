import type { Principal } from '../../core/principal.ts';
import type { Gateway, Warden } from '../../gateway/index.ts';

/**
 * The CLI acts as the local operator (it holds the passphrase): an admin principal named by the
 * Warden's actor, which the gateway's services check like any token.
 */
export function localOperator(gateway: Gateway, warden: Warden): Principal {
  return gateway.access.localOperator(warden.actor);
}
