import { type ErrorDetails, WardenError } from '../core/errors.ts';
import type { Protocol } from '../core/intent.ts';
import { ALL_PROTOCOL_ROWS } from './catalog-all.ts';
import {
  ALL_PROTOCOLS,
  type AlternativeRule,
  type AmountPricing,
  type CatalogEntry,
  type Operation,
  type ProtocolRisks,
  type RiskCatalog,
  type RiskSource,
} from './catalog-types.ts';

export { ALL_PROTOCOL_ROWS } from './catalog-all.ts';
export type {
  AlternativeRule,
  AmountPricing,
  AmountScale,
  CatalogEntry,
  CatalogProtocol,
  Condition,
  ListedFacetValue,
  Operation,
  ProtocolRisks,
  RiskCatalog,
  RiskCategory,
  RiskSource,
  SignalRule,
  SignalTest,
  SignalTier,
} from './catalog-types.ts';
export { ALL_PROTOCOLS, AMOUNT, DESTINATION, facetIn } from './catalog-types.ts';

/*
 * The severity × likelihood catalog, as data (guideline 003 "Risk Assessment", plus Warden's own rows).
 * Each protocol module supplies its rows (src/protocols/<name>/risks.ts); the rows for all protocols
 * live in catalog-all.ts; src/protocols/risk-catalog.ts assembles them with buildCatalog below.
 *
 * Words → numbers, as the guideline's enums:
 *   severity / impact:       Low 1 · Medium 2 · High 3 · Critical 4   (impact "None" is not a risk)
 *   likelihood / probability: Rare 1 · Unlikely 2 · Possible 3 · Likely 4
 *   "Very rare" (one row of a protocol matrix) → 1: the scale has nothing below Rare.
 * The three category tables (financial, operational, security) grade likelihood with the severity
 * words instead: Low → 1 and Medium → 2. The guideline's own catalog confirms that reading: its
 * `hot_wallet_compromise` (table: Critical / Medium) is CRITICAL × UNLIKELY, and its wrong-address
 * `transaction_malleation` (table: Critical / Low) is CRITICAL × RARE.
 *
 * Rows that appear in two tables with different numbers keep both facts, under distinct ids (the
 * modules list them beside their rows).
 *
 * Rows whose `source` is `warden` are Warden's own, where the guideline is silent (a protocol or an
 * operation it does not cover); their numbers are deliberately conservative.
 */

/** The guideline's category tables, in its order: their rows come first in the catalog. */
export const GUIDELINE_TABLES: readonly RiskSource[] = [
  'guideline:financial',
  'guideline:operational',
  'guideline:security',
];

/**
 * Where a row's source puts it: the guideline's category tables in their order, then the other
 * guideline tables (each protocol's own matrix), then Warden's own rows.
 */
function sourceRank(source: RiskSource): number {
  const table = GUIDELINE_TABLES.indexOf(source);
  if (table >= 0) return table;
  return source === 'warden' ? GUIDELINE_TABLES.length + 1 : GUIDELINE_TABLES.length;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function refuse(message: string, details: ErrorDetails): WardenError {
  return new WardenError('INVALID_ARGUMENT', message, details);
}

function checkLevels(row: CatalogEntry): void {
  for (const level of [row.severity, row.likelihood]) {
    if (![1, 2, 3, 4].includes(level)) throw refuse(`risk row ${row.id}: levels are 1..4`, { id: row.id });
  }
}

/** A module's operations must name its own protocol: a module scores only its own requests. */
function checkOwnOperations(protocol: Protocol, what: string, operations: readonly Operation[]): void {
  for (const op of operations) {
    if (op.protocol !== protocol) {
      throw refuse(`${what} of protocol ${protocol} applies to protocol ${op.protocol}`, { protocol, what });
    }
  }
}

/** A row for all protocols, its `all` operations made one per module protocol (in module order). */
function expandAll(row: CatalogEntry, protocols: readonly Protocol[]): CatalogEntry {
  if (row.protocol !== ALL_PROTOCOLS) {
    throw refuse(`risk row ${row.id} is not a row for all protocols`, { id: row.id });
  }
  return {
    ...row,
    appliesTo: row.appliesTo.flatMap((op) =>
      op.protocol === ALL_PROTOCOLS ? protocols.map((protocol) => ({ ...op, protocol })) : [op],
    ),
  };
}

/**
 * Assembles the catalog from the protocol modules (in the order given) and the rows for all
 * protocols. Rows are ordered by source (the guideline's category tables, then each protocol's own
 * matrix, then Warden's own), then module order, rows for all protocols last; risks of equal score
 * are listed in this order. Refuses (INVALID_ARGUMENT) a duplicate id or protocol, a level outside
 * 1..4, and a module row or alternative that names another protocol. The result is deeply frozen.
 */
export function buildCatalog(
  modules: readonly ProtocolRisks[],
  allProtocolRows: readonly CatalogEntry[] = ALL_PROTOCOL_ROWS,
): RiskCatalog {
  const protocols = modules.map((m) => m.protocol);
  const rows: CatalogEntry[] = [];
  const pricing: AmountPricing[] = [];
  const alternatives: AlternativeRule[] = [];
  for (const m of modules) {
    if (m.protocol === ALL_PROTOCOLS || protocols.indexOf(m.protocol) !== protocols.lastIndexOf(m.protocol)) {
      throw refuse(`risk module ${m.protocol}: protocol is reserved or given twice`, {
        protocol: m.protocol,
      });
    }
    for (const row of m.rows) {
      if (row.protocol !== m.protocol) {
        throw refuse(`risk row ${row.id} of module ${m.protocol} has protocol ${row.protocol}`, {
          id: row.id,
        });
      }
      checkOwnOperations(m.protocol, `risk row ${row.id}`, row.appliesTo);
      rows.push(row);
    }
    if (m.amountScale !== undefined) pricing.push({ protocol: m.protocol, scaleOf: m.amountScale });
    for (const alt of m.alternatives ?? []) {
      checkOwnOperations(m.protocol, 'safer alternative', [alt.operation]);
      alternatives.push(alt);
    }
  }
  for (const row of allProtocolRows) rows.push(expandAll(row, protocols));
  const ids = new Set<string>();
  for (const row of rows) {
    if (ids.has(row.id)) throw refuse(`risk row ${row.id} is given twice`, { id: row.id });
    ids.add(row.id);
    checkLevels(row);
    if (row.appliesTo.length === 0) throw refuse(`risk row ${row.id} applies to nothing`, { id: row.id });
  }
  const entries = rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => sourceRank(a.row.source) - sourceRank(b.row.source) || a.index - b.index)
    .map(({ row }) => row);
  return deepFreeze({ entries, protocols, pricing, alternatives });
}

/** The catalog entry with this id, or undefined. */
export function catalogEntry(catalog: RiskCatalog, id: string): CatalogEntry | undefined {
  return catalog.entries.find((e) => e.id === id);
}
