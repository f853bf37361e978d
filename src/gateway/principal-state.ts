/**
 * Whether the principal behind a stored request (its row's `token_id`) may still stand behind it,
 * and its own budget: a bearer token's row, or an NWC connection's (nwc-connections.ts). A hold
 * released, a wait renewed, a risk accepted all ask here, so a revoked connection is as dead as a
 * revoked token, and a connection's budget still bounds what it asked for when an operator acts.
 */
import type { PrincipalBudget } from '../core/principal.ts';
import type { Db } from '../store/store.ts';
import type { ControlPlane } from './control-plane.ts';
import { controlPlaneOf } from './control-plane.ts';
import { isNwcPrincipal, nwcPrincipalState } from './nwc-connections.ts';
import { tokenStillValid } from './tokens.ts';

export async function principalStillValid(
  db: Db,
  id: string,
  now: Date,
  cp?: ControlPlane,
): Promise<boolean> {
  if (!isNwcPrincipal(id)) return tokenStillValid(db, id, now, cp);
  const nwc = await nwcPrincipalState(db, cp ?? (await controlPlaneOf(db)), id, now);
  return nwc?.valid === true;
}

/** The request's principal's own budget, when it has one (an NWC connection's). */
export async function principalBudgetOf(
  db: Db,
  id: string,
  now: Date,
  cp?: ControlPlane,
): Promise<PrincipalBudget | undefined> {
  if (!isNwcPrincipal(id)) return undefined;
  const nwc = await nwcPrincipalState(db, cp ?? (await controlPlaneOf(db)), id, now);
  return nwc?.budget ?? undefined;
}
