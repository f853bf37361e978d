/**
 * The LND REST front (test/helpers/lnd-rest-front.ts) cannot drift from lnd's shapes: every answer
 * it gives here, over a real LDK node, is checked against the operations and definitions of lnd's
 * own swagger (lnd-rest/*.swagger.subset.json, PROVENANCE.txt), and every operation of the subset
 * is answered at least once, successes and errors both.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { startLightningNodes } from '../../helpers/ldk-node.ts';
import { type LndRoute, startLndFront } from '../../helpers/lnd-rest-front.ts';
import { loadSwagger, shapeProblems } from './lnd-rest/swagger-shapes.ts';

// B pays A's invoices over a channel of its own (the A–B one is all A's).
const ln = await startLightningNodes(
  ['A', 'B'],
  [
    ['A', 'B', 1_000_000n],
    ['B', 'A', 1_000_000n],
  ],
);
const macaroon = new Uint8Array(randomBytes(32));
const front = await startLndFront({
  node: ln.node('A'),
  macaroon,
  chain: { height: () => ln.bitcoin.height(), tipHash: () => ln.bitcoin.full.chain.tip.rhash() },
});
const lightning = await loadSwagger('./lightning.swagger.subset.json');
const router = await loadSwagger('./router.swagger.subset.json');

const OPERATIONS: Record<LndRoute, [doc: typeof lightning, path: string, method: string]> = {
  getinfo: [lightning, '/v1/getinfo', 'get'],
  balance: [lightning, '/v1/balance/channels', 'get'],
  channels: [lightning, '/v1/channels', 'get'],
  decode: [lightning, '/v1/payreq/{pay_req}', 'get'],
  addinvoice: [lightning, '/v1/invoices', 'post'],
  lookupinvoice: [lightning, '/v1/invoice/{r_hash_str}', 'get'],
  send: [router, '/v2/router/send', 'post'],
  track: [router, '/v2/router/track/{payment_hash}', 'get'],
};

async function call(method: 'GET' | 'POST', path: string, body?: unknown, mac: Uint8Array | null = macaroon) {
  const response = await fetch(new URL(path, front.url), {
    method,
    headers: mac ? { 'grpc-metadata-macaroon': Buffer.from(mac).toString('hex') } : {},
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    lines: text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
  };
}

const b64url = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

test('every operation answers, successes and errors', async () => {
  assert.equal((await call('GET', '/v1/getinfo')).lines[0].identity_pubkey, ln.node('A').idHex);
  await call('GET', '/v1/balance/channels');
  assert.equal((await call('GET', '/v1/channels')).lines[0].channels.length, 2);
  const invoice = ln.node('B').invoice(21_000n, 'front', 600).to_str();
  assert.equal((await call('GET', `/v1/payreq/${invoice}`)).lines[0].num_msat, '21000');
  assert.equal((await call('GET', '/v1/payreq/lnbcrt1garbage')).status, 500);

  const paid = await call('POST', '/v2/router/send', {
    payment_request: invoice,
    timeout_seconds: 30,
    fee_limit_sat: '10',
  });
  assert.deepEqual(
    paid.lines.map((l) => l.result.status),
    ['IN_FLIGHT', 'SUCCEEDED'],
  );
  const hash = paid.lines[1].result.payment_hash as string;
  const again = await call('POST', '/v2/router/send', {
    payment_request: invoice,
    timeout_seconds: 30,
    fee_limit_sat: '10',
  });
  assert.deepEqual(
    [again.status, again.lines[0].error.code, again.lines[0].error.message],
    [409, 6, 'invoice is already paid'],
  );
  const tracked = await call('GET', `/v2/router/track/${b64url(hash)}`);
  assert.equal(tracked.lines.at(-1).result.status, 'SUCCEEDED');
  assert.equal((await call('GET', `/v2/router/track/${b64url('00'.repeat(32))}`)).status, 404);

  const tooMuch = ln.node('B').invoice(5_000_000_000n, 'too much', 600).to_str();
  const failed = await call('POST', '/v2/router/send', {
    payment_request: tooMuch,
    timeout_seconds: 30,
    fee_limit_sat: '10',
  });
  assert.equal(failed.lines.at(-1).result.failure_reason, 'FAILURE_REASON_NO_ROUTE');
  const both = { payment_request: tooMuch, fee_limit_sat: '1', fee_limit_msat: '1000' };
  const refused = await call('POST', '/v2/router/send', both);
  assert.deepEqual(
    [refused.status, refused.lines[0].error.message],
    [500, 'sat and msat arguments are mutually exclusive'],
  );

  const made = await call('POST', '/v1/invoices', {
    memo: 'to A',
    value_msat: '5000',
    expiry: '600',
    private: true,
  });
  const rHash = Buffer.from(made.lines[0].r_hash, 'base64').toString('hex');
  assert.equal((await call('GET', `/v1/invoice/${rHash}`)).lines[0].state, 'OPEN');
  const outcome = await ln.pay('B', made.lines[0].payment_request, 10_000n);
  assert.equal(outcome.state, 'succeeded');
  const settled = (await call('GET', `/v1/invoice/${rHash}`)).lines[0];
  assert.deepEqual([settled.state, settled.amt_paid_msat], ['SETTLED', '5000']);
  assert.equal(
    Buffer.from(settled.r_preimage, 'base64').toString('hex'),
    outcome.state === 'succeeded' && outcome.preimage,
  );
  assert.equal((await call('GET', `/v1/invoice/${'00'.repeat(32)}`)).status, 404);
  assert.notEqual(settled.settle_date, '0');

  // Keysend: no invoice, the preimage in record 5482373484; a hash that is not the preimage's refused.
  const preimage = randomBytes(32);
  const keysendHash = createHash('sha256').update(preimage).digest();
  const keysend = (record: Buffer, hashOf: Buffer) =>
    call('POST', '/v2/router/send', {
      dest: Buffer.from(ln.node('B').idHex, 'hex').toString('base64'),
      amt_msat: '2000000',
      payment_hash: hashOf.toString('base64'),
      dest_custom_records: { '5482373484': record.toString('base64') },
      timeout_seconds: 30,
      fee_limit_sat: '10',
    });
  const wrong = await keysend(preimage, Buffer.alloc(32));
  assert.deepEqual([wrong.status, wrong.lines[0].error.code], [400, 3]);
  const spontaneous = await keysend(preimage, keysendHash);
  assert.deepEqual(
    spontaneous.lines.map((l) => l.result.status),
    ['IN_FLIGHT', 'SUCCEEDED'],
  );
  assert.equal(spontaneous.lines[1].result.payment_preimage, preimage.toString('hex'));
  assert.equal(ln.node('B').claimed.get(keysendHash.toString('hex')), 2_000_000n);
  const twice = await keysend(preimage, keysendHash);
  assert.deepEqual([twice.status, twice.lines[0].error.code], [409, 6]);
});

test('a wrong or missing macaroon is refused as lnd refuses it (code 2, HTTP 500)', async () => {
  const wrong = await call('GET', '/v1/getinfo', undefined, new Uint8Array(randomBytes(32)));
  assert.deepEqual([wrong.status, wrong.lines[0].code], [500, 2]);
  assert.match(wrong.lines[0].message, /verification failed/);
  const none = await call('GET', '/v1/balance/channels', undefined, null);
  assert.deepEqual([none.status, none.lines[0].message], [500, 'expected 1 macaroon, got 0']);
  const stream = await call('POST', '/v2/router/send', {}, new Uint8Array(randomBytes(32)));
  assert.equal(stream.lines[0].error.code, 2);
});

after(() => {
  // Runs after the tests: every answer the front gave, against lnd's schema for its operation.
  const seen = new Set(front.answers.map((a) => a.route));
  assert.deepEqual([...seen].sort(), Object.keys(OPERATIONS).sort(), 'every operation was answered');
  for (const { route, status, json } of front.answers) {
    const [doc, path, method] = OPERATIONS[route];
    const responses = doc.paths[path][method].responses;
    const streamed = typeof json === 'object' && json !== null && ('result' in json || 'error' in json);
    const schema = status === 200 || streamed ? responses['200'].schema : responses.default.schema;
    assert.deepEqual(
      shapeProblems(json, schema),
      [],
      `${route} (${status}): ${JSON.stringify(json).slice(0, 300)}`,
    );
  }
});

test('the shape check is not vacuous: an invented field, a float amount, an unknown status are problems', () => {
  const payment = router.definitions.lnrpcPayment;
  assert.deepEqual(shapeProblems({ value_msat: '1000', status: 'SUCCEEDED' }, payment), []);
  assert.equal(shapeProblems({ paid: true }, payment).length, 1);
  assert.equal(shapeProblems({ value_msat: 1000.5 }, payment).length, 1);
  assert.equal(shapeProblems({ status: 'PAID' }, payment).length, 1);
});
