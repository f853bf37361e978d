import { ALL_PROTOCOLS, type CatalogEntry } from './catalog-types.ts';

/**
 * The rows of guideline 003 that hold for every protocol. Their operations name `all`, which
 * buildCatalog (catalog.ts) expands to every protocol module the catalog is built from, in order.
 * Every other row belongs to its protocol's module (src/protocols/<name>/risks.ts).
 */
export const ALL_PROTOCOL_ROWS: readonly CatalogEntry[] = [
  // ── Security (guideline table 3) ────────────────────────────────────────────────────────────────
  {
    id: 'all.mitm',
    name: 'Man-in-the-middle',
    category: 'security',
    protocol: ALL_PROTOCOLS,
    severity: 3, // High
    likelihood: 1, // Low
    mitigation: 'Use TLS with pinning or Tor; verify backend and relay identities',
    source: 'guideline:security',
    appliesTo: [{ protocol: ALL_PROTOCOLS }],
  },
];
