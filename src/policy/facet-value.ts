/** Reading one facet of a request or ledger entry the way its declaration says to compare it. */
import type { Facets } from '../core/intent.ts';
import type { LedgerFacets } from './snapshot.ts';
import type { FacetReading } from './types.ts';
import type { FacetItem } from './vocabulary.ts';

/**
 * The value as a condition compares it, or null when there is none: absent, null, of the other
 * type (a bigint is a quantity for caps, never matched), or not an own property (a facet named
 * like an Object method must not find the prototype's).
 */
export function facetValue(
  facets: Facets | LedgerFacets | undefined,
  reading: FacetReading,
): FacetItem | null {
  if (facets === undefined || facets === null || !Object.hasOwn(facets, reading.facet)) return null;
  const v = facets[reading.facet];
  if (reading.type === 'number') return typeof v === 'number' ? v : null;
  if (typeof v !== 'string') return null;
  return reading.lowerCase ? v.toLowerCase() : v;
}

/** Whether a value is one only a rule naming it may allow or hold (FacetVocabulary.optIn). */
export function isOptInValue(optIn: readonly FacetItem[] | 'every value', value: FacetItem): boolean {
  return optIn === 'every value' || optIn.includes(value);
}
