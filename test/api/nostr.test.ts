import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyEvent } from 'nostr-tools';
import { startTestGateway } from '../helpers/gateway.ts';

const POLICY = `
version: 1
name: nostr-test
risk: { tolerance: high }
rules:
  - id: identity-kinds-held
    match: { protocol: nostr, kind: [0, 3, 10002, 27235, 9734] }
    effect: hold
    approvals: 1
  - id: no-dms
    match: { protocol: nostr, kind: [4] }
    effect: deny
  - id: notes
    match: { protocol: nostr }
    effect: allow
    limits:
      - { window: 1h, max_count: 50 }
`;

describe('POST /v1/nostr/sign through the whole path', () => {
  test('signs a NIP-01 event for the token identity; nostr-tools verifies id and BIP-340 signature', async () => {
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const r = await g.call('POST', '/v1/nostr/sign', {
      token,
      body: { kind: 1, content: 'hello from an agent', tags: [['t', 'warden']] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const event = r.body.request.result.event;
    assert.equal(verifyEvent(event), true);
    assert.equal(event.pubkey, g.warden.showIdentity('alice').nostr!.pubkey);
    assert.equal(event.content, 'hello from an agent');
    assert.deepEqual(event.tags, [['t', 'warden']]);
    assert.equal(r.body.request.decision.outcome, 'allow');
    assert.equal(r.body.request.decision.decidingRule, 'notes');
  });

  test('kind rules: identity kinds are held, DMs denied with the rule named', async () => {
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const profile = await g.call('POST', '/v1/nostr/sign', {
      token,
      body: { kind: 0, content: '{"name":"bot"}' },
    });
    assert.equal(profile.status, 202);
    assert.equal(profile.body.request.status, 'held');
    assert.equal(profile.body.request.result, null, 'nothing is signed while held');
    const dm = await g.call('POST', '/v1/nostr/sign', { token, body: { kind: 4, content: 'secret' } });
    assert.equal(dm.status, 403);
    assert.equal(dm.body.error.code, 'POLICY_DENIED');
    assert.equal(dm.body.error.details.request.decision.decidingRule, 'no-dms');
  });

  test('per-kind count window: 200 concurrent signatures against 50 per hour sign exactly 50', async () => {
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        g.call('POST', '/v1/nostr/sign', { token, body: { kind: 1, content: `note ${i}` } }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 403);
    assert.equal(ok.length, 50);
    assert.equal(refused.length, 150);
    assert.ok(refused.every((r) => r.body.error.code === 'LIMIT_EXCEEDED'));
    assert.ok(ok.every((r) => verifyEvent(r.body.request.result.event)));
    const limit = refused[0]!.body.error.details.request.decision.trail.find(
      (t: { rule: string }) => t.rule === 'notes',
    ).limits[0];
    assert.equal(limit.cap, '50');
    assert.equal(BigInt(limit.used) + BigInt(limit.reserved), 50n);
    // Other kinds have their own rules: the count window of `notes` does not block a held kind.
    const ledger = await g.call('GET', '/v1/ledger', { token });
    const committed = ledger.body.totals.find((t: { status: string }) => t.status === 'committed');
    assert.equal(committed.count, 50);
  });

  test('an idempotent retry returns the first result and never reserves twice', async () => {
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const body = {
      kind: 1,
      content: 'once',
      created_at: Math.floor(Date.now() / 1000),
      idempotencyKey: 'retry-key-0001',
    };
    const [a, b, c] = await Promise.all(
      [1, 2, 3].map(() => g.call('POST', '/v1/nostr/sign', { token, body })),
    );
    assert.equal(a!.body.request.requestId, b!.body.request.requestId);
    assert.equal(a!.body.request.requestId, c!.body.request.requestId);
    const conflict = await g.call('POST', '/v1/nostr/sign', {
      token,
      body: { ...body, content: 'different' },
    });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'IDEMPOTENCY_CONFLICT');
    const ledger = await g.call('GET', '/v1/ledger', { token });
    assert.equal(ledger.body.entries.length, 1);
  });
});
