import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isWardenError } from '../../src/core/errors.ts';
import { POLICY_LANGUAGE, POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { assertInvalid } from './helpers.ts';

const { parse: parsePolicy, fromData: policyFromData, jsonSchema: policyJsonSchema } = POLICY_LANGUAGE;
const HEAD = 'version: 1\nname: t\n';
const yaml = (body: string) => () => parsePolicy(HEAD + body);
const oneRule = (fields: string) => yaml(`rules:\n  - id: r\n${fields}`);

describe('parsePolicy: valid documents', () => {
  test('every template parses, under its own name', () => {
    assert.ok(Object.keys(POLICY_TEMPLATES).length >= 3);
    for (const name of ['guidelines-default', 'nostr-only', 'deny-all']) assert.ok(POLICY_TEMPLATES[name]);
    for (const [name, text] of Object.entries(POLICY_TEMPLATES)) {
      const p = parsePolicy(text, 'yaml');
      assert.equal(p.name, name);
      assert.ok(p.rules.length >= 1);
    }
  });

  test('normalizes: bigint amounts, durations in ms, calendar windows, lower-cased addresses, hold defaults', () => {
    const p = parsePolicy(`${HEAD}destinations:
  deny: ["0xABCDEFabcdefABCDEFabcdefABCDEFabcdefABCD"]
rules:
  - id: a
    match: { protocol: evm, contract: "0xABCDEFabcdefABCDEFabcdefABCDEFabcdefABCD", function: "0xA9059CBB", amount: { min: 1, max: "123456789012345678901234567890" } }
    effect: allow
    max_per_tx: "1000000000000000000"
    limits:
      - { window: 90m, max_value: 5, per_destination: true }
      - { window: week, max_count: 3 }
    allowlist: ["0xABCDEFabcdefABCDEFabcdefABCDEFabcdefABCD", "BC1QXY2KGDYGJRSQTZQ2N0YRF2493P83KKFJHX0WLH"]
  - id: b
    effect: hold
  - id: c
    effect: hold
    delay: 2w
  - id: d
    effect: hold
    approvals: 3
    delay: 30s
`);
    const [a, b, c, d] = p.rules;
    assert.ok(a && b && c && d);
    assert.equal(a.maxPerTx, 10n ** 18n);
    assert.equal(a.match.amountMin, 1n);
    assert.equal(a.match.amountMax, 123456789012345678901234567890n);
    assert.deepEqual(
      a.match.facets.map((c) => [c.facet, c.values]),
      [
        ['contract', ['0xabcdefabcdefabcdefabcdefabcdefabcdefabcd']],
        ['function', ['0xa9059cbb']],
      ],
    );
    assert.deepEqual(a.allowlist, [
      '0xabcdefabcdefabcdefabcdefabcdefabcdefabcd',
      'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh',
    ]);
    assert.deepEqual(p.destinations.deny, ['0xabcdefabcdefabcdefabcdefabcdefabcdefabcd']);
    assert.deepEqual(a.limits[0], {
      window: { kind: 'rolling', ms: 90 * 60_000, label: '90m' },
      maxValue: 5n,
      maxCount: null,
      perDestination: true,
    });
    assert.deepEqual(a.limits[1]?.window, { kind: 'calendar', unit: 'week', label: 'week' });
    assert.equal(a.approvals, 0);
    assert.deepEqual([b.approvals, b.delayMs], [1, 0]);
    assert.deepEqual([c.approvals, c.delayMs], [0, 14 * 86_400_000]);
    assert.deepEqual([d.approvals, d.delayMs], [3, 30_000]);
    assert.equal(p.risk.tolerance, 'medium');
    assert.equal(p.newDestination, 'allow');
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.rules) && Object.isFrozen(a.limits[0]));
  });

  test('JSON and YAML spell the same policy', () => {
    const fromYaml = parsePolicy(
      `${HEAD}rules:\n  - { id: r, effect: allow, max_per_tx: 5, match: { kind: [1, 7] } }\n`,
    );
    const fromJson = parsePolicy(
      '{"version":1,"name":"t","rules":[{"id":"r","effect":"allow","max_per_tx":"5","match":{"kind":[1,7]}}]}',
    );
    assert.deepEqual(fromJson, fromYaml);
    assert.deepEqual(
      parsePolicy(JSON.stringify({ version: 1, name: 't', rules: [{ id: 'r', effect: 'deny' }] }), 'json')
        .rules[0]?.effect,
      'deny',
    );
  });

  test('YAML aliases within the limit are fine', () => {
    const p = parsePolicy(`${HEAD}rules:
  - id: a
    effect: allow
    limits: [&l { window: 1h, max_count: 2 }]
  - id: b
    effect: allow
    limits: [*l]
`);
    assert.deepEqual(p.rules[1]?.limits, p.rules[0]?.limits);
  });

  test('a large amount written as a string stays exact', () => {
    const p = parsePolicy(`${HEAD}rules:\n  - { id: r, effect: allow, max_per_tx: "9007199254740993" }\n`);
    assert.equal(p.rules[0]?.maxPerTx, 9007199254740993n);
  });
});

