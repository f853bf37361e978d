/** A policy that allows Nostr notes (kind 1) up to `maxCount` per rolling 24 hours: the count window of the crash tests. */
export function nostrNotesPolicy(name: string, maxCount: number): string {
  return `
version: 1
name: ${name}
risk: { tolerance: high }
rules:
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
    limits:
      - { window: 24h, max_count: ${maxCount} }
`;
}

/**
 * The front-door tests' policy: profile edits (kind 0) held for one operator approval, direct
 * messages (kind 4) denied, every other Nostr event allowed, at most `maxPerHour` an hour if given.
 */
export function nostrHoldDenyAllowPolicy(name: string, maxPerHour?: number): string {
  const limit =
    maxPerHour === undefined ? '' : `\n    limits:\n      - { window: 1h, max_count: ${maxPerHour} }`;
  return `
version: 1
name: ${name}
risk: { tolerance: high }
rules:
  - id: profile-held
    match: { protocol: nostr, kind: [0] }
    effect: hold
    approvals: 1
  - id: no-dms
    match: { protocol: nostr, kind: [4] }
    effect: deny
  - id: notes
    match: { protocol: nostr }
    effect: allow${limit}
`;
}

/** A low risk tolerance: every Nostr signature is denied RISK_TOO_HIGH, for an operator to accept. */
export const STRICT_NOSTR_POLICY =
  'version: 1\nname: strict\nrisk: { tolerance: low }\nrules:\n  - { id: all-nostr, match: { protocol: nostr }, effect: allow }\n';

/** EVM sends on `chainId` to any address, up to `maxWei` a rolling 24 hours. */
export function evmSendsPolicy(name: string, chainId: number, maxWei: bigint): string {
  return `
version: 1
name: ${name}
risk: { tolerance: high }
new_destination: allow
rules:
  - id: sends
    match: { protocol: evm, action: send, chain_id: ${chainId} }
    effect: allow
    limits:
      - { window: 24h, max_value: "${maxWei}" }
`;
}
