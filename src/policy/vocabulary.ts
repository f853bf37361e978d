/**
 * What a protocol module tells policy about itself, as data: its name and actions, how its assets
 * are shown, the facets a rule may match on, the quantities a rule may cap, and the words for
 * all of these. policy/ never names a protocol; it reads these declarations
 * (`createPolicyLanguage`, language.ts) and nothing else. Modules declare theirs in
 * src/protocols/<name>/policy.ts.
 */
import type { z } from 'zod';
import type { Intent } from '../core/intent.ts';

/** One value a match condition lists for a facet, in the facet's normal form. */
export type FacetItem = string | number;

/**
 * How amounts are shown. Assets whose units have the same `id` are shown alike (two chains whose
 * coin is the same, two protocols paying in the same base unit), so a rule over several of them
 * can still give its amounts in that unit; otherwise it falls back to plain base units.
 */
export interface AssetUnit {
  readonly id: string;
  readonly format: (amount: bigint) => string;
}

export interface ActionVocabulary {
  /** The action as in Intent.action and a rule's `match.action` (`send`). */
  readonly name: string;
  /** Plural noun for explanations ("sends", "contract calls"). */
  readonly noun: string;
}

/**
 * A facet a rule may match on: `match.<name>` in a document, `intent.facets[name]` in a request,
 * `entry.facets[name]` in the ledger. Values are strings or numbers (a bigint facet is a quantity
 * that only a cap reads, below).
 */
export interface FacetVocabulary {
  readonly name: string;
  readonly type: 'number' | 'text';
  /**
   * One item of `match.<name>`, with the error messages people see (`bad contract address "0x12"`).
   * A condition is one item or a non-empty list of them.
   */
  readonly item: z.ZodType<FacetItem>;
  /** For list errors: "expected <plural> or a list of them" ("Nostr kinds", "chain ids"). */
  readonly plural: string;
  /** Text compared in lower case: documents, requests and ledger entries alike. */
  readonly lowerCase?: boolean;
  /** The facet in a mismatch: "<label> 7 is not in [1, 3]" ("kind", "chain id"). */
  readonly label: string;
  /** The mismatch when the request has no value for it ("request has no Nostr kind"). */
  readonly missing: string;
  /** The condition in an explanation, values already normalized: "of kind 1 or 7", "on chain 1 (…)". */
  readonly words: (values: readonly FacetItem[]) => string;
  /** Named, with the request's value, in the rule a NO_MATCHING_RULE remedy suggests. */
  readonly example?: boolean;
  /**
   * Opt-in by name: a request carrying one of these values (or, with 'every value', any value) is
   * matched by an allow or hold rule only when that rule's own `match` names this facet with the
   * value; a broad rule never lets it through by accident. Deny rules match it as usual.
   */
  readonly optIn?: readonly FacetItem[] | 'every value';
}

/**
 * A cap relative to a reference quantity: the rule's value is a ratio in units of 1/`scale` of the
 * reference (`scale` 100: percent; 10,000: basis points), and a request passes when
 * `facet × scale ≤ value × reference`, in integers. A request without `facet` is not concerned
 * (the trail notes `notApplicable`); one that has it but whose reference is absent or null (the
 * module could not measure it: a backend without an estimate) cannot be checked and is refused
 * (LIMIT_UNMEASURABLE): the cap fails closed.
 */
export interface RelativeCap {
  /** The bigint facet measured (several caps may read the same one). */
  readonly facet: string;
  /** What it is measured against, in the same unit: the intent's amount, or a bigint facet. */
  readonly reference: 'amount' | { readonly facet: string };
  /** The rule's value is in 1/scale of the reference: 100 (percent), 10,000 (basis points). */
  readonly scale: bigint;
  /** The rule's value in words ("200%", "1,000 bps (10%)"). */
  readonly formatValue: (value: bigint) => string;
  /** The reference in words ("the node's next-block fee estimate", "the amount"). */
  readonly referenceWords: string;
  /** Why the reference is missing, for the trail and the reason ("no fee estimate from a node"). */
  readonly unmeasurable: string;
  /** What would let such a request be checked ("configure a node …, or wait until it has one"). */
  readonly unmeasurableRemedy: string;
}

/**
 * A quantity a rule may cap (`max_fee_per_gas: "200000000000"` at rule level): the request's bigint
 * facet of the same name must be at most the cap. It does not apply to a request without that
 * facet (the trail notes so). With `relative`, the cap is a ratio of a reference instead (above).
 */
export interface CapVocabulary {
  /** The rule key and the facet it reads. */
  readonly name: string;
  /** In words: "the <quantity> may be at most …", "Denied: <quantity> … is above …". */
  readonly quantity: string;
  /** A value with its unit ("200 gwei (200000000000 wei)"). */
  readonly format: (value: bigint) => string;
  /** The trail note for a request without the facet. */
  readonly notApplicable: string;
  /** What to do when it is exceeded, given the cap formatted: "lower … to at most <cap>". */
  readonly remedy: (cap: string) => string;
  /** A cap relative to a reference; `format` then shows the measured quantity and the reference. */
  readonly relative?: RelativeCap;
}

export interface IntentPhrase {
  /** The request's amount, formatted in its asset's unit. */
  readonly amount: string;
  /** " to a and b" (with its leading space), or "" without destinations. */
  readonly to: string;
}

export interface ProtocolVocabulary {
  /** As in Intent.protocol and a rule's `match.protocol` (`evm`). */
  readonly name: string;
  /** For people ("EVM"). */
  readonly title: string;
  readonly actions: readonly ActionVocabulary[];
  /** What a count limit counts ("signatures", "transactions"). */
  readonly countNoun: string;
  /** The unit of one of its assets (spelled as in Intent.asset, lower case), or null if not its own. */
  readonly unitOf: (asset: string) => AssetUnit | null;
  /** The unit every one of its assets is in, when there is just one (a rule for it then shows it). */
  readonly unit?: AssetUnit;
  /** Names of its base units, for the document schema's help text ("sat", "wei"). */
  readonly baseUnits?: readonly string[];
  readonly facets?: readonly FacetVocabulary[];
  readonly caps?: readonly CapVocabulary[];
  /** How its fees are bounded, for the sentence on fees ("EVM: gas limit × max fee per gas"). */
  readonly feeNote?: string;
  /** A request in a phrase ("sending 5,000 sat on …"); without it: "<protocol> <action> of <amount>". */
  readonly describe?: (intent: Intent, phrase: IntentPhrase) => string;
}

/**
 * A module's part of the ready-made policies: by template name, YAML rules for the template's
 * `rules:` list (each `  - id: …`, ending in a newline). src/protocols/policy-language.ts puts
 * the templates together from these.
 */
export type TemplateFragments = Readonly<Record<string, string>>;
