/** Who is asking: what a bearer token resolves to. Agents act for exactly one identity. */
export type Role = 'agent' | 'operator' | 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['agent', 'operator', 'admin', 'viewer'];

/**
 * What an agent token may do (`nostr:sign`, `evm:send`): each operation of the registry names the
 * one it needs (protocols/registry.ts lists them). Operators, admins and viewers act by role.
 */
export type Capability = string;

/**
 * A budget of the principal's own, inside its identity's policy (an NWC connection's `--budget`):
 * the gateway writes `scope` as the `principal` facet of every intent the principal submits, and
 * judges it against one more rule whose windows count only the ledger entries of that scope. The
 * identity's rules still apply to every request, so an identity's budgets bound all its principals
 * together and no principal can spend another's share.
 */
export interface PrincipalBudget {
  /** Unique to the principal (`nwc_…`): the facet value its ledger entries carry. */
  scope: string;
  /** The asset counted (`btc`: sat, fees included). */
  asset: string;
  maxValue: bigint;
  /** A policy window: `day`, `week`, `month` (calendar, UTC) or a rolling `24h`, `7d`… */
  window: string;
}

export interface Principal {
  tokenId: string;
  label: string;
  role: Role;
  /** The one identity an agent token acts for; null for other roles. */
  identity: string | null;
  capabilities: readonly Capability[];
  expiresAt: Date;
  /**
   * How the principal appears in audit records and approvals when it is not a token: the local
   * operator of the CLI (`cli:alice`), who holds the vault passphrase.
   */
  actor?: string;
  /**
   * The front door the request came through when it is not the HTTP API (`mcp`): put on the
   * audit record of what the principal submits. Set by that door, after authentication.
   */
  frontDoor?: string;
  /** Its own budget within the identity's (PrincipalBudget); absent for tokens. */
  budget?: PrincipalBudget;
}

/** How a principal appears in audit records and approvals. */
export function actorOf(p: Principal): string {
  return p.actor ?? `${p.role}:${p.tokenId}`;
}

/**
 * The principal of the CLI's local operator: whoever unsealed the vault with its passphrase. It
 * goes through the same service methods and checks as a token, with an admin's reach.
 */
export function localOperator(actor: string, now: Date): Principal {
  return {
    tokenId: 'local',
    label: actor,
    role: 'admin',
    identity: null,
    capabilities: [],
    expiresAt: new Date(now.getTime() + 24 * 60 * 60 * 1000),
    actor,
  };
}
