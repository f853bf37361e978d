import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { startTestGateway } from '../helpers/gateway.ts';

const POLICY = `
version: 1
name: bad-input
risk: { tolerance: high }
new_destination: allow
rules:
  - { id: nostr, match: { protocol: nostr }, effect: allow }
  - { id: evm, match: { protocol: evm, chain_id: 42161 }, effect: allow }
`;

const GOOD_TO = '0x52908400098527886E0F7030069857D2E4169EE7'; // EIP-55 vector
const EVM_BASE = {
  chainId: 42161,
  to: GOOD_TO,
  value: '1000',
  maxFeePerGas: '1000000000',
  maxPriorityFeePerGas: '1',
};

function assertClientError(r: { status: number; body: any }, label: string, code?: string) {
  assert.ok(
    r.status >= 400 && r.status < 500,
    `${label}: expected 4xx, got ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`,
  );
  assert.equal(typeof r.body?.error?.code, 'string', `${label}: error code`);
  assert.equal(typeof r.body.error.message, 'string');
  if (code) assert.equal(r.body.error.code, code, label);
  const text = JSON.stringify(r.body);
  assert.doesNotMatch(text, /"sig"\s*:/, `${label}: no signature`);
  assert.doesNotMatch(text, /\bat \S+:\d+:\d+/, `${label}: no stack trace`);
}

