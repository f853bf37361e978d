import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixedClock } from '../../src/core/clock.ts';
import { revokeTokenAudited, setPolicyAudited } from '../../src/gateway/admin.ts';
import { MAX_ACCEPTABLE_DENIALS, RISK_ACCEPT_WINDOW_MS } from '../../src/gateway/payload.ts';
import { startTestGateway, tokenParts } from '../helpers/gateway.ts';
import { STRICT_NOSTR_POLICY } from '../helpers/policies.ts';

const DENY_NOSTR =
  'version: 1\nname: no-nostr\nrisk: { tolerance: low }\nrules:\n  - { id: no-nostr, match: { protocol: nostr }, effect: deny }\n';

async function setup() {
  const clock = fixedClock(new Date('2026-12-01T00:00:00Z'));
  const g = await startTestGateway({
    identities: ['alice'],
    policies: { alice: STRICT_NOSTR_POLICY },
    clock,
  });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const operator = await g.token('operator');
  const deny = async (content: string) => {
    const r = await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content } });
    assert.equal(r.body.error.code, 'RISK_TOO_HIGH');
    return r.body.error.details.requestId as string;
  };
  const accept = (id: string) =>
    g.call('POST', `/v1/approvals/${id}/accept-risk`, { token: operator, body: { reason: 'reviewed' } });
  const payloadKept = async (id: string) =>
    (
      await g.warden.store.db
        .selectFrom('request')
        .select('payload')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).payload !== null;
  const audited = async (code: string) =>
    (await g.warden.showAudit({ identity: 'alice' })).some(
      (r) =>
        r.action === 'risk.accept' &&
        r.outcome === 'denied' &&
        (r.details as { code?: string }).code === code,
    );
  return { g, agent, operator, clock, deny, accept, payloadKept, audited };
}

describe('accept-risk checks what a release checks', () => {
  test('a request whose token was revoked since is not signed; the refusal is audited and the payload dropped', async () => {
    const { g, agent, deny, accept, payloadKept, audited } = await setup();
    const id = await deny('gm');
    await revokeTokenAudited(g.warden, tokenParts(agent).id);
    const listed = await g.call('GET', `/v1/approvals/${id}`, { token: await g.token('viewer') });
    assert.equal(listed.body.approval.acceptable, false, 'the list says what accept-risk would find');
    const r = await accept(id);
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'TOKEN_INVALID');
    const row = await g.warden.store.db
      .selectFrom('request')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'denied');
    assert.equal(row.result, null, 'nothing was signed');
    assert.equal(await payloadKept(id), false);
    assert.equal(await audited('TOKEN_INVALID'), true);
    assert.equal((await accept(id)).status, 409, 'it can never be accepted later');
  });

  test('a denial older than a hold may wait cannot be accepted', async () => {
    const { clock, deny, accept, audited } = await setup();
    const id = await deny('old news');
    clock.advance(RISK_ACCEPT_WINDOW_MS + 1_000);
    const r = await accept(id);
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'ACCEPTANCE_EXPIRED');
    assert.equal(await audited('ACCEPTANCE_EXPIRED'), true);
  });

  test('the policy now in force still applies: a rule that denies outright wins over the acceptance', async () => {
    const { g, deny, accept } = await setup();
    const id = await deny('gm');
    await setPolicyAudited(g.warden, 'alice', DENY_NOSTR);
    const r = await accept(id);
    assert.equal(r.status, 200);
    assert.equal(r.body.request.status, 'denied');
    assert.equal(r.body.request.result, null);
  });
});

describe('bounded storage for refused requests', () => {
  test(`at most ${MAX_ACCEPTABLE_DENIALS} risk denials per identity keep their payload; the rest cannot be accepted`, async () => {
    const { g, operator, deny, payloadKept } = await setup();
    const ids: string[] = [];
    for (let i = 0; i <= MAX_ACCEPTABLE_DENIALS; i++) ids.push(await deny(`note ${i} ${'x'.repeat(60_000)}`));
    assert.equal(await payloadKept(ids[MAX_ACCEPTABLE_DENIALS - 1]!), true);
    assert.equal(await payloadKept(ids[MAX_ACCEPTABLE_DENIALS]!), false);
    const listed = await g.call('GET', '/v1/requests?status=risk-acceptable&limit=500', { token: operator });
    assert.equal(listed.body.requests.length, MAX_ACCEPTABLE_DENIALS);
    const last = await g.call('POST', `/v1/approvals/${ids[MAX_ACCEPTABLE_DENIALS]}/accept-risk`, {
      token: operator,
      body: { reason: 'too late' },
    });
    assert.equal(last.status, 409);
    assert.equal(last.body.error.code, 'REQUEST_NOT_PENDING');
    const audit = await g.warden.showAudit({ identity: 'alice', limit: 1_000 });
    const flags = audit
      .filter((r) => r.action === 'nostr.sign_event')
      .map((r) => (r.details as { acceptable?: boolean }).acceptable);
    assert.equal(flags.filter((f) => f === true).length, MAX_ACCEPTABLE_DENIALS);
    assert.equal(flags.filter((f) => f === false).length, 1);
  });

  test('payloads expire with the acceptance window (the scheduler drops them), and room frees up', async () => {
    const { g, clock, deny, payloadKept } = await setup();
    const old = await deny('soon gone');
    clock.advance(RISK_ACCEPT_WINDOW_MS - 1_000);
    const young = await deny('still young');
    await g.gateway.tick();
    assert.equal(await payloadKept(old), true, 'not yet past the window');
    clock.advance(2_000);
    await g.gateway.tick();
    assert.equal(await payloadKept(old), false);
    assert.equal(await payloadKept(young), true);
  });
});
