/**
 * The CLN REST front (test/helpers/cln-rest-front.ts) cannot drift from Core Lightning's shapes:
 * every result it gives here, over a real LDK node, is checked against the response schema of its
 * method in CLN's own doc/schemas (cln-rest/cln.schemas.subset.json, PROVENANCE.txt), every error
 * against the JSON-RPC error object clnrest writes ({code, message}), and every method of the
 * subset Warden calls is answered at least once, successes and errors both.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { type ClnMethod, startClnFront } from '../../helpers/cln-rest-front.ts';
import { startLightningNodes } from '../../helpers/ldk-node.ts';
import { loadClnSchemas, responseProblems, shapeProblems } from './cln-rest/cln-shapes.ts';

// B pays A's invoices over a channel of its own (the A–B one is all A's).
const ln = await startLightningNodes(
  ['A', 'B'],
  [
    ['A', 'B', 1_000_000n],
    ['B', 'A', 1_000_000n],
  ],
);
const rune = Buffer.from(randomBytes(48).toString('base64url'));
const front = await startClnFront({
  node: ln.node('A'),
  rune: new Uint8Array(rune),
  chain: { height: () => ln.bitcoin.height() },
});
const schemas = loadClnSchemas();
const METHODS: ClnMethod[] = [
  'getinfo',
  'listpeerchannels',
  'decode',
  'pay',
  'listpays',
  'invoice',
  'listinvoices',
];

async function call(method: string, params: unknown = {}, header: string | null = rune.toString()) {
  const response = await fetch(new URL(`v1/${method}`, front.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === null ? {} : { rune: header }) },
    body: JSON.stringify(params),
  });
  return { status: response.status, json: (await response.json()) as any };
}

test('every method answers, successes and errors', async () => {
  assert.equal((await call('getinfo')).json.id, ln.node('A').idHex);
  const channels = (await call('listpeerchannels')).json.channels;
  assert.deepEqual(
    channels.map((c: { state: string }) => c.state),
    ['CHANNELD_NORMAL', 'CHANNELD_NORMAL'],
  );
  const invoice = ln.node('B').invoice(21_000n, 'front', 600).to_str();
  const decoded = (await call('decode', { string: invoice })).json;
  assert.deepEqual(
    [decoded.type, decoded.amount_msat, decoded.payee],
    ['bolt11 invoice', 21_000, ln.node('B').idHex],
  );
  assert.match(decoded.signature, /^30/, 'DER, as CLN writes it');
  assert.deepEqual((await call('decode', { string: 'lnbcrt1garbage' })).status, 500);

  const paid = await call('pay', { bolt11: invoice, maxfee: 10_000, retry_for: 30 });
  assert.deepEqual([paid.status, paid.json.status, paid.json.amount_msat], [201, 'complete', 21_000]);
  // CLN's pay answers an invoice it paid with that payment again.
  assert.deepEqual(
    (await call('pay', { bolt11: invoice })).json.payment_preimage,
    paid.json.payment_preimage,
  );
  const listed = (await call('listpays', { payment_hash: paid.json.payment_hash })).json.pays;
  assert.deepEqual(
    [listed.length, listed[0].status, listed[0].preimage],
    [1, 'complete', paid.json.payment_preimage],
  );
  assert.deepEqual((await call('listpays', { payment_hash: '00'.repeat(32) })).json, { pays: [] });

  const tooMuch = ln.node('B').invoice(5_000_000_000n, 'too much', 600).to_str();
  const failed = await call('pay', { bolt11: tooMuch, maxfee: 10_000 });
  assert.deepEqual([failed.status, failed.json.code], [500, 205]);
  const noAmount = ln.node('B').invoice(null, 'any', 600).to_str();
  assert.deepEqual((await call('pay', { bolt11: noAmount })).json.code, -32602);

  const made = (await call('invoice', { amount_msat: 5_000, label: 'a', description: 'to A', expiry: 600 }))
    .json;
  assert.equal(
    (await call('invoice', { amount_msat: 5_000, label: 'a', description: 'again' })).json.code,
    900,
  );
  assert.equal(
    (await call('listinvoices', { payment_hash: made.payment_hash })).json.invoices[0].status,
    'unpaid',
  );
  const outcome = await ln.pay('B', made.bolt11, 10_000n);
  assert.equal(outcome.state, 'succeeded');
  const settled = (await call('listinvoices', { payment_hash: made.payment_hash })).json.invoices[0];
  assert.deepEqual(
    [settled.status, settled.amount_received_msat, settled.payment_preimage],
    ['paid', 5_000, outcome.state === 'succeeded' && outcome.preimage],
  );
  assert.deepEqual((await call('listinvoices', { payment_hash: '00'.repeat(32) })).json, { invoices: [] });
});

test('a wrong or missing rune is refused as clnrest refuses it (401 code 1502, 403 code 1501); an unknown method 404', async () => {
  const wrong = await call('getinfo', {}, randomBytes(48).toString('base64url'));
  assert.deepEqual([wrong.status, wrong.json.code], [401, 1502]);
  const none = await call('pay', {}, null);
  assert.deepEqual([none.status, none.json], [403, { code: 1501, message: 'Not authorized: Missing rune' }]);
  const unknown = await call('sendpsbt', {});
  assert.deepEqual([unknown.status, unknown.json.code], [404, -32601]);
});

/** clnrest's error body: lightningd's JSON-RPC error object (plugins/rest-plugin/src/structs.rs RpcError). */
function errorProblems(json: unknown): string[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return ['not an object'];
  const { code, message, ...rest } = json as Record<string, unknown>;
  const problems = [];
  if (!(code === null || Number.isSafeInteger(code))) problems.push('code is not an integer or null');
  if (typeof message !== 'string') problems.push('message is not a string');
  for (const key of Object.keys(rest))
    if (key !== 'data') problems.push(`${key}: not a field of an RPC error`);
  return problems;
}

