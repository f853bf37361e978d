/**
 * Every policy that worked before policy/ became generic over facets works unchanged: the three
 * templates (byte for byte) and every YAML example of docs/policy.md give the same explanation,
 * the same parsed shape and the same decisions as recorded in test/policy/fixtures/ before the
 * change. Record again only on purpose: RECORD_POLICY_COMPAT=1.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { evaluate } from '../../src/policy/evaluate.ts';
import { explainPolicy } from '../../src/policy/explain.ts';
import type { Policy, PolicyRule } from '../../src/policy/types.ts';
import { POLICY_LANGUAGE, POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import {
  CASES,
  type CompatCase,
  docsYamlBlocks,
  EXTRA_CASES,
  EXTRA_POLICIES,
  SNAPSHOTS,
} from './compat/cases.ts';
import { NOW, risk } from './helpers.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const MINIMAL = 'version: 1\nname: minimal\nrules:\n  - { id: none, effect: deny }\n';
const RECORD = process.env.RECORD_POLICY_COMPAT === '1';
const parsePolicy = POLICY_LANGUAGE.parse;
const policyJsonSchema = POLICY_LANGUAGE.jsonSchema;

/** JSON with bigints as "123n", so that a bigint and a number never look alike. */
const json = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v), 1);

/** Facet conditions and caps under the names the parsed shape had before facets. */
const LEGACY_FACETS: Record<string, string> = {
  kind: 'kinds',
  chain_id: 'chainIds',
  contract: 'contracts',
  function: 'functions',
};
const LEGACY_CAPS: Record<string, string> = { max_fee_per_gas: 'maxFeePerGas' };

function legacyRule(rule: PolicyRule): unknown {
  const { facets, ...match } = rule.match;
  const legacyMatch: Record<string, unknown> = { ...match };
  for (const name of Object.values(LEGACY_FACETS)) legacyMatch[name] = null;
  for (const c of facets) {
    const name = LEGACY_FACETS[c.facet];
    assert.ok(name, `facet ${c.facet} had no field before`);
    legacyMatch[name] = c.values;
  }
  const { caps, ...rest } = rule;
  const legacy: Record<string, unknown> = { ...rest, match: legacyMatch };
  for (const name of Object.values(LEGACY_CAPS)) legacy[name] = null;
  for (const c of caps) {
    const name = LEGACY_CAPS[c.name];
    assert.ok(name, `cap ${c.name} had no field before`);
    legacy[name] = c.max;
  }
  return legacy;
}

/**
 * The parsed shape in the form it had before facets: `match.facets` back to kinds, chainIds,
 * contracts and functions, `caps` back to maxFeePerGas; what the language adds (optIn, words) is
 * left out. Any other facet or cap fails: nothing is dropped unseen.
 */
function shape(policy: Policy): unknown {
  const { optIn, words: _words, rules, ...rest } = policy;
  // The one opt-in facet value came with evm.sign_message, after the recording: no recorded
  // policy names it, so it changes nothing they decide.
  assert.deepEqual(
    optIn.map((o) => JSON.stringify(o)),
    POLICY_LANGUAGE.parse(MINIMAL).optIn.map((o) => JSON.stringify(o)),
  );
  return JSON.parse(json({ ...rest, rules: rules.map(legacyRule) }));
}

interface Recorded {
  yaml: string;
  explain: string[];
  shape: unknown;
  /** `<case> @ <snapshot>` → the decision without its risk (an echo of the input). */
  decisions: Record<string, unknown>;
}

function record(yaml: string, cases: readonly CompatCase[]): Recorded {
  const policy = parsePolicy(yaml);
  const decisions: Record<string, unknown> = {};
  for (const c of cases) {
    for (const [name, snapshot] of Object.entries(SNAPSHOTS)) {
      const { risk: _risk, ...decision } = evaluate(c.intent, risk(c.score), snapshot, policy, NOW);
      decisions[`${c.name} @ ${name}`] = JSON.parse(json(decision));
    }
  }
  return { yaml, explain: explainPolicy(policy), shape: shape(policy), decisions };
}

