import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.ts';

const POLICY = `
version: 1
name: isolation
risk: { tolerance: high }
rules:
  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }
  - { id: profile, match: { protocol: nostr, kind: [0] }, effect: hold, approvals: 1 }
`;

test('an agent token for identity A gets FORBIDDEN on every endpoint for identity B', async () => {
  const g = await startTestGateway({
    identities: ['alice', 'bob'],
    policies: { '*': POLICY },
    // An RPC endpoint that is never reached: every request below stops at the identity check.
    evmRpc: new Map([[42161, 'http://127.0.0.1:9']]),
  });
  const alice = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign', 'evm:send'] });
  const bob = await g.token('agent', { identity: 'bob', capabilities: ['nostr:sign'] });
  const bobsNote = await g.call('POST', '/v1/nostr/sign', { token: bob, body: { kind: 1, content: 'bob' } });
  const bobsHeld = await g.call('POST', '/v1/nostr/sign', { token: bob, body: { kind: 0, content: '{}' } });
  assert.equal(bobsNote.status, 200);
  const bobRequest = bobsNote.body.request.requestId;
  const bobHeld = bobsHeld.body.request.requestId;

  const attempts: [string, string, unknown?][] = [
    ['POST', '/v1/nostr/sign', { identity: 'bob', kind: 1, content: 'as bob' }],
    [
      'POST',
      '/v1/evm/send',
      { identity: 'bob', chainId: 42161, to: '0x1111111111111111111111111111111111111111', value: '1' },
    ],
    ['POST', '/v1/dry-run', { operation: 'nostr.sign', identity: 'bob', request: { kind: 1, content: 'x' } }],
    [
      'POST',
      '/v1/dry-run',
      {
        operation: 'evm.send',
        identity: 'bob',
        request: { chainId: 42161, to: '0x1111111111111111111111111111111111111111', value: '1' },
      },
    ],
    ['GET', `/v1/requests/${bobRequest}`],
    ['GET', `/v1/requests/${bobHeld}?wait=1`],
    ['GET', '/v1/identities/bob'],
    ['GET', '/v1/identities/bob/policy'],
    ['GET', '/v1/ledger?identity=bob'],
    ['GET', '/v1/approvals'],
    ['POST', `/v1/approvals/${bobHeld}/approve`, {}],
    ['POST', `/v1/approvals/${bobHeld}/deny`, {}],
    ['POST', `/v1/approvals/${bobRequest}/accept-risk`, { reason: 'mine now' }],
  ];
  for (const [method, path, body] of attempts) {
    const r = await g.call(method, path, { token: alice, ...(body === undefined ? {} : { body }) });
    assert.equal(r.status, 403, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'FORBIDDEN', `${method} ${path}`);
  }
  // Reads without an identity show only alice's own data.
  const identities = await g.call('GET', '/v1/identities', { token: alice });
  assert.deepEqual(
    identities.body.identities.map((i: { name: string }) => i.name),
    ['alice'],
  );
  const ledger = await g.call('GET', '/v1/ledger', { token: alice });
  assert.equal(ledger.body.entries.length, 0, "bob's signatures are not in alice's ledger view");
  // Bob's held request is untouched.
  const still = await g.call('GET', `/v1/requests/${bobHeld}`, { token: bob });
  assert.equal(still.body.request.status, 'held');
});

test('capabilities and roles: an agent without evm:send, and non-agent tokens, cannot sign', async () => {
  const g = await startTestGateway({
    identities: ['alice'],
    policies: { alice: POLICY },
    evmRpc: new Map([[42161, 'http://127.0.0.1:9']]),
  });
  const nostrOnly = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const evm = await g.call('POST', '/v1/evm/send', {
    token: nostrOnly,
    body: { chainId: 42161, to: '0x1111111111111111111111111111111111111111', value: '1' },
  });
  assert.equal(evm.status, 403);
  assert.equal(evm.body.error.code, 'FORBIDDEN');
  for (const role of ['operator', 'admin', 'viewer'] as const) {
    const token = await g.token(role);
    const r = await g.call('POST', '/v1/nostr/sign', { token, body: { kind: 1, content: 'x' } });
    assert.equal(r.status, 403, role);
  }
});
