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
