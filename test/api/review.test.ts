import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../../src/core/clock.ts';
import { SENSITIVE_NOSTR_KINDS } from '../../src/protocols/nostr/kinds.ts';
import { nostrReview } from '../../src/protocols/nostr/review.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { STRICT_NOSTR_POLICY } from '../helpers/policies.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const POLICY = `
version: 1
name: review
risk: { tolerance: high }
new_destination: allow
rules:
  - id: sensitive
    match: { protocol: nostr, kind: [0, 10002, 27235] }
    effect: hold
    approvals: 1
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
  - id: sends
    match: { protocol: evm, action: send }
    effect: hold
    approvals: 1
`;

/**
 * The operator's recipe, written independently of the project's code: JSON with object keys
 * sorted, no whitespace (what `jq -cS` prints), then SHA-256 (what `sha256sum` prints).
 */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
const recomputed = (review: unknown) => createHash('sha256').update(sortedJson(review)).digest('hex');

const ATTACKER = 'thief@evil.example';
const PUBKEY = 'ab'.repeat(32);
const PROFILE = {
  kind: 0,
  content: JSON.stringify({ name: 'bot', lud16: ATTACKER }),
  tags: [['alt', 'profile']],
};

async function setup() {
  const clock = fixedClock(new Date('2026-12-01T00:00:00Z'));
  const g = await startTestGateway({
    identities: ['alice'],
    policies: { alice: POLICY },
    clock,
    // Explicit fees never ask the node, so a held send needs no running chain.
    evmRpc: new Map([[42161, 'http://127.0.0.1:9']]),
  });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign', 'evm:send'] });
  const operator = await g.token('operator');
  const viewer = await g.token('viewer');
  return { g, agent, operator, viewer, clock };
}

