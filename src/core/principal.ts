/** Who is asking: what a bearer token resolves to. Agents act for exactly one identity. */
export type Role = 'agent' | 'operator' | 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['agent', 'operator', 'admin', 'viewer'];

/** What an agent token may do. Operators, admins and viewers act through their role. */
export const CAPABILITIES = ['nostr:sign', 'evm:send'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface Principal {
  tokenId: string;
  label: string;
  role: Role;
  /** The one identity an agent token acts for; null for other roles. */
  identity: string | null;
  capabilities: readonly Capability[];
  expiresAt: Date;
}

/** How a principal appears in audit records and approvals. */
export function actorOf(p: Principal): string {
  return `${p.role}:${p.tokenId}`;
}
