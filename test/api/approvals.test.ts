import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hexToBytes } from '@noble/hashes/utils.js';
import { sql } from 'kysely';
import { verifyEvent } from 'nostr-tools';
import { verifyCheckpointSignature } from '../../src/audit/keyring.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { revokeTokenAudited, setPolicyAudited } from '../../src/gateway/admin.ts';
import { type RiskAcceptanceRecord, riskAcceptanceBytes } from '../../src/risk/index.ts';
import { startTestGateway, tokenParts } from '../helpers/gateway.ts';
import { STRICT_NOSTR_POLICY } from '../helpers/policies.ts';

const POLICY = `
version: 1
name: approvals
risk: { tolerance: high }
rules:
  - id: profile-two-operators
    match: { protocol: nostr, kind: [0] }
    effect: hold
    approvals: 2
  - id: relays-delayed
    match: { protocol: nostr, kind: [10002] }
    effect: hold
    delay: 1h
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
`;

async function setup(clock = fixedClock(new Date())) {
  const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY }, clock });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const op1 = await g.token('operator');
  const op2 = await g.token('operator');
  const viewer = await g.token('viewer');
  return { g, agent, op1, op2, viewer, clock };
}

describe('approvals', () => {
  test('N distinct operators: the same operator twice counts once; the agent polls and gets the event', async () => {
    const { g, agent, op1, op2, viewer } = await setup();
    const held = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 0, content: '{"name":"bot"}' },
    });
    assert.equal(held.status, 202);
    const id = held.body.request.requestId;
    const list = await g.call('GET', '/v1/approvals', { token: viewer });
    assert.deepEqual(
      list.body.approvals.map((a: { requestId: string }) => a.requestId),
      [id],
    );
    assert.equal(
      (await g.call('POST', `/v1/approvals/${id}/approve`, { token: viewer })).status,
      403,
      'viewers cannot approve',
    );
    assert.equal(
      (await g.call('POST', `/v1/approvals/${id}/approve`, { token: agent })).status,
      403,
      'agents cannot approve',
    );
    const first = await g.call('POST', `/v1/approvals/${id}/approve`, {
      token: op1,
      body: { reason: 'looks fine' },
    });
    assert.equal(first.body.request.status, 'held');
    const again = await g.call('POST', `/v1/approvals/${id}/approve`, { token: op1 });
    assert.equal(again.body.request.status, 'held', 'one operator counts once');
    const second = await g.call('POST', `/v1/approvals/${id}/approve`, { token: op2 });
    assert.equal(second.body.request.status, 'done');
    const polled = await g.call('GET', `/v1/requests/${id}?wait=5`, { token: agent });
    assert.equal(polled.body.request.status, 'done');
    const event = polled.body.request.result.event;
    assert.equal(verifyEvent(event), true);
    assert.equal(event.kind, 0);
    assert.equal(event.content, '{"name":"bot"}');
    const late = await g.call('POST', `/v1/approvals/${id}/approve`, { token: op2 });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'REQUEST_NOT_PENDING');
  });

  test('an approval is bound to the exact intent: a reviewed hash that differs is refused; a request changed after approval does not execute', async () => {
    const { g, agent, op1, op2 } = await setup();
    const held = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 0, content: 'original' },
    });
    const id = held.body.request.requestId;
    const listed = await g.call('GET', '/v1/approvals', { token: op1 });
    const reviewed = listed.body.approvals[0].intentHash;
    assert.match(reviewed, /^[0-9a-f]{64}$/);
    const wrong = await g.call('POST', `/v1/approvals/${id}/approve`, {
      token: op1,
      body: { intentHash: 'a'.repeat(64) },
    });
    assert.equal(wrong.status, 409);
    assert.equal(wrong.body.error.code, 'APPROVAL_MISMATCH');
    const right = await g.call('POST', `/v1/approvals/${id}/approve`, {
      token: op1,
      body: { intentHash: reviewed },
    });
    assert.equal(right.status, 200);
    // Someone with database access swaps the stored intent hash for another request's.
    await sql`UPDATE request SET intent_hash = ${'f'.repeat(64)} WHERE id = ${id}`.execute(g.warden.store.db);
    const second = await g.call('POST', `/v1/approvals/${id}/approve`, { token: op2 });
    assert.equal(
      second.body.request.status,
      'held',
      'the first approval was for another intent and does not count',
    );
    const op3 = await g.token('operator');
    const third = await g.call('POST', `/v1/approvals/${id}/approve`, { token: op3 });
    assert.equal(third.body.request.status, 'failed', 'the payload no longer matches the stored hash');
    assert.equal(third.body.request.error.code, 'APPROVAL_MISMATCH');
    assert.equal(third.body.request.result, null);
  });

  test('a delayed hold releases on time unless vetoed; a veto releases the reservation', async () => {
    const clock = fixedClock(new Date('2026-03-01T10:00:00Z'));
    const { g, agent, op1 } = await setup(clock);
    const a = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 10002, content: '', tags: [['r', 'wss://relay.example']] },
    });
    const b = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 10002, content: '', tags: [['r', 'wss://other.example']] },
    });
    assert.equal(a.status, 202);
    const held = await g.call('GET', '/v1/approvals', { token: op1 });
    assert.equal(held.body.approvals[0].releaseAt, '2026-03-01T11:00:00.000Z');
    clock.advance(59 * 60 * 1000);
    assert.equal(await g.gateway.tick(), 0, 'not yet');
    const veto = await g.call('POST', `/v1/approvals/${b.body.request.requestId}/deny`, {
      token: op1,
      body: { reason: 'unknown relay' },
    });
    assert.equal(veto.body.request.status, 'denied');
    assert.equal(veto.body.request.error.code, 'REQUEST_VETOED');
    clock.advance(60 * 1000);
    assert.equal(await g.gateway.tick(), 1);
    const done = await g.call('GET', `/v1/requests/${a.body.request.requestId}`, { token: agent });
    assert.equal(done.body.request.status, 'done');
    assert.equal(verifyEvent(done.body.request.result.event), true);
    const ledger = await g.call('GET', '/v1/ledger', { token: agent });
    const byStatus = Object.fromEntries(
      ledger.body.totals.map((t: { status: string; count: number }) => [t.status, t.count]),
    );
    assert.deepEqual(byStatus, { committed: 1, released: 1 });
  });

  test('risk acceptance: an operator overrides a RISK_TOO_HIGH denial with a signed, audited record', async () => {
    const g = await startTestGateway({
      identities: ['alice'],
      policies: {
        alice: STRICT_NOSTR_POLICY,
      },
    });
    const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const op = await g.token('operator');
    const denied = await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: 'hi' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'RISK_TOO_HIGH');
    const id = denied.body.error.details.requestId;
    assert.equal(
      (await g.call('POST', `/v1/approvals/${id}/accept-risk`, { token: op, body: {} })).status,
      400,
      'a reason is required',
    );
    const accepted = await g.call('POST', `/v1/approvals/${id}/accept-risk`, {
      token: op,
      body: { reason: 'announcement approved by ops' },
    });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.request.status, 'done');
    assert.equal(verifyEvent(accepted.body.request.result.event), true);
    const audit = await g.warden.showAudit({ identity: 'alice' });
    const record = audit.find((r) => r.action === 'risk.accept');
    assert.ok(record, 'a risk.accept audit record exists');
    const details = record.details as {
      acceptance: { operator: string; reason: string; assessment: { score: number } };
      signature: string;
    };
    assert.equal(details.acceptance.reason, 'announcement approved by ops');
    assert.match(details.acceptance.operator, /^operator:tok_/);
    assert.ok(details.acceptance.assessment.score > 3);
    assert.match(details.signature, /^[0-9a-f]{128}$/);
    // The signature verifies with the vault's audit key over the canonical acceptance record.
    const signed = riskAcceptanceBytes(details.acceptance as unknown as RiskAcceptanceRecord);
    const publicKey = g.warden.vault.auditKeys().publicKey;
    assert.equal(verifyCheckpointSignature(publicKey, signed, hexToBytes(details.signature)), true);
    const again = await g.call('POST', `/v1/approvals/${id}/accept-risk`, {
      token: op,
      body: { reason: 'twice' },
    });
    assert.equal(again.status, 409);
  });
});