describe('parsePolicy: each kind of bad document is POLICY_INVALID with its path', () => {
  test('unknown fields, everywhere', () => {
    assertInvalid(yaml('colour: red\nrules:\n  - { id: r, effect: allow }\n'), 'colour', 'unknown field');
    assertInvalid(oneRule('    effect: allow\n    effct: deny\n'), 'rules[0].effct', 'unknown field');
    // A misspelt key is reported as unknown, not as the real key missing.
    assertInvalid(oneRule('    effct: deny\n'), 'rules[0].effct', 'unknown field (and 1 more problem)');
    assertInvalid(
      oneRule('    effect: allow\n    match: { protocol: evm, chain: 1 }\n'),
      'rules[0].match.chain',
    );
    assertInvalid(
      oneRule('    effect: allow\n    limits: [{ window: 1h, max_count: 1, per_dest: true }]\n'),
      'rules[0].limits[0].per_dest',
    );
    assertInvalid(
      yaml('risk: { tolerance: low, level: 3 }\nrules: [{ id: r, effect: allow }]\n'),
      'risk.level',
    );
    assertInvalid(
      yaml('destinations: { allowed: [] }\nrules: [{ id: r, effect: allow }]\n'),
      'destinations.allowed',
    );
    assertInvalid(
      oneRule('    effect: allow\n    risk: { max_score: 3, min_score: 1 }\n'),
      'rules[0].risk.min_score',
    );
  });

  test('"__proto__" is just an unknown field, and pollutes nothing', () => {
    assertInvalid(
      () =>
        parsePolicy(
          '{"version":1,"name":"t","rules":[{"id":"r","effect":"allow"}],"__proto__":{"polluted":1}}',
        ),
      '__proto__',
      'unknown field',
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('bad windows and durations', () => {
    assertInvalid(
      yaml(`rules:
  - { id: a, effect: allow }
  - { id: b, effect: allow }
  - id: c
    effect: allow
    limits: [{ window: 2x, max_count: 1 }]
`),
      'rules[2].limits[0].window',
      'unknown window "2x"',
    );
    assertInvalid(
      oneRule('    effect: allow\n    limits: [{ window: 0h, max_count: 1 }]\n'),
      'rules[0].limits[0].window',
    );
    assertInvalid(
      oneRule('    effect: allow\n    limits: [{ window: 1.5h, max_count: 1 }]\n'),
      'rules[0].limits[0].window',
    );
    assertInvalid(
      oneRule('    effect: allow\n    limits: [{ window: 1y, max_count: 1 }]\n'),
      'rules[0].limits[0].window',
    );
    assertInvalid(
      oneRule('    effect: allow\n    limits: [{ window: 99999w, max_count: 1 }]\n'),
      'rules[0].limits[0].window',
      'too long',
    );
    assertInvalid(oneRule('    effect: hold\n    delay: day\n'), 'rules[0].delay', 'bad duration');
    assertInvalid(oneRule('    effect: hold\n    delay: 10\n'), 'rules[0].delay');
  });

  test('amounts: negative, fractional, float, exponent, hex, unsafe integers, junk', () => {
    const bad = [
      '-5',
      '"-5"',
      '1.5',
      '"1.5"',
      '1.0',
      '1e6',
      '"1e6"',
      '1E+6',
      '0x10',
      '0o7',
      '.inf',
      '9007199254740993',
      '"5 sat"',
      '"1_000"',
      'true',
      '[1]',
      '" 1"',
    ];
    for (const v of bad) {
      assertInvalid(oneRule(`    effect: allow\n    max_per_tx: ${v}\n`), 'rules[0].max_per_tx');
    }
    assertInvalid(
      oneRule('    effect: allow\n    max_per_tx: 1e6\n'),
      'rules[0].max_per_tx',
      'not a plain whole number',
    );
    assertInvalid(oneRule('    effect: allow\n    max_per_tx: -5\n'), 'rules[0].max_per_tx', 'negative');
    assertInvalid(
      () =>
        parsePolicy('{"version":1,"name":"t","rules":[{"id":"r","effect":"allow","max_fee_per_gas":1e6}]}'),
      'rules[0].max_fee_per_gas',
    );
    assertInvalid(
      () =>
        parsePolicy(
          '{"version":1,"name":"t","rules":[{"id":"r","effect":"allow","limits":[{"window":"1h","max_value":2.5}]}]}',
        ),
      'rules[0].limits[0].max_value',
    );
    assertInvalid(
      oneRule('    effect: allow\n    match: { amount: { min: 10, max: 5 } }\n'),
      'rules[0].match.amount.min',
    );
    assertInvalid(oneRule('    effect: allow\n    match: { amount: {} }\n'), 'rules[0].match.amount');
  });

  test('rules: duplicate ids, none at all, bad ids, bad effects', () => {
    assertInvalid(
      yaml(
        'rules:\n  - { id: a, effect: allow }\n  - { id: b, effect: deny }\n  - { id: a, effect: hold }\n',
      ),
      'rules[2].id',
      'duplicate rule id "a"',
    );
    assertInvalid(yaml('rules: []\n'), 'rules', 'at least one rule');
    assertInvalid(yaml('description: x\n'), 'rules');
    assertInvalid(yaml('rules:\n  - { id: Big, effect: allow }\n'), 'rules[0].id', 'bad rule id');
    assertInvalid(yaml(`rules:\n  - { id: ${'a'.repeat(65)}, effect: allow }\n`), 'rules[0].id');
    assertInvalid(yaml('rules:\n  - { id: r, effect: permit }\n'), 'rules[0].effect');
    assertInvalid(yaml('rules:\n  - { id: r }\n'), 'rules[0].effect');
  });

  test('holds: approvals 0 refused, approvals or delay only on holds', () => {
    assertInvalid(oneRule('    effect: hold\n    approvals: 0\n'), 'rules[0].approvals');
    assertInvalid(oneRule('    effect: hold\n    approvals: 1.5\n'), 'rules[0].approvals');
    assertInvalid(
      oneRule('    effect: allow\n    approvals: 2\n'),
      'rules[0].approvals',
      'only a rule with effect hold',
    );
    assertInvalid(
      oneRule('    effect: deny\n    delay: 1h\n'),
      'rules[0].delay',
      'only a rule with effect hold',
    );
  });

  test('a limit needs max_value or max_count', () => {
    assertInvalid(
      oneRule('    effect: allow\n    limits: [{ window: 24h }]\n'),
      'rules[0].limits[0]',
      'max_value, max_count',
    );
    assertInvalid(
      oneRule('    effect: allow\n    limits: [{ window: 24h, per_destination: true }]\n'),
      'rules[0].limits[0]',
    );
  });

  test('match conditions: empty lists, bad addresses and selectors, bad enums', () => {
    assertInvalid(
      oneRule('    effect: allow\n    match: { protocol: [] }\n'),
      'rules[0].match.protocol',
      'matches nothing',
    );
    assertInvalid(oneRule('    effect: allow\n    match: { protocol: solana }\n'), 'rules[0].match.protocol');
    assertInvalid(
      oneRule('    effect: allow\n    match: { action: [send, mint] }\n'),
      'rules[0].match.action',
    );
    assertInvalid(
      oneRule('    effect: allow\n    match: { contract: "0x1234" }\n'),
      'rules[0].match.contract',
    );
    assertInvalid(
      oneRule('    effect: allow\n    match: { function: transfer }\n'),
      'rules[0].match.function',
    );
    assertInvalid(oneRule('    effect: allow\n    match: { kind: -1 }\n'), 'rules[0].match.kind');
    assertInvalid(oneRule('    effect: allow\n    match: { chain_id: 0 }\n'), 'rules[0].match.chain_id');
    assertInvalid(oneRule('    effect: allow\n    allowlist: ["two words"]\n'), 'rules[0].allowlist[0]');
    assertInvalid(oneRule('    effect: allow\n    risk: { max_score: 17 }\n'), 'rules[0].risk.max_score');
  });

  test('version, name, root', () => {
    assertInvalid(
      () => parsePolicy('version: 2\nname: t\nrules: [{ id: r, effect: allow }]\n'),
      'version',
      'unsupported version',
    );
    assertInvalid(() => parsePolicy('version: 1\nrules: [{ id: r, effect: allow }]\n'), 'name');
    assertInvalid(() => parsePolicy('[]'), '(document)');
    assertInvalid(() => parsePolicy('just text'), '(document)');
    assertInvalid(() => parsePolicy(''), '(document)');
    assertInvalid(() => parsePolicy('{"version":1,', 'json'), '(document)', 'not valid JSON');
    assertInvalid(() => parsePolicy('a: [1, 2', 'yaml'), '(document)', 'YAML error');
  });

  test('duplicate keys, in YAML and in JSON', () => {
    assertInvalid(oneRule('    effect: allow\n    effect: deny\n'), 'rules[0].effect', 'duplicate key');
    assertInvalid(
      () => parsePolicy('{"version":1,"name":"a","name":"b","rules":[{"id":"r","effect":"allow"}]}', 'json'),
      'name',
      'duplicate key',
    );
    assertInvalid(
      () =>
        parsePolicy('{"version":1,"name":"a","rules":[{"id":"r","effect":"allow","\\u0065ffect":"deny"}]}'),
      'rules[0].effect',
      'duplicate key',
    );
  });

  test('YAML tags, merge keys and several documents are refused', () => {
    assertInvalid(
      yaml('description: !!js/function "function () {}"\nrules: [{ id: r, effect: allow }]\n'),
      '(document)',
      'tag',
    );
    assertInvalid(yaml('description: !custom x\nrules: [{ id: r, effect: allow }]\n'), '(document)');
    assertInvalid(
      yaml('description: !!str x\nrules: [{ id: r, effect: allow }]\n'),
      'description',
      'tags are not allowed',
    );
    assertInvalid(oneRule('    effect: allow\n    max_per_tx: !!int "5"\n'), 'rules[0].max_per_tx', 'tags');
    assertInvalid(
      yaml('base: &b { effect: allow }\nrules:\n  - id: r\n    <<: *b\n'),
      'rules[0]["<<"]',
      'unknown field',
    );
    assertInvalid(
      () =>
        parsePolicy(
          `${HEAD}rules: [{ id: r, effect: allow }]\n---\n${HEAD}rules: [{ id: s, effect: deny }]\n`,
        ),
      '(document)',
    );
  });

  test('YAML alias bombs are refused (alias count, and expansion budget)', () => {
    const levels = (n: number, width: number) => {
      const lines = [`a0: &a0 [${Array(width).fill('lol').join(', ')}]`];
      for (let i = 1; i < n; i++)
        lines.push(
          `a${i}: &a${i} [${Array(width)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      return `${HEAD}${lines.join('\n')}\nrules: [{ id: r, effect: allow }]\n`;
    };
    const manyAliases = levels(9, 9); // 72 alias nodes, 9^9 values
    // Few aliases, each to a wide list: stopped by the expansion budget instead.
    const wide = `${HEAD}a: &a [${Array(5000).fill('1').join(', ')}]\nb: [${Array(30).fill('*a').join(', ')}]\nrules: [{ id: r, effect: allow }]\n`;
    for (const text of [manyAliases, wide]) {
      const started = Date.now();
      assert.throws(
        () => parsePolicy(text),
        (err: unknown) => isWardenError(err, 'POLICY_INVALID') && /alias|expands/.test(err.message),
      );
      assert.ok(Date.now() - started < 2000, 'refused quickly');
    }
    assert.throws(() => parsePolicy(manyAliases), /maxAliasCount/);
    assert.throws(() => parsePolicy(wide), /b\[\d+\]\[\d+\]: document expands to more than/);
    assert.throws(
      () => parsePolicy(`${HEAD}x: &x [*x]\nrules: [{ id: r, effect: allow }]\n`),
      (err: unknown) => isWardenError(err, 'POLICY_INVALID'),
    );
  });

  test('oversized documents are refused before parsing', () => {
    const padding = `# ${'x'.repeat(1000)}\n`.repeat(263);
    const text = `${HEAD}rules: [{ id: r, effect: allow }]\n${padding}`;
    assert.ok(text.length > 256 * 1024);
    assertInvalid(() => parsePolicy(text), '(document)', '256 KiB');
    // Bytes, not characters: 100k three-byte characters are 300 kB.
    assertInvalid(
      () => parsePolicy(`${HEAD}description: "${'€'.repeat(100_000)}"\nrules: []\n`),
      '(document)',
      '256 KiB',
    );
  });

  test('deep nesting is refused, not a crash', () => {
    const nested = (n: number) => `{"version":1,"name":"t","rules":${'['.repeat(n)}${']'.repeat(n)}}`;
    assertInvalid(() => parsePolicy(nested(40)), `rules${'[0]'.repeat(32)}`, 'nested more than 32 levels');
    assertInvalid(() => parsePolicy(nested(50_000)), '(document)');
    assertInvalid(() => parsePolicy(`${HEAD}rules: ${'['.repeat(50_000)}`), '(document)');
  });

  test('policyFromData validates already-parsed data the same way', () => {
    assertInvalid(
      () => policyFromData({ version: 1, name: 't', rules: [{ id: 'r', effect: 'allow', x: 1 }] }),
      'rules[0].x',
    );
    assert.equal(
      policyFromData({ version: 1, name: 't', rules: [{ id: 'r', effect: 'allow' }] }).rules.length,
      1,
    );
  });
});

describe('parsePolicy: fuzzing', () => {
  const outcome = (text: string, format?: 'yaml' | 'json') => {
    try {
      parsePolicy(text, format);
      return 'policy';
    } catch (err) {
      assert.ok(isWardenError(err, 'POLICY_INVALID'), `unexpected ${String(err)}`);
      return 'invalid';
    }
  };

  test('random JSON never crashes: a Policy or POLICY_INVALID', () => {
    fc.assert(
      fc.property(fc.json(), (text) => void outcome(text, 'json')),
      { numRuns: 500 },
    );
  });

  test('random strings never crash, as YAML or JSON', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        outcome(text, 'yaml');
        outcome(text, 'json');
      }),
      { numRuns: 500 },
    );
  });

  test('policy-shaped documents with random values never crash', () => {
    const junk = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        'allow',
        'deny',
        'hold',
        '1h',
        'day',
        '2x',
        '1000',
        '-1',
        'bitcoin',
        'nostr',
        1,
        0,
        -1,
        1.5,
      ),
    );
    // Half the documents are built from valid values only, so that some reach evaluation-ready
    // policies on every seed (with junk in every field, a valid one is about 1 in 120, and a run of
    // 1000 without one happened in CI); the other half put junk anywhere.
    const documentOf = (junkWeight: 0 | 1) => {
      const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
        junkWeight === 0
          ? valid
          : fc.oneof({ weight: 6, arbitrary: valid }, { weight: junkWeight, arbitrary: junk });
      const amount = mostly(fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String)));
      const limit = fc.record(
        {
          window: mostly(fc.constantFrom('30s', '1h', '24h', 'day', 'week', 'month')),
          max_value: amount,
          max_count: mostly(fc.nat(20)),
          per_destination: mostly(fc.boolean()),
          ...(junkWeight === 0 ? {} : { extra: junk }),
        },
        { requiredKeys: [] },
      );
      const rule = fc.record(
        {
          id: mostly(fc.constantFrom('a', 'b', 'c', 'd')),
          effect: mostly(fc.constantFrom('allow', 'deny', 'hold')),
          match: fc.record(
            {
              protocol: mostly(fc.constantFrom('bitcoin', 'nostr', 'evm', 'lightning')),
              kind: mostly(fc.array(fc.nat(40000), { minLength: 1, maxLength: 3 })),
              amount: fc.record({ min: amount, max: amount }, { requiredKeys: [] }),
            },
            { requiredKeys: [] },
          ),
          approvals: mostly(fc.integer({ min: 1, max: 3 })),
          delay: mostly(fc.constantFrom('1h', '15m', '7d')),
          max_per_tx: amount,
          limits: fc.array(limit, { maxLength: 3 }),
        },
        { requiredKeys: ['id', 'effect'] },
      );
      return fc.record(
        {
          version: mostly(fc.constant(1)),
          name: mostly(fc.constant('n')),
          rules: fc.array(rule, { maxLength: 4 }),
        },
        { requiredKeys: ['version', 'name', 'rules'] },
      );
    };
    const doc = fc.oneof(documentOf(0), documentOf(1));
    let policies = 0;
    fc.assert(
      fc.property(doc, fc.boolean(), (d, asJson) => {
        const text = JSON.stringify(d);
        if (outcome(text, asJson ? 'json' : 'yaml') === 'policy') policies += 1;
      }),
      { numRuns: 1000 },
    );
    assert.ok(
      policies > 0,
      'some generated documents are valid, so the fuzz reaches evaluation-ready policies',
    );
  });
});

describe('policyJsonSchema', () => {
  test('publishes the document shape, strict everywhere', () => {
    const schema = policyJsonSchema() as {
      type: string;
      additionalProperties: boolean;
      required: string[];
      properties: { rules: { items: { additionalProperties: boolean; required: string[] } } };
    };
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual([...schema.required].sort(), ['name', 'rules', 'version']);
    assert.equal(schema.properties.rules.items.additionalProperties, false);
    assert.deepEqual([...schema.properties.rules.items.required].sort(), ['effect', 'id']);
    assert.doesNotThrow(() => JSON.stringify(schema));
    assert.match(JSON.stringify(schema), /"pattern":"\^\(day\|week\|month/);
  });
});
