/**
 * How a policy language says things, assembled from its vocabularies: amounts with their unit,
 * a request in a phrase, a facet condition, a cap. A parsed Policy carries its language's words,
 * so that evaluation and explanation need nothing but the Policy.
 */
import type { Intent, Protocol } from '../core/intent.ts';
import { BASE_UNITS } from './amount.ts';
import { facetValue, isOptInValue } from './facet-value.ts';
import type { AssetUnit, CapVocabulary, FacetItem, ProtocolVocabulary } from './vocabulary.ts';

export interface PolicyWords {
  /** What every value limit counts, said once per policy that has one. */
  readonly feesSentence: string;
  unitOfAsset(asset: string | null): AssetUnit;
  formatAmount(asset: string | null, amount: bigint): string;
  /** The one unit of every asset of the protocol, or null when it has several. */
  protocolUnit(protocol: Protocol): AssetUnit | null;
  protocolTitle(protocol: Protocol): string;
  protocolActions(protocol: Protocol): readonly string[];
  /** The action's noun in that protocol, or (without one) as the first protocol having it says it. */
  actionNoun(action: string, protocol?: Protocol): string;
  countNoun(protocol: Protocol): string | null;
  /** A facet condition in words ("of kind 1 or 7"). */
  facetWords(facet: string, values: readonly FacetItem[]): string;
  /** "sending 5,000 sat on … to bc1…". */
  describeIntent(intent: Intent): string;
  /** `name: value` of the request's facets a suggested rule should name (NO_MATCHING_RULE remedy). */
  exampleFacets(intent: Intent): string[];
  cap(name: string): CapVocabulary | null;
}

function listDestinations(destinations: readonly string[]): string {
  if (destinations.length === 0) return '';
  if (destinations.length <= 2) return ` to ${destinations.join(' and ')}`;
  return ` to ${destinations.slice(0, 2).join(', ')} and ${destinations.length - 2} more`;
}

const FEES_START =
  'Value limits (per transaction and per window) count fees: a request counts its amount plus the most its fees can cost';
const FEES_END =
  ', and a payment made counts the fee it paid, or that worst case until the fee paid is known.';

export function wordsOf(vocabularies: readonly ProtocolVocabulary[]): PolicyWords {
  const byName = new Map(vocabularies.map((v) => [v.name, v]));
  const facets = vocabularies.flatMap((v) => v.facets ?? []);
  const facetByName = new Map(facets.map((f) => [f.name, f]));
  const caps = new Map(vocabularies.flatMap((v) => v.caps ?? []).map((c) => [c.name, c]));
  const feeNotes = vocabularies.flatMap((v) => (v.feeNote === undefined ? [] : [v.feeNote]));

  const unitOfAsset = (asset: string | null): AssetUnit => {
    if (asset === null) return BASE_UNITS;
    const a = asset.toLowerCase();
    for (const v of vocabularies) {
      const unit = v.unitOf(a);
      if (unit !== null) return unit;
    }
    return BASE_UNITS;
  };
  const formatAmount = (asset: string | null, amount: bigint) => unitOfAsset(asset).format(amount);

  return Object.freeze({
    feesSentence: `${FEES_START}${feeNotes.length > 0 ? ` (${feeNotes.join('; ')})` : ''}${FEES_END}`,
    unitOfAsset,
    formatAmount,
    protocolUnit: (protocol: Protocol) => byName.get(protocol)?.unit ?? null,
    protocolTitle: (protocol: Protocol) => byName.get(protocol)?.title ?? protocol,
    protocolActions: (protocol: Protocol) => byName.get(protocol)?.actions.map((a) => a.name) ?? [],
    actionNoun(action: string, protocol?: Protocol): string {
      const own = protocol === undefined ? undefined : byName.get(protocol);
      const declared = (own === undefined ? vocabularies : [own])
        .flatMap((v) => v.actions)
        .find((a) => a.name === action);
      return declared?.noun ?? action;
    },
    countNoun: (protocol: Protocol) => byName.get(protocol)?.countNoun ?? null,
    facetWords(facet: string, values: readonly FacetItem[]): string {
      const declared = facetByName.get(facet);
      return declared === undefined ? `with ${facet} ${values.join(', ')}` : declared.words(values);
    },
    describeIntent(intent: Intent): string {
      const amount = formatAmount(intent.asset, intent.amount);
      const to = listDestinations(intent.destinations);
      const describe = byName.get(intent.protocol)?.describe;
      if (describe !== undefined) return describe(intent, { amount, to });
      return `${intent.protocol} ${intent.action} of ${amount}${to}`;
    },
    exampleFacets(intent: Intent): string[] {
      const out: string[] = [];
      for (const f of facets) {
        const value = facetValue(intent.facets, {
          facet: f.name,
          type: f.type,
          lowerCase: f.lowerCase === true,
          label: f.label,
        });
        if (value === null) continue;
        // An opt-in value must be named, or the suggested rule would not match the request either.
        if (f.example === true || (f.optIn !== undefined && isOptInValue(f.optIn, value))) {
          out.push(`${f.name}: ${typeof value === 'number' ? value : JSON.stringify(value)}`);
        }
      }
      return out;
    },
    cap: (name: string) => caps.get(name) ?? null,
  } satisfies PolicyWords);
}