describe('an approver sees exactly what is approved', () => {
  test('a held profile update shows its content, every tag, the lightning address it sets, and a recomputable hash', async () => {
    const { g, agent, viewer, clock } = await setup();
    const held = await g.call('POST', '/v1/nostr/sign', { token: agent, body: PROFILE });
    assert.equal(held.status, 202);
    const id = held.body.request.requestId;
    clock.advance(90_000);

    const list = await g.call('GET', '/v1/approvals', { token: viewer });
    const listed = list.body.approvals[0];
    assert.match(listed.summary, new RegExp(`lightning address .*"${ATTACKER}"`));
    assert.equal(listed.shortIntentHash, listed.intentHash.slice(0, 12));
    assert.equal(listed.ageSeconds, 90);

    const shown = await g.call('GET', `/v1/approvals/${id}`, { token: viewer });
    assert.equal(shown.status, 200);
    const { approval } = shown.body;
    assert.equal(approval.review.operation, 'nostr.sign_event');
    assert.equal(approval.review.payload.content, PROFILE.content);
    assert.deepEqual(approval.review.payload.tags, PROFILE.tags);
    assert.equal(approval.review.payload.kind, 0);
    assert.equal(
      approval.review.payload.pubkey,
      g.warden.vault.getIdentity('alice').nostr!.pubkey,
      'the signing key',
    );
    assert.equal(typeof approval.review.payload.created_at, 'number');
    assert.equal(approval.reviewable, true);
    assert.equal(
      recomputed(approval.review),
      approval.intentHash,
      'the hash is recomputable from what is shown',
    );
  });

  test('the intent hash commits to the full payload: content and created_at change it', async () => {
    const { g, agent, viewer } = await setup();
    const hashes = new Set<string>();
    for (const body of [
      PROFILE,
      { ...PROFILE, content: JSON.stringify({ name: 'bot', lud16: 'honest@good.example' }) },
      { ...PROFILE, created_at: Math.floor(Date.parse('2026-11-30T12:00:00Z') / 1000) },
      { ...PROFILE, tags: [['alt', 'other']] },
    ]) {
      const r = await g.call('POST', '/v1/nostr/sign', { token: agent, body });
      assert.equal(r.status, 202);
      hashes.add(
        (await g.call('GET', `/v1/approvals/${r.body.request.requestId}`, { token: viewer })).body.approval
          .intentHash,
      );
    }
    assert.equal(hashes.size, 4);
  });

  test('NIP-98, relay lists and EVM sends are summarized by what they redirect; EVM shows every field', async () => {
    const { g, agent, viewer } = await setup();
    await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: {
        kind: 27235,
        content: '',
        tags: [
          ['u', 'https://api.example/pay'],
          ['method', 'POST'],
        ],
      },
    });
    await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: {
        kind: 10002,
        content: '',
        tags: [
          ['r', 'wss://relay.evil.example'],
          ['r', 'wss://r2.example', 'read'],
        ],
      },
    });
    const send = await g.call('POST', '/v1/evm/send', {
      token: agent,
      body: {
        chainId: 42161,
        to: '0x1111111111111111111111111111111111111111',
        value: '1000000000000000',
        maxFeePerGas: '200000000000',
        maxPriorityFeePerGas: '1000000000',
      },
    });
    assert.equal(send.status, 202, JSON.stringify(send.body));
    const summaries = (await g.call('GET', '/v1/approvals', { token: viewer })).body.approvals.map(
      (a: { summary: string }) => a.summary,
    );
    const some = (pattern: RegExp) =>
      assert.ok(
        summaries.some((s: string) => pattern.test(s)),
        `${pattern}`,
      );
    some(/HTTP login .*"POST" "https:\/\/api\.example\/pay"/);
    some(/relay list.*"wss:\/\/relay\.evil\.example", "wss:\/\/r2\.example \(read only\)"/);
    some(/send 0\.001 of the native coin .* on chain 42161 to 0x1111111111111111111111111111111111111111/);
    const evm = (await g.call('GET', `/v1/approvals/${send.body.request.requestId}`, { token: viewer })).body
      .approval;
    assert.deepEqual(
      { ...evm.review.payload, from: undefined },
      {
        type: 'eip1559',
        chainId: 42161,
        from: undefined,
        to: '0x1111111111111111111111111111111111111111',
        value: '1000000000000000',
        data: '0x',
        gasLimit: '21000',
        maxFeePerGas: '200000000000',
        maxPriorityFeePerGas: '1000000000',
        maxFee: '4200000000000000',
        nonce: 'assigned at signing',
      },
    );
    assert.equal(evm.review.payload.from, g.warden.vault.getIdentity('alice').evm!.address.toLowerCase());
    assert.equal(recomputed(evm.review), evm.intentHash);
  });

  test('a payload that no longer matches its intent hash is shown as such and is never signed', async () => {
    const { g, agent, operator, viewer } = await setup();
    const held = await g.call('POST', '/v1/nostr/sign', { token: agent, body: PROFILE });
    const id = held.body.request.requestId;
    await sql`UPDATE request SET intent_hash = ${'e'.repeat(64)} WHERE id = ${id}`.execute(g.warden.store.db);
    const shown = (await g.call('GET', `/v1/approvals/${id}`, { token: viewer })).body.approval;
    assert.equal(shown.reviewable, false);
    assert.match(shown.summary, /does not open under this intent hash and hold: do not approve; deny it/);
    const approved = await g.call('POST', `/v1/approvals/${id}/approve`, { token: operator });
    assert.equal(approved.body.request.status, 'failed');
    assert.equal(approved.body.request.error.code, 'APPROVAL_MISMATCH');
  });

  test('terminal escapes and bidi overrides in content are made visible in the summary', async () => {
    const { g, agent, viewer } = await setup();
    const sneaky = JSON.stringify({ name: 'bot', lud16: `ok@good.example\u001b[2K\u202eelpmaxe.live@feiht` });
    await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 0, content: sneaky } });
    const [listed] = (await g.call('GET', '/v1/approvals', { token: viewer })).body.approvals;
    assert.ok(!listed.summary.includes('\u001b') && !listed.summary.includes('\u202e'));
    assert.match(listed.summary, /\\u001b\[2K\\u\{202e\}elpmaxe/);
  });
});

