import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.ts';
import { fund, HARDHAT_CHAIN_ID, startHardhat } from '../helpers/hardhat.ts';

const ONE_ETH = 10n ** 18n;
const RECIPIENT = '0x4444444444444444444444444444444444444444';
const JITTER = { minMs: 150, maxMs: 300 };

const POLICY = `
version: 1
name: evm-jitter
risk: { tolerance: high }
new_destination: allow
rules:
  - id: arbitrum-sends
    match: { protocol: evm, action: send, chain_id: ${HARDHAT_CHAIN_ID} }
    effect: allow
    max_fee_per_gas: "100000000000"
  - id: notes
    match: { protocol: nostr }
    effect: allow
`;

const node = await startHardhat();

test('with jitter configured, a send is shown as scheduled (with when), then done; its result record carries the delay', async () => {
  const g = await startTestGateway({
    identities: ['treasury'],
    policies: { treasury: POLICY },
    evmRpc: new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]),
    jitter: JITTER,
  });
  const from = g.warden.showIdentity('treasury').evm!.address;
  await fund(node.rpcUrl, from, ONE_ETH);
  const token = await g.token('agent', { identity: 'treasury', capabilities: ['evm:send', 'nostr:sign'] });

  const before = Date.now();
  const posted = await g.call('POST', '/v1/evm/send', {
    token,
    body: {
      chainId: HARDHAT_CHAIN_ID,
      to: RECIPIENT,
      value: '1000',
      maxFeePerGas: '20000000000',
      maxPriorityFeePerGas: '1000000000',
      idempotencyKey: 'jitter-1',
    },
  });
  // Answered at once, before the delay: 202, scheduled, with the time it will be sent.
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  const request = posted.body.request;
  assert.equal(request.status, 'scheduled');
  assert.equal(request.result, null);
  const due = Date.parse(request.scheduledFor);
  assert.ok(due >= before + JITTER.minMs && due <= Date.now() + JITTER.maxMs, request.scheduledFor);

  const shown = await g.call('GET', `/v1/requests/${request.requestId}`, { token });
  assert.equal(shown.body.request.status, 'scheduled');
  assert.equal(shown.body.request.scheduledFor, request.scheduledFor);

  const done = await g.call('GET', `/v1/requests/${request.requestId}?wait=10`, { token });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.request.status, 'done');
  assert.equal(done.body.request.scheduledFor, null);
  assert.match(done.body.request.result.txHash, /^0x[0-9a-f]{64}$/);
  assert.ok(Date.now() >= due - 5, 'not sent before it was due');

  const records = await g.warden.showAudit({ limit: 200 });
  const result = records.find(
    (r) => r.action === 'evm.send.result' && r.summary.operationId === request.requestId,
  );
  assert.ok(result, records.map((r) => r.action).join(', '));
  const jitter = (result.details as { jitter: Record<string, unknown> }).jitter;
  assert.ok(jitter, JSON.stringify(result.details));
  assert.equal(jitter.scheduledFor, request.scheduledFor);
  assert.ok(
    typeof jitter.delayMs === 'number' && jitter.delayMs >= JITTER.minMs && jitter.delayMs <= JITTER.maxMs,
    JSON.stringify(jitter),
  );
  assert.deepEqual(jitter.rangeMs, [JITTER.minMs, JITTER.maxMs]);
  assert.equal(jitter.widened, false);

  // Signing locally (a Nostr event) is not held back: signed and answered at once.
  const signed = await g.call('POST', '/v1/nostr/sign', { token, body: { kind: 1, content: 'at once' } });
  assert.equal(signed.status, 200, JSON.stringify(signed.body));
  assert.equal(signed.body.request.status, 'done');
  assert.equal(signed.body.request.scheduledFor, null);

  // Shutdown drains a send still waiting for its delay: it is sent, not dropped.
  const late = await g.call('POST', '/v1/evm/send', {
    token,
    body: {
      chainId: HARDHAT_CHAIN_ID,
      to: RECIPIENT,
      value: '1000',
      maxFeePerGas: '20000000000',
      maxPriorityFeePerGas: '1000000000',
      idempotencyKey: 'jitter-2',
    },
  });
  assert.equal(late.body.request.status, 'scheduled');
  await g.gateway.drain();
  const row = await g.warden.store.db
    .selectFrom('request')
    .selectAll()
    .where('id', '=', late.body.request.requestId)
    .executeTakeFirstOrThrow();
  assert.equal(row.status, 'done');
  assert.equal(row.scheduled_for, null);
});
