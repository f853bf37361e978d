/**
 * What Warden's NWC client takes for the wallet's answer (nwc-request.ts `replyOf`): only a kind
 * 23195 event of the wallet's key, naming the request, whose id and signature verify (nostr-tools
 * makes them here, as a wallet would), NIP-44 v2 from the wallet, JSON of the method asked. Anything
 * else from a relay is ignored or refused as malformed; fuzzed events and contents never pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools';
import * as nip44 from 'nostr-tools/nip44';
import { isWardenError } from '../../../src/core/errors.ts';
import type { NwcWalletClient } from '../../../src/keys/capabilities.ts';
import { withNwcClient } from '../../../src/keys/nwc-client-key.ts';
import { createNet } from '../../../src/net/http.ts';
import { replyOf } from '../../../src/protocols/lightning/backend/nwc-request.ts';

const walletSecret = generateSecretKey();
const clientSecret = generateSecretKey();
const uri = new TextEncoder().encode(
  `nostr+walletconnect://${getPublicKey(walletSecret)}?relay=wss%3A%2F%2Fr.example&secret=${bytesToHex(clientSecret)}`,
);
const conversation = nip44.v2.utils.getConversationKey(walletSecret, getPublicKey(clientSecret));

function check(fn: (c: NwcWalletClient, request: Event) => void) {
  return withNwcClient(Uint8Array.from(uri), async (client) => {
    const request = client.sign({ kind: 23194, created_at: 1, tags: [], content: client.encrypt('{}') });
    fn(client, request);
  });
}
const answer = (request: Event, body: unknown, o: { kind?: number; secret?: Uint8Array; e?: string } = {}) =>
  finalizeEvent(
    {
      kind: o.kind ?? 23195,
      created_at: 2,
      tags: [['e', o.e ?? request.id]],
      content: nip44.v2.encrypt(typeof body === 'string' ? body : JSON.stringify(body), conversation),
    },
    o.secret ?? walletSecret,
  );

test('the wallet answer counts; another key, kind, request or an altered event is ignored', async () => {
  await check((client, request) => {
    const c = { relay: 'wss://r.example/', net: createNet({}), identity: null, client };
    const ok = answer(request, { result_type: 'get_balance', result: { balance: 5 } });
    assert.deepEqual(replyOf(c, request, 'get_balance', ok, 'x'), { ok: true, result: { balance: 5 } });
    const err = answer(request, {
      result_type: 'get_balance',
      error: { code: 'RATE_LIMITED', message: 'a\u0000b' },
    });
    assert.deepEqual(replyOf(c, request, 'get_balance', err, 'x'), {
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'a b' },
    });
    const body = { result_type: 'get_balance', result: { balance: 5 } };
    assert.equal(
      replyOf(c, request, 'get_balance', answer(request, body, { secret: generateSecretKey() }), 'x'),
      null,
    );
    assert.equal(replyOf(c, request, 'get_balance', answer(request, body, { kind: 23194 }), 'x'), null);
    assert.equal(
      replyOf(c, request, 'get_balance', answer(request, body, { e: '00'.repeat(32) }), 'x'),
      null,
    );
    assert.equal(
      replyOf(
        c,
        request,
        'get_balance',
        { ...ok, content: answer(request, { ...body, result: { balance: 9 } }).content },
        'x',
      ),
      null,
    );
    const other = answer(request, { result_type: 'pay_invoice', result: {} });
    assert.throws(
      () => replyOf(c, request, 'get_balance', other, 'x'),
      (e) => isWardenError(e, 'BACKEND_REJECTED') && e.details.reason === 'malformed',
    );
  });
});

test('fuzzed contents from the wallet: a reply of the method asked, or malformed; never anything else', async () => {
  await check((client, request) => {
    const c = { relay: 'wss://r.example/', net: createNet({}), identity: null, client };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 1 }),
          fc.json(),
          fc
            .record(
              {
                result_type: fc.constantFrom('get_balance', 'x'),
                result: fc.anything(),
                error: fc.anything(),
              },
              { requiredKeys: [] },
            )
            .map((v) => JSON.stringify(v)),
        ),
        (text) => {
          try {
            const reply = replyOf(c, request, 'get_balance', answer(request, text), 'x');
            assert.ok(reply !== null);
            const parsed = JSON.parse(text);
            assert.equal(parsed.result_type, 'get_balance');
            if (reply.ok) assert.equal(typeof reply.result, 'object');
            else assert.match(reply.error.code, /^[A-Z_]{1,40}$/);
          } catch (err) {
            assert.ok(isWardenError(err, 'BACKEND_REJECTED'), String(err));
          }
        },
      ),
      { numRuns: 300 },
    );
    // Not NIP-44 at all: malformed.
    const raw = finalizeEvent(
      { kind: 23195, created_at: 2, tags: [['e', request.id]], content: 'not base64!' },
      walletSecret,
    );
    assert.throws(
      () => replyOf(c, request, 'get_balance', raw, 'x'),
      (e) => isWardenError(e, 'BACKEND_REJECTED'),
    );
  });
});