describe('risk denials an operator may accept are listed with the same view', () => {
  test('GET /v1/requests?status=risk-acceptable lists them with payload and summary; agents see their own only', async () => {
    const g = await startTestGateway({
      identities: ['alice', 'bob'],
      policies: {
        '*': STRICT_NOSTR_POLICY,
      },
    });
    const alice = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const bob = await g.token('agent', { identity: 'bob', capabilities: ['nostr:sign'] });
    const operator = await g.token('operator');
    const denied = await g.call('POST', '/v1/nostr/sign', { token: alice, body: { kind: 1, content: 'gm' } });
    assert.equal(denied.body.error.code, 'RISK_TOO_HIGH');
    await g.call('POST', '/v1/nostr/sign', { token: bob, body: { kind: 1, content: 'hello' } });

    const listed = await g.call('GET', '/v1/requests?status=risk-acceptable', { token: operator });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.requests.length, 2);
    const mine = listed.body.requests.find((r: { identity: string }) => r.identity === 'alice');
    assert.equal(mine.acceptable, true);
    assert.equal(mine.review.payload.content, 'gm');
    assert.equal(mine.summary, 'kind 1 event: 0 tag(s), content "gm"');
    assert.equal(recomputed(mine.review), mine.intentHash);

    const own = await g.call('GET', '/v1/requests?status=denied', { token: alice });
    assert.deepEqual(
      own.body.requests.map((r: { identity: string }) => r.identity),
      ['alice'],
    );
    assert.equal((await g.call('GET', '/v1/requests?identity=bob', { token: alice })).status, 403);
    assert.equal((await g.call('GET', '/v1/requests?status=nope', { token: operator })).status, 400);
    assert.equal((await g.call('GET', '/v1/requests?limit=0', { token: operator })).status, 400);
  });
});

describe('the approval binding never fails open', () => {
  test('an approve body without a JSON content type is refused (415) and the request stays held', async () => {
    const { g, agent, operator, viewer } = await setup();
    const a = (await g.call('POST', '/v1/nostr/sign', { token: agent, body: PROFILE })).body.request
      .requestId;
    const b = (
      await g.call('POST', '/v1/nostr/sign', {
        token: agent,
        body: { ...PROFILE, content: JSON.stringify({ name: 'other' }) },
      })
    ).body.request.requestId;
    const otherHash = (await g.call('GET', `/v1/approvals/${b}`, { token: viewer })).body.approval.intentHash;
    const body = JSON.stringify({ intentHash: otherHash });
    for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/jsonx' }]) {
      const r = await rawRequest(`${g.url}/v1/approvals/${a}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, ...headers },
        body,
      });
      assert.equal(r.status, 415, JSON.stringify(headers));
      assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const still = (await g.call('GET', `/v1/approvals/${a}`, { token: viewer })).body.approval;
    assert.equal(still.status, 'held');
    assert.deepEqual(still.approvals, []);
    // With the right content type the mismatched hash is caught; with no body at all, approve works.
    const mismatch = await g.call('POST', `/v1/approvals/${a}/approve`, {
      token: operator,
      body: { intentHash: otherHash },
    });
    assert.equal(mismatch.body.error.code, 'APPROVAL_MISMATCH');
    const empty = await rawRequest(`${g.url}/v1/approvals/${a}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}` },
    });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.request.status, 'done');
  });

  test('every POST route refuses a body that is not declared JSON', async () => {
    const { g, agent, operator } = await setup();
    for (const [path, token] of [
      ['/v1/nostr/sign', agent],
      ['/v1/evm/send', agent],
      ['/v1/dry-run', agent],
      ['/v1/approvals/req_x/deny', operator],
      ['/v1/approvals/req_x/accept-risk', operator],
    ] as const) {
      const r = await rawRequest(`${g.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: '{"kind":1,"content":"x","reason":"r"}',
      });
      assert.equal(r.status, 415, path);
    }
  });
});

