/**
 * What a rule cap measures of a request, in one place for the check (windows.ts) and its words
 * (limit-words.ts). A plain cap compares the bigint facet of its name with the rule's value. A
 * relative cap (vocabulary.ts `RelativeCap`) passes when `quantity × scale ≤ value × reference`;
 * the cap in the quantity's own unit is ⌊value × reference / scale⌋, and for a whole quantity q,
 * q ≤ ⌊x⌋ exactly when q ≤ x: rounding down loses nothing and never lets more through.
 */
import type { Intent } from '../core/intent.ts';
import type { RuleCap } from './types.ts';
import type { CapVocabulary } from './vocabulary.ts';

export type CapMeasure =
  /** The request does not have the quantity (another protocol): the cap does not concern it. */
  | { readonly kind: 'not-applicable' }
  /** `cap` in the quantity's unit; `reference` for a relative cap. */
  | {
      readonly kind: 'measured';
      readonly quantity: bigint;
      readonly cap: bigint;
      readonly reference: bigint | null;
    }
  /** The quantity is there, its reference is not: the cap cannot be checked, and refuses. */
  | { readonly kind: 'unmeasurable'; readonly quantity: bigint };

const NOT_APPLICABLE: CapMeasure = Object.freeze({ kind: 'not-applicable' });

/** The bigint facet `name`: undefined when absent, null when present but no bigint. */
function quantityFacet(intent: Intent, name: string): bigint | null | undefined {
  if (!Object.hasOwn(intent.facets, name)) return undefined;
  const value = intent.facets[name];
  return typeof value === 'bigint' ? value : null;
}

/** What the cap measures; a cap without vocabulary (a hand-built Policy) is a plain one. */
export function measureCap(cap: RuleCap, vocabulary: CapVocabulary | null, intent: Intent): CapMeasure {
  const relative = vocabulary?.relative;
  const quantity = quantityFacet(intent, relative?.facet ?? cap.name);
  if (typeof quantity !== 'bigint') return NOT_APPLICABLE;
  if (relative === undefined) return { kind: 'measured', quantity, cap: cap.max, reference: null };
  const reference =
    relative.reference === 'amount' ? intent.amount : quantityFacet(intent, relative.reference.facet);
  if (typeof reference !== 'bigint' || reference < 0n) return { kind: 'unmeasurable', quantity };
  return { kind: 'measured', quantity, cap: (cap.max * reference) / relative.scale, reference };
}
