/**
 * policy/ over facets it does not know: a demo language built from made-up vocabularies, so that
 * nothing here leans on what Nostr or EVM happen to declare. Schema assembly, opt-in by name,
 * caps, ledger facets, and the checks createPolicyLanguage makes on the declarations.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { isWardenError } from '../../src/core/errors.ts';
import type { Intent } from '../../src/core/intent.ts';
import { countedUnit } from '../../src/policy/amount.ts';
import { evaluate } from '../../src/policy/evaluate.ts';
import { joinOr } from '../../src/policy/explain.ts';
import { createPolicyLanguage } from '../../src/policy/language.ts';
import { type LedgerEntry, ledgerEntryFromIntent, ledgerFacets } from '../../src/policy/snapshot.ts';
import type { FacetVocabulary, ProtocolVocabulary } from '../../src/policy/vocabulary.ts';
import { POLICY_LANGUAGE } from '../../src/protocols/policy-language.ts';
import { assertInvalid, NOW, risk, snapshot } from './helpers.ts';

const messageType: FacetVocabulary = {
  name: 'message_type',
  type: 'text',
  item: z.string().regex(/^(text|siwe|hash32)$/i, { error: 'not a message type I know' }),
  plural: 'message types',
  lowerCase: true,
  label: 'message type',
  missing: 'request has no message type',
  words: (types) => `of type ${joinOr(types.map(String))}`,
  optIn: ['hash32'],
};

const DEMO: ProtocolVocabulary = {
  name: 'demo',
  title: 'Demo',
  actions: [
    { name: 'sign_message', noun: 'message signatures' },
    { name: 'send', noun: 'demo sends' },
  ],
  countNoun: 'signatures',
  unitOf: (asset) => (asset === 'demo:coin' ? countedUnit('dc') : null),
  baseUnits: ['dc'],
  facets: [
    messageType,
    {
      name: 'scope',
      type: 'text',
      item: z.string().min(1),
      plural: 'scopes',
      label: 'scope',
      missing: 'request has no scope',
      words: (scopes) => `in scope ${joinOr(scopes.map(String))}`,
      optIn: 'every value',
    },
    {
      name: 'level',
      type: 'number',
      item: z.int().min(0),
      plural: 'levels',
      label: 'level',
      missing: 'request has no level',
      words: (levels) => `at level ${joinOr(levels.map(String))}`,
      example: true,
    },
  ],
  caps: [
    {
      name: 'max_size',
      quantity: 'message size',
      format: (v) => `${v} bytes`,
      notApplicable: 'max_size does not apply: no message',
      remedy: (cap) => `shorten the message to at most ${cap}`,
    },
  ],
  feeNote: 'Demo: a flat fee',
  describe: (intent, { amount }) => `doing ${intent.action} with ${amount}`,
};
const OTHER: ProtocolVocabulary = {
  name: 'other',
  title: 'Other',
  actions: [{ name: 'pay', noun: 'payments' }],
  countNoun: 'transactions',
  unitOf: () => null,
};
const DEMO_LANGUAGE = createPolicyLanguage([DEMO, OTHER]);
const parse = (body: string) => DEMO_LANGUAGE.parse(`version: 1\nname: demo\n${body}`);

function demoIntent(facets: Intent['facets'], action = 'sign_message'): Intent {
  return {
    protocol: 'demo',
    action,
    identity: 'agent-1',
    asset: 'demo:coin',
    feeAsset: 'demo:coin',
    amount: 5n,
    destinations: [],
    maxFee: 0n,
    payloadDigest: 'd'.repeat(64),
    idempotencyKey: null,
    facets,
    detail: {},
  };
}

const decide = (body: string, intent: Intent, entries: LedgerEntry[] = []) =>
  evaluate(intent, risk(2), snapshot(entries), parse(body), NOW);

describe('the document schema is assembled from the vocabularies', () => {
  test('protocol and action enums, and their errors, come from the modules', () => {
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, match: { protocol: evm } }]'),
      'rules[0].match.protocol',
    );
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, match: { protocol: 7 } }]'),
      'rules[0].match.protocol',
      'expected protocols (demo, other) or a list of them',
    );
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, match: { action: 7 } }]'),
      'rules[0].match.action',
      'expected actions (sign_message, send, pay) or a list of them',
    );
  });

  test('match takes exactly the declared facets, with the modules’ messages', () => {
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, match: { kind: 1 } }]'),
      'rules[0].match.kind',
      'unknown field',
    );
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, match: { message_type: blob } }]'),
      'rules[0].match.message_type',
    );
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, match: { message_type: [] } }]'),
      'rules[0].match.message_type',
      'an empty list of message types matches nothing',
    );
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, match: { level: -1 } }]'),
      'rules[0].match.level',
    );
    const p = parse(
      'rules: [{ id: r, effect: allow, match: { message_type: [SIWE, siwe, text], level: 3 } }]',
    );
    assert.deepEqual(
      p.rules[0]?.match.facets.map((c) => [c.facet, c.values, c.label, c.missing]),
      [
        ['message_type', ['siwe', 'text'], 'message type', 'request has no message type'],
        ['level', [3], 'level', 'request has no level'],
      ],
    );
  });

  test('rules take exactly the declared caps', () => {
    assertInvalid(
      () => parse('rules: [{ id: r, effect: allow, max_fee_per_gas: 5 }]'),
      'rules[0].max_fee_per_gas',
      'unknown field',
    );
    assertInvalid(() => parse('rules: [{ id: r, effect: allow, max_size: 1.5 }]'), 'rules[0].max_size');
    assert.deepEqual(parse('rules: [{ id: r, effect: allow, max_size: "64" }]').rules[0]?.caps, [
      { name: 'max_size', max: 64n },
    ]);
  });

  test('the JSON Schema lists the declared facets and caps, and the base units in its help', () => {
    const text = JSON.stringify(DEMO_LANGUAGE.jsonSchema());
    for (const key of ['"message_type"', '"scope"', '"level"', '"max_size"'])
      assert.ok(text.includes(key), key);
    assert.ok(!text.includes('"kind"'));
    assert.ok(text.includes('Whole number of base units (dc, …)'));
  });
});

describe('opt-in by name', () => {
  const hash32 = demoIntent({ message_type: 'hash32' });

  test('a broad allow or hold rule does not match an opt-in value; the trail says why', () => {
    for (const effect of ['allow', 'hold']) {
      const d = decide(`rules: [{ id: broad, effect: ${effect}, match: { protocol: demo } }]`, hash32);
      assert.equal(d.code, 'NO_MATCHING_RULE', effect);
      assert.equal(
        d.trail[0]?.mismatch,
        'message type hash32 is matched only by a rule that names it (match: { message_type: hash32 })',
      );
      // The suggested rule names it, or it would not match either.
      assert.match(
        d.remedy ?? '',
        /match: \{ protocol: demo, action: sign_message, asset: "demo:coin", message_type: "hash32" \}/,
      );
    }
  });

  test('a rule naming the facet with the value matches; one naming other values does not', () => {
    assert.equal(
      decide('rules: [{ id: r, effect: allow, match: { message_type: hash32 } }]', hash32).code,
      'ALLOWED',
    );
    assert.equal(
      decide('rules: [{ id: r, effect: allow, match: { message_type: [text, HASH32] } }]', hash32).code,
      'ALLOWED',
    );
    const d = decide('rules: [{ id: r, effect: allow, match: { message_type: text } }]', hash32);
    assert.equal(d.trail[0]?.mismatch, 'message type hash32 is not in [text]');
  });

  test('deny rules match it as usual', () => {
    const d = decide(
      'rules:\n  - { id: ok, effect: allow, match: { message_type: hash32 } }\n  - { id: no, effect: deny, match: { protocol: demo } }\n',
      hash32,
    );
    assert.equal(d.code, 'POLICY_DENIED');
    assert.equal(d.decidingRule, 'no');
  });

  test('other values, and requests without the facet, match broad rules', () => {
    const broad = 'rules: [{ id: broad, effect: allow, match: { protocol: demo } }]';
    assert.equal(decide(broad, demoIntent({ message_type: 'text' })).code, 'ALLOWED');
    assert.equal(decide(broad, demoIntent({})).code, 'ALLOWED');
    assert.equal(decide(broad, demoIntent({ message_type: null })).code, 'ALLOWED');
  });

  test('the value is compared in its normal form (lower case here)', () => {
    const d = decide('rules: [{ id: broad, effect: allow }]', demoIntent({ message_type: 'HASH32' }));
    assert.equal(d.code, 'NO_MATCHING_RULE');
  });

  test("'every value': any value of the facet must be named", () => {
    const broad = 'rules: [{ id: broad, effect: allow }]';
    assert.equal(decide(broad, demoIntent({ scope: 'wallet' })).code, 'NO_MATCHING_RULE');
    assert.equal(
      decide('rules: [{ id: r, effect: allow, match: { scope: wallet } }]', demoIntent({ scope: 'wallet' }))
        .code,
      'ALLOWED',
    );
  });

  test('opt-in entries still count in the windows of broad rules (they spent that budget)', () => {
    const body = `rules:
  - { id: all, effect: allow, limits: [{ window: 1h, max_count: 2 }] }
  - { id: hashes, effect: allow, match: { message_type: hash32 } }
`;
    const booked = [1, 2].map((i) => ledgerEntryFromIntent(hash32, NOW.getTime() - i * 1000, 'committed'));
    const d = decide(body, demoIntent({ message_type: 'text' }), booked);
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.decidingRule, 'all');
  });
});

describe('caps and words', () => {
  const body = 'rules: [{ id: r, effect: allow, max_size: 64, limits: [{ window: 1h, max_count: 5 }] }]';

  test('a cap checks the bigint facet of its name, and says so in its own words', () => {
    assert.equal(decide(body, demoIntent({ max_size: 64n })).code, 'ALLOWED');
    const d = decide(body, demoIntent({ max_size: 65n }));
    assert.equal(d.code, 'LIMIT_EXCEEDED');
    assert.equal(d.reason, 'Denied: message size 65 bytes is above the max_size of rule r (64 bytes).');
    assert.equal(
      d.remedy,
      'shorten the message to at most 64 bytes, or ask an operator to raise max_size of rule r',
    );
    const none = decide(body, demoIntent({ max_size: 64 }));
    assert.equal(none.code, 'ALLOWED', 'a number is no quantity: the cap does not apply');
    assert.ok(none.trail[0]?.notes.includes('max_size does not apply: no message'));
  });

  test('explanations use the vocabularies: subject, conditions, count noun, unit, caps, fee note', () => {
    const p = parse(`rules:
  - id: r
    match: { protocol: demo, action: sign_message, message_type: [text, siwe], level: [1, 2] }
    effect: allow
    max_size: 64
    max_per_tx: 1000
    limits: [{ window: 1h, max_count: 5 }]
  - { id: s, match: { protocol: [demo, other] }, effect: deny, limits: [{ window: day, max_count: 1 }] }
`);
    assert.deepEqual(DEMO_LANGUAGE.explain(p).slice(2), [
      'Value limits (per transaction and per window) count fees: a request counts its amount plus the most its fees can cost (Demo: a flat fee), and a payment made counts the fee it paid, or that worst case until the fee paid is known.',
      'Requests whose risk score is above 6 (risk tolerance medium) are denied.',
      'Rule r: Demo message signatures of type text or siwe at level 1 or 2 are allowed.',
      'Rule r: at most 1,000 base units per transaction.',
      'Rule r: the message size may be at most 64 bytes.',
      'Rule r: at most 5 signatures per rolling hour.',
      'Rule s: Demo requests and Other payments are denied.',
      'Rule s: at most 1 operations per calendar day (UTC).',
      'Anything no rule allows is denied.',
    ]);
    assert.equal(DEMO_LANGUAGE.words.formatAmount('demo:coin', 1234n), '1,234 dc');
    assert.equal(DEMO_LANGUAGE.words.describeIntent(demoIntent({})), 'doing sign_message with 5 dc');
  });

  test('mismatches use the declared label and missing message', () => {
    const body2 = 'rules: [{ id: r, effect: allow, match: { level: [1, 2] } }]';
    assert.equal(decide(body2, demoIntent({})).trail[0]?.mismatch, 'request has no level');
    assert.equal(decide(body2, demoIntent({ level: 3 })).trail[0]?.mismatch, 'level 3 is not in [1, 2]');
    assert.equal(
      decide(body2, demoIntent({ level: '1' })).trail[0]?.mismatch,
      'request has no level',
      'wrong type',
    );
    assert.equal(
      decide(body2, demoIntent({ level: 1n })).trail[0]?.mismatch,
      'request has no level',
      'a quantity',
    );
  });
});

describe('ledger facets', () => {
  test('text and finite numbers only, keys sorted; "__proto__" stays a plain key', () => {
    const facets = JSON.parse('{"z":1,"a":"A","n":null,"__proto__":"x","big":null}') as Record<
      string,
      string | number | null
    >;
    const out = ledgerFacets({ ...facets, q: 5n, nan: Number.NaN });
    assert.deepEqual(Object.keys(out), ['__proto__', 'a', 'z']);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(out.a, 'A', 'kept as the module gave it');
    assert.equal(JSON.stringify(out), '{"__proto__":"x","a":"A","z":1}');
  });

  test('windows count an entry only when it has every facet the rule conditions on', () => {
    const body =
      'rules: [{ id: r, effect: allow, match: { level: 1 }, limits: [{ window: 1h, max_count: 1 }] }]';
    const at = NOW.getTime() - 1000;
    const without = ledgerEntryFromIntent(demoIntent({}), at, 'committed');
    const other = ledgerEntryFromIntent(demoIntent({ level: 2 }), at, 'committed');
    const same = ledgerEntryFromIntent(demoIntent({ level: 1 }), at, 'committed');
    assert.equal(decide(body, demoIntent({ level: 1 }), [without, other]).code, 'ALLOWED');
    assert.equal(decide(body, demoIntent({ level: 1 }), [same]).code, 'LIMIT_EXCEEDED');
    // Text compared in its normal form on both sides.
    const text =
      'rules: [{ id: r, effect: allow, match: { message_type: siwe }, limits: [{ window: 1h, max_count: 1 }] }]';
    const upper = ledgerEntryFromIntent(demoIntent({ message_type: 'SIWE' }), at, 'committed');
    assert.equal(decide(text, demoIntent({ message_type: 'siwe' }), [upper]).code, 'LIMIT_EXCEEDED');
  });
});

describe('createPolicyLanguage checks the declarations', () => {
  const refuses = (vocabularies: ProtocolVocabulary[], fragment: string) =>
    assert.throws(
      () => createPolicyLanguage(vocabularies),
      (err: unknown) => isWardenError(err, 'INVALID_ARGUMENT') && err.message.includes(fragment),
    );
  const facet = (over: Partial<FacetVocabulary>): FacetVocabulary => ({ ...messageType, ...over });

  test('names are unique, leave the common keys alone, and caps do not read as windows', () => {
    refuses([], 'at least one protocol');
    refuses([DEMO, DEMO], 'protocol "demo" is already declared');
    refuses([{ ...OTHER, actions: [] }], 'declares no action');
    refuses([DEMO, { ...OTHER, facets: [facet({})] }], 'facet "message_type" is already declared by demo');
    refuses(
      [{ ...OTHER, facets: [facet({ name: 'asset' })] }],
      'facet "asset" is already declared by every policy',
    );
    refuses([{ ...OTHER, facets: [facet({ name: 'Kind' })] }], 'must be 1 to 64 of a-z');
    const cap = DEMO.caps?.[0];
    assert.ok(cap);
    refuses(
      [{ ...OTHER, caps: [{ ...cap, name: 'limits' }] }],
      'cap "limits" is already declared by every policy',
    );
    refuses([{ ...OTHER, caps: [{ ...cap, name: 'day' }] }], 'reads like a window');
    refuses(
      [DEMO, { ...OTHER, caps: [{ ...cap, name: 'level' }] }],
      'cap "level" is already declared by demo',
    );
  });

  test('opt-in values must be valid items in normal form', () => {
    refuses([{ ...OTHER, facets: [facet({ optIn: [] })] }], 'lists no opt-in value');
    refuses([{ ...OTHER, facets: [facet({ optIn: ['blob'] })] }], 'opt-in value blob');
    refuses([{ ...OTHER, facets: [facet({ optIn: ['HASH32'] })] }], 'opt-in value HASH32');
  });

  test('a facet named like an Object method reads own values only', () => {
    const { optIn: _optIn, ...plain } = messageType;
    const lang = createPolicyLanguage([{ ...OTHER, facets: [{ ...plain, name: 'constructor' }] }]);
    const p = lang.parse('version: 1\nname: t\nrules: [{ id: r, effect: allow }]\n');
    assert.deepEqual(p.rules[0]?.match.facets, []);
    const intent = { ...demoIntent({}), protocol: 'other', action: 'pay' };
    const q = lang.parse(
      'version: 1\nname: t\nrules: [{ id: r, effect: allow, match: { constructor: text } }]\n',
    );
    assert.equal(
      evaluate(intent, risk(2), snapshot(), q, NOW).trail[0]?.mismatch,
      'request has no message type',
    );
  });

  test('a module changing its declaration later changes no language', () => {
    const mine: ProtocolVocabulary = { ...OTHER, actions: [{ name: 'pay', noun: 'payments' }] };
    const lang = createPolicyLanguage([mine]);
    (mine.actions as { name: string; noun: string }[]).push({ name: 'steal', noun: 'thefts' });
    assertInvalid(
      () => lang.parse('version: 1\nname: t\nrules: [{ id: r, effect: allow, match: { action: steal } }]\n'),
      'rules[0].match.action',
    );
  });
});

describe("Warden's language", () => {
  test('four protocols, in the order of the documents’ contract', () => {
    assert.deepEqual(
      POLICY_LANGUAGE.protocols.map((p) => p.name),
      ['nostr', 'evm', 'bitcoin', 'lightning'],
    );
  });

  test('policy/ names no protocol outside comments', () => {
    const dir = new URL('../../src/policy/', import.meta.url);
    const words = [
      ...POLICY_LANGUAGE.protocols.flatMap((p) => [p.name, p.title]),
      'ethereum',
      'arbitrum',
      'gwei',
      'wei',
      'chain_id',
      'sat',
    ];
    const pattern = new RegExp(`\\b(${words.join('|')})\\b`, 'i');
    for (const name of readdirSync(dir)) {
      const code = readFileSync(new URL(name, dir), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '')
        .replace(/\s\/\/ .*$/gm, '');
      const hit = pattern.exec(code);
      assert.equal(hit, null, `${name}: ${hit?.[0]}`);
    }
  });
});