describe('hostile input: a 4xx with a code, never a 5xx, never a signature', async () => {
  // The EVM endpoint points at a port where nothing listens: a request that got as far as the
  // network would fail loudly (5xx), so a 4xx proves the input was refused before that.
  const g = await startTestGateway({
    identities: ['alice'],
    policies: { alice: POLICY },
    evmRpc: new Map([[42161, 'http://127.0.0.1:9']]),
  });
  const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign', 'evm:send'] });

  test('malformed JSON, wrong content type, non-object bodies, oversized bodies', async () => {
    for (const path of ['/v1/nostr/sign', '/v1/evm/send', '/v1/dry-run']) {
      assertClientError(
        await g.call('POST', path, {
          token,
          rawBody: '{"kind": 1,',
          headers: { 'content-type': 'application/json' },
        }),
        `${path} truncated`,
        'INVALID_JSON',
      );
      assertClientError(
        await g.call('POST', path, {
          token,
          rawBody: '{"kind":1}',
          headers: { 'content-type': 'text/plain' },
        }),
        `${path} text/plain`,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      for (const raw of ['[]', '"x"', '1', 'null']) {
        assertClientError(
          await g.call('POST', path, {
            token,
            rawBody: raw,
            headers: { 'content-type': 'application/json' },
          }),
          `${path} ${raw}`,
        );
      }
      const huge = JSON.stringify({ kind: 1, content: 'x'.repeat(100_000) });
      assertClientError(
        await g.call('POST', path, { token, rawBody: huge, headers: { 'content-type': 'application/json' } }),
        `${path} oversized`,
        'PAYLOAD_TOO_LARGE',
      );
    }
  });

  test('Nostr: bad kinds, types, tags, timestamps and unknown fields', async () => {
    const cases: [string, unknown, string][] = [
      ['negative kind', { kind: -1, content: '' }, 'INVALID_EVENT'],
      ['huge kind', { kind: 70000, content: '' }, 'INVALID_EVENT'],
      ['fractional kind', { kind: 1.5, content: '' }, 'INVALID_EVENT'],
      ['string kind', { kind: '1', content: '' }, 'INVALID_EVENT'],
      ['missing content', { kind: 1 }, 'INVALID_EVENT'],
      ['content not a string', { kind: 1, content: 42 }, 'INVALID_EVENT'],
      ['tags not arrays', { kind: 1, content: '', tags: ['t'] }, 'INVALID_EVENT'],
      ['tag item not a string', { kind: 1, content: '', tags: [['t', 1]] }, 'INVALID_EVENT'],
      ['created_at far future', { kind: 1, content: '', created_at: 9_999_999_999 }, 'INVALID_EVENT'],
      ['created_at negative', { kind: 1, content: '', created_at: -5 }, 'INVALID_EVENT'],
      ['unknown field', { kind: 1, content: '', pubkey: 'f'.repeat(64) }, 'INVALID_REQUEST'],
      [
        'prototype pollution',
        JSON.parse('{"kind":1,"content":"","__proto__":{"admin":true}}'),
        'INVALID_REQUEST',
      ],
      ['bad idempotency key', { kind: 1, content: '', idempotencyKey: 'x y' }, 'INVALID_REQUEST'],
    ];
    for (const [label, body, code] of cases)
      assertClientError(await g.call('POST', '/v1/nostr/sign', { token, body }), label, code);
  });

  test('EVM: bad addresses, amounts, chains and types', async () => {
    const cases: [string, unknown, string][] = [
      [
        'wrong checksum',
        { ...EVM_BASE, to: '0x52908400098527886E0F7030069857D2E4169Ee7' },
        'INVALID_ADDRESS',
      ],
      ['short address', { ...EVM_BASE, to: '0x1234' }, 'INVALID_ADDRESS'],
      ['not hex', { ...EVM_BASE, to: `0x${'g'.repeat(40)}` }, 'INVALID_ADDRESS'],
      [
        'bitcoin address',
        { ...EVM_BASE, to: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' },
        'INVALID_ADDRESS',
      ],
      ['zero address', { ...EVM_BASE, to: `0x${'0'.repeat(40)}` }, 'INVALID_ADDRESS'],
      ['negative value', { ...EVM_BASE, value: '-1' }, 'INVALID_AMOUNT'],
      ['fractional value', { ...EVM_BASE, value: '1.5' }, 'INVALID_AMOUNT'],
      ['exponent value', { ...EVM_BASE, value: '1e18' }, 'INVALID_AMOUNT'],
      ['float value', { ...EVM_BASE, value: 0.01 }, 'INVALID_AMOUNT'],
      ['huge value', { ...EVM_BASE, value: (2n ** 256n).toString() }, 'INVALID_AMOUNT'],
      ['hex value', { ...EVM_BASE, value: '0x10' }, 'INVALID_AMOUNT'],
      ['zero value', { ...EVM_BASE, value: '0' }, 'INVALID_AMOUNT'],
      ['null value', { ...EVM_BASE, value: null }, 'INVALID_AMOUNT'],
      ['string chain', { ...EVM_BASE, chainId: '42161' }, 'INVALID_REQUEST'],
      ['negative chain', { ...EVM_BASE, chainId: -1 }, 'INVALID_REQUEST'],
      ['unknown field', { ...EVM_BASE, data: '0xa9059cbb' }, 'INVALID_REQUEST'],
      ['gas field', { ...EVM_BASE, gas: '1' }, 'INVALID_REQUEST'],
      // Well-formed, but a chain this server has no node for: refused before anything is reserved.
      ['wrong chain', { ...EVM_BASE, chainId: 1 }, 'CHAIN_NOT_ALLOWED'],
    ];
    for (const [label, body, code] of cases)
      assertClientError(await g.call('POST', '/v1/evm/send', { token, body }), label, code);
  });

  test('generated bodies (fast-check) never produce a 5xx or a signature', async () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }).map(String),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 44 }).map((h) => `0x${h}`),
      fc.double().map(String),
    );
    const nostrBody = fc.record(
      { kind: value, content: value, tags: value, created_at: value, idempotencyKey: value, extra: value },
      { requiredKeys: [] },
    );
    const evmBody = fc.record(
      {
        chainId: value,
        to: value,
        value: value,
        maxFeePerGas: value,
        maxPriorityFeePerGas: value,
        nonce: value,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          nostrBody.map((b) => ['/v1/nostr/sign', b] as const),
          evmBody.map((b) => ['/v1/evm/send', b] as const),
        ),
        async ([path, body]) => {
          const r = await g.call('POST', path, { token, body });
          // A generated body can be a valid Nostr event: then it is signed (200), which is fine.
          if (r.status === 200) {
            assert.equal(path, '/v1/nostr/sign');
            return;
          }
          assertClientError(r, `${path} ${JSON.stringify(body).slice(0, 200)}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('unauthenticated and malformed credentials are 401 without detail', async () => {
    for (const header of [
      undefined,
      'Bearer',
      'Bearer x',
      `Bearer ${token}x`,
      `Basic ${token}`,
      `Bearer ${token.slice(0, -2)}AA`,
    ]) {
      const r = await g.call('POST', '/v1/nostr/sign', {
        body: { kind: 1, content: 'x' },
        headers: header ? { authorization: header } : {},
      });
      assert.equal(r.status, 401, String(header));
      assert.equal(r.body.error.code, 'UNAUTHENTICATED');
    }
  });
});