function compare(file: string, sources: readonly string[], cases = CASES): void {
  const url = new URL(file, FIXTURES);
  const now = sources.map((yaml) => record(yaml, cases));
  if (RECORD) {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(url, `${json(now)}\n`);
    return;
  }
  const then = JSON.parse(readFileSync(url, 'utf8')) as Recorded[];
  assert.equal(now.length, then.length, `${file}: as many policies as recorded`);
  for (const [i, was] of then.entries()) {
    const is = now[i];
    assert.ok(is);
    assert.equal(is.yaml, was.yaml, `${file}[${i}]: the same document`);
    assert.deepEqual(is.explain, was.explain, `${file}[${i}]: the same explanation`);
    assert.deepEqual(is.shape, was.shape, `${file}[${i}]: the same parsed shape`);
    assert.deepEqual(Object.keys(is.decisions), Object.keys(was.decisions));
    for (const [key, decision] of Object.entries(was.decisions)) {
      assert.deepEqual(is.decisions[key], decision, `${file}[${i}] ${key}: the same decision`);
    }
  }
}

const TEMPLATE_NAMES = ['guidelines-default', 'nostr-only', 'bitcoin-tiers', 'deny-all'] as const;
/** The templates there were when facets came: their decisions then are recorded (templates.json). */
const TEMPLATES_BEFORE_FACETS = ['guidelines-default', 'nostr-only', 'deny-all'] as const;

describe('policies that worked before facets work unchanged', () => {
  test('the templates are byte for byte the recorded text', () => {
    assert.deepEqual(Object.keys(POLICY_TEMPLATES), [...TEMPLATE_NAMES]);
    for (const name of TEMPLATE_NAMES) {
      const url = new URL(`templates/${name}.yaml`, FIXTURES);
      const text = POLICY_TEMPLATES[name] ?? '';
      if (RECORD) {
        mkdirSync(new URL('templates/', FIXTURES), { recursive: true });
        writeFileSync(url, text);
      } else assert.equal(text, readFileSync(url, 'utf8'), name);
    }
  });

  test('templates: the same explanation, parsed shape and decisions', () => {
    compare(
      'templates.json',
      TEMPLATES_BEFORE_FACETS.map((name) => POLICY_TEMPLATES[name] ?? ''),
    );
  });

  test('docs/policy.md examples: the same explanation, parsed shape and decisions', () => {
    const { tested, skipped } = docsYamlBlocks();
    // Tested: the whole treasury-bot document, and the rules-only deny example (header added).
    assert.ok(tested.length >= 2, tested.map((b) => b.note).join('; '));
    // Skipped: the one block marked `# fragment`, the opt-in example of the Facets section, which
    // uses a facet (message_type) that no module of Warden declares.
    assert.equal(skipped.length, 1, skipped.join('; '));
    assert.match(skipped[0] ?? '', /^# fragment: .*message_type/);
    if (RECORD)
      compare(
        'docs-examples.json',
        tested.map((b) => b.yaml),
      );
    else {
      // What was recorded is replayed from the fixture; examples added since must parse and explain.
      const then = JSON.parse(readFileSync(new URL('docs-examples.json', FIXTURES), 'utf8')) as Recorded[];
      compare(
        'docs-examples.json',
        then.map((r) => r.yaml),
      );
      for (const block of tested) assert.ok(explainPolicy(parsePolicy(block.yaml)).length > 0, block.note);
    }
  });

  test('every facet, cap, unit and noun on its own: the same explanation, parsed shape and decisions', () => {
    compare('extra-policies.json', EXTRA_POLICIES, [...CASES, ...EXTRA_CASES]);
  });

  test('the JSON Schema of the document is the recorded one', () => {
    const url = new URL('policy.schema.json', FIXTURES);
    const now = policyJsonSchema();
    if (RECORD) writeFileSync(url, `${JSON.stringify(now, null, 2)}\n`);
    // Compared as text after a round trip, so that key order counts but formatting does not.
    else assert.equal(JSON.stringify(now), JSON.stringify(JSON.parse(readFileSync(url, 'utf8'))));
  });
});
