/**
 * The body limit (api/http/body.ts): a declared Content-Length over the limit is refused before
 * anything is read, a chunked body is counted as it arrives and refused once over (and never read
 * at all for a request without a valid token), a body within the limit is served either way, and
 * a request with no body reaches its route. Nothing refused becomes a request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.ts';
import { nostrNotesPolicy } from '../helpers/policies.ts';
import { rawRequest } from '../helpers/raw-http.ts';

test('declared and chunked bodies: over the limit 413 PAYLOAD_TOO_LARGE, within it signed', async () => {
  const g = await startTestGateway({
    identities: ['alice'],
    policies: { alice: nostrNotesPolicy('n', 100) },
  });
  try {
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const post = (body: string, headers: Record<string, string>) =>
      rawRequest(`${g.url}/v1/nostr/sign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body,
      });
    const small = JSON.stringify({ kind: 1, content: 'gm' });
    const huge = JSON.stringify({ kind: 1, content: 'x'.repeat(100_000) });
    const declared = (b: string) => ({ 'content-length': String(Buffer.byteLength(b)) });
    const chunked = { 'transfer-encoding': 'chunked' };
    const requests = async () =>
      (await g.warden.store.db.selectFrom('request').select('id').execute()).length;
    const before = await requests();

    for (const [what, answer] of [
      ['declared', await post(huge, declared(huge))],
      ['chunked', await post(huge, chunked)],
    ] as const) {
      assert.equal(answer.status, 413, what);
      assert.equal(answer.body.error.code, 'PAYLOAD_TOO_LARGE', what);
      assert.equal(answer.headers.connection, 'close', what);
    }
    for (const [what, answer] of [
      ['declared', await post(small, declared(small))],
      ['chunked', await post(small, chunked)],
    ] as const) {
      assert.equal(answer.status, 200, `${what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.request.status, 'done', what);
    }
    // No body at all: the route itself answers (a signing request needs a JSON body).
    const empty = await rawRequest(`${g.url}/v1/nostr/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(empty.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    // Without a valid token a chunked body is never read: the answer is about the credential.
    const anonymous = await rawRequest(`${g.url}/v1/nostr/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...chunked },
      body: huge,
    });
    assert.equal(anonymous.status, 401);
    assert.equal(await requests(), before + 2, 'only the two small notes became requests');
  } finally {
    await g.close();
  }
});