after(() => {
  // Runs after the tests: every answer the front gave, against CLN's schema for its method.
  const seen = new Set(front.answers.filter((a) => a.status === 201).map((a) => a.method));
  assert.deepEqual([...seen].sort(), [...METHODS].sort(), 'every method was answered');
  for (const { method, status, json } of front.answers) {
    const problems = status === 201 ? responseProblems(schemas, method, json) : errorProblems(json);
    assert.deepEqual(problems, [], `${method} (${status}): ${JSON.stringify(json).slice(0, 300)}`);
  }
});

test('the shape check is not vacuous: an invented field, a float or string amount, an unknown status, a missing required field are problems', () => {
  const pays = schemas.response('listpays');
  const hash = 'ab'.repeat(32);
  const entry = {
    payment_hash: hash,
    status: 'failed',
    created_at: 1,
    created_index: 1,
    amount_sent_msat: 1,
  };
  // A failed entry's amount_sent_msat is typed by nothing in CLN's schema; a complete one's is.
  const complete = { ...entry, status: 'complete', preimage: hash, amount_msat: 1 };
  assert.deepEqual(shapeProblems({ pays: [entry, complete] }, pays), []);
  assert.equal(
    shapeProblems({ pays: [{ ...entry, preimage: hash }] }, pays).length,
    1,
    'no preimage when failed',
  );
  assert.equal(
    shapeProblems({ pays: [{ ...entry, status: 'complete' }] }, pays).length,
    1,
    'complete needs its preimage',
  );
  assert.equal(shapeProblems({ pays: [{ ...complete, amount_sent_msat: 1.5 }] }, pays).length, 1);
  assert.equal(shapeProblems({ pays: [{ ...complete, amount_sent_msat: '1000msat' }] }, pays).length, 1);
  assert.equal(shapeProblems({ pays: [{ ...entry, status: 'paid' }] }, pays).length, 1);
  assert.equal(shapeProblems({ pays: [], more: 1 }, pays).length, 1);
  const { created_at: _, ...missing } = entry;
  assert.equal(shapeProblems({ pays: [missing] }, pays).length, 1);
});
