/**
 * The risk catalog, assembled from the protocol modules' rows (src/protocols/<name>/risks.ts) and the
 * rows for all protocols (src/risk/catalog-all.ts). Pass it to `assessRisk(intent, { tolerance,
 * catalog: RISK_CATALOG })`. Module order decides the order of rows of equal score, and which
 * protocols the rows for all protocols apply to: a new protocol adds its module here.
 */
import {
  buildCatalog,
  type CatalogEntry,
  catalogEntry,
  type ProtocolRisks,
  type RiskCatalog,
} from '../risk/index.ts';
import { BITCOIN_RISKS } from './bitcoin/risks.ts';
import { EVM_RISKS } from './evm/risks.ts';
import { LIGHTNING_RISKS } from './lightning/risks.ts';
import { NOSTR_RISKS } from './nostr/risks.ts';

/** What each protocol module supplies, in catalog order. */
export const PROTOCOL_RISKS: readonly ProtocolRisks[] = [
  BITCOIN_RISKS,
  LIGHTNING_RISKS,
  NOSTR_RISKS,
  EVM_RISKS,
];

/** The full catalog: every row, the modules' amount pricing and safer alternatives. Deeply frozen. */
export const RISK_CATALOG: RiskCatalog = buildCatalog(PROTOCOL_RISKS);

/** The row of the full catalog with this id, or undefined. */
export function riskCatalogEntry(id: string): CatalogEntry | undefined {
  return catalogEntry(RISK_CATALOG, id);
}