describe('holds stay safe while they wait', () => {
  const WINDOWED = `
version: 1
name: windowed-hold
risk: { tolerance: high }
rules:
  - id: profile
    match: { protocol: nostr, kind: [0] }
    effect: hold
    approvals: 1
    limits: [{ window: 1h, max_count: 1 }]
`;

  test('a held reservation keeps counting after its window has passed; releasing it counts from then', async () => {
    const clock = fixedClock(new Date('2026-04-01T00:00:00Z'));
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: WINDOWED }, clock });
    const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const op = await g.token('operator');
    const first = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 0, content: '{"a":1}' },
    });
    assert.equal(first.status, 202);
    clock.advance(61 * 60 * 1000);
    const second = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 0, content: '{"a":2}' },
    });
    assert.equal(second.status, 403, 'the waiting hold still uses the only slot of the window');
    assert.equal(second.body.error.code, 'LIMIT_EXCEEDED');
    const approved = await g.call('POST', `/v1/approvals/${first.body.request.requestId}/approve`, {
      token: op,
    });
    assert.equal(approved.body.request.status, 'done');
    const third = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 0, content: '{"a":3}' },
    });
    assert.equal(third.status, 403, 'the signature counts in the window from the moment it was released');
    clock.advance(61 * 60 * 1000);
    const fourth = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 0, content: '{"a":4}' },
    });
    assert.equal(fourth.status, 202);
  });

  test('release is refused when the asking token was revoked, or when the policy now denies the request', async () => {
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
    const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const [op1, op2, op3, op4] = [
      await g.token('operator'),
      await g.token('operator'),
      await g.token('operator'),
      await g.token('operator'),
    ];
    const first = await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 0, content: '{}' } });
    await revokeTokenAudited(g.warden, tokenParts(agent).id);
    await g.call('POST', `/v1/approvals/${first.body.request.requestId}/approve`, { token: op1 });
    const released1 = await g.call('POST', `/v1/approvals/${first.body.request.requestId}/approve`, {
      token: op2,
    });
    assert.equal(released1.body.request.status, 'denied');
    assert.equal(released1.body.request.error.code, 'TOKEN_INVALID');

    const agent2 = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const second = await g.call('POST', '/v1/nostr/sign', {
      token: agent2,
      body: { kind: 0, content: '{"b":1}' },
    });
    await setPolicyAudited(
      g.warden,
      'alice',
      'version: 1\nname: lockdown\nrules:\n  - { id: evm-only, match: { protocol: evm }, effect: allow }\n',
    );
    await g.call('POST', `/v1/approvals/${second.body.request.requestId}/approve`, { token: op3 });
    const released2 = await g.call('POST', `/v1/approvals/${second.body.request.requestId}/approve`, {
      token: op4,
    });
    assert.equal(released2.body.request.status, 'denied');
    assert.equal(released2.body.request.error.code, 'NO_MATCHING_RULE');
    assert.equal(released2.body.request.result, null);
    const ledger = await g.call('GET', '/v1/ledger', { token: agent2 });
    assert.deepEqual(
      ledger.body.totals.map((t: { status: string }) => t.status),
      ['released'],
    );
  });
});