describe('summaries of sensitive kinds without a wording of their own', () => {
  test('they name the kind, its NIP and what it redirects, from the one list of sensitive kinds', () => {
    for (const sensitive of SENSITIVE_NOSTR_KINDS) {
      const { summary } = nostrReview(
        { kind: sensitive.kind, content: 'x', tags: [], created_at: 1 },
        PUBKEY,
      );
      assert.ok(summary.length > 0);
      if (!/\(kind \d+/.test(summary)) continue; // a dedicated wording (profile, relay list, …)
      assert.ok(summary.includes(`kind ${sensitive.kind}`), summary);
    }
    const nutzap = nostrReview(
      { kind: 10019, content: '', tags: [['mint', 'https://mint.evil']], created_at: 1 },
      PUBKEY,
    );
    assert.match(nutzap.summary, /\(kind 10019, NIP-61\): .+; 1 tag\(s\)/);
  });

  test("zap splits on any kind are named: they send the event's zaps elsewhere", () => {
    const note = nostrReview(
      { kind: 1, content: 'gm', tags: [['zap', 'f'.repeat(64), 'wss://r.example', '1']], created_at: 1 },
      PUBKEY,
    );
    assert.match(note.summary, new RegExp(`its zaps go to "${'f'.repeat(64)}" \\(zap split\\)`));
    assert.equal(note.payload.pubkey, PUBKEY);
  });
});

describe('a process that can write the database but has no vault key cannot move a request', () => {
  test('an EVM send redirected in the clear intent column, with its hashes recomputed, is never sent', async () => {
    const { g, agent, operator } = await setup();
    const held = await g.call('POST', '/v1/evm/send', {
      token: agent,
      body: {
        chainId: 42161,
        to: '0x1111111111111111111111111111111111111111',
        value: '1000',
        maxFeePerGas: '1000000000',
        maxPriorityFeePerGas: '1',
      },
    });
    const id = held.body.request.requestId;
    const db = g.warden.store.db;
    const row = await db.selectFrom('request').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const intent = JSON.parse(row.intent);
    intent.destinations = ['0x2222222222222222222222222222222222222222'];
    intent.detail.to = '0x2222222222222222222222222222222222222222';
    // The attacker recomputes the review hash over the edited intent: it needs no key.
    const shown = (await g.call('GET', `/v1/approvals/${id}`, { token: operator })).body.approval;
    const review = { ...shown.review, intent, payload: { ...shown.review.payload, to: intent.detail.to } };
    const forgedHash = recomputed(review);
    await sql`UPDATE request SET intent = ${JSON.stringify(intent)}, intent_hash = ${forgedHash} WHERE id = ${id}`.execute(
      db,
    );
    const after = (await g.call('GET', `/v1/approvals/${id}`, { token: operator })).body.approval;
    assert.equal(after.reviewable, false, 'the sealed payload no longer opens');
    const approved = await g.call('POST', `/v1/approvals/${id}/approve`, {
      token: operator,
      body: { intentHash: forgedHash },
    });
    assert.equal(approved.body.request.status, 'failed');
    assert.equal(approved.body.request.error.code, 'APPROVAL_MISMATCH');
  });

  test("lowering a hold's approvals, or an inserted approval row, releases nothing", async () => {
    const { g, agent, viewer } = await setup();
    const db = g.warden.store.db;
    const a = (await g.call('POST', '/v1/nostr/sign', { token: agent, body: PROFILE })).body.request
      .requestId;
    await sql`UPDATE request SET hold_approvals = 0 WHERE id = ${a}`.execute(db);
    await g.gateway.tick();
    const lowered = (await g.call('GET', `/v1/approvals/${a}`, { token: viewer })).body.approval;
    assert.notEqual(lowered.status, 'done');
    assert.equal(lowered.result, null);

    const b = (await g.call('POST', '/v1/nostr/sign', { token: agent, body: { ...PROFILE, content: '{}' } }))
      .body.request.requestId;
    const hash = (await g.call('GET', `/v1/approvals/${b}`, { token: viewer })).body.approval.intentHash;
    await db
      .insertInto('approval')
      .values({
        request_id: b,
        operator: 'operator:tok_x',
        verdict: 'approve',
        intent_hash: hash,
        reason: null,
        at: new Date(Date.now() + 1000).toISOString(),
        mac: new Uint8Array(32),
      })
      .execute();
    await g.gateway.tick();
    const forged = (await g.call('GET', `/v1/approvals/${b}`, { token: viewer })).body.approval;
    assert.equal(forged.status, 'held');
    assert.equal(forged.remainingApprovals, 1);
    assert.equal(forged.approvals[0].forged, true);
  });

  test('a risk denial turned into a zero-approval hold in the database is never signed', async () => {
    const g = await startTestGateway({
      identities: ['alice'],
      policies: {
        alice: STRICT_NOSTR_POLICY,
      },
    });
    const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const denied = await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: 'gm' } });
    const id = denied.body.error.details.requestId;
    await sql`UPDATE request SET status = 'held', hold_approvals = 0, hold_delay_ms = 0, error_code = NULL WHERE id = ${id}`.execute(
      g.warden.store.db,
    );
    await g.gateway.tick();
    const row = await g.warden.store.db
      .selectFrom('request')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.result, null, 'nothing signed');
    assert.equal(row.status, 'failed');
    assert.equal(row.error_code, 'APPROVAL_MISMATCH');
  });
});
