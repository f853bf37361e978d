import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { sql } from 'kysely';
import { checkBind } from '../../src/api/http/server.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { revokeTokenAudited } from '../../src/gateway/admin.ts';
import { startTestGateway, tokenParts } from '../helpers/gateway.ts';

const POLICY = `
version: 1
name: http
risk: { tolerance: high }
rules:
  - { id: profile, match: { protocol: nostr, kind: [0] }, effect: hold, approvals: 1 }
  - { id: dms, match: { protocol: nostr, kind: [4] }, effect: deny }
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
    limits: [{ window: 1h, max_count: 3 }]
`;

async function tableCounts(g: Awaited<ReturnType<typeof startTestGateway>>) {
  const counts: Record<string, number> = {};
  for (const t of ['request', 'ledger', 'audit_log', 'approval', 'audit_checkpoint']) {
    const row = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(t)}`.execute(
      g.warden.store.db,
    );
    counts[t] = Number(row.rows[0]!.n);
  }
  return counts;
}

describe('HTTP API', () => {
  test('dry-run evaluates with no side effect at all', async () => {
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
    const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const operator = await g.token('operator');
    await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: 'real' } });
    const before = await tableCounts(g);
    const keystore = readFileSync(g.warden.layout.keystore);
    const outcomes: string[] = [];
    for (const [token, request, identity] of [
      [agent, { kind: 1, content: 'a' }, undefined],
      [agent, { kind: 0, content: '{}' }, undefined],
      [agent, { kind: 4, content: 'dm' }, undefined],
      [operator, { kind: 1, content: 'b' }, 'alice'],
    ] as const) {
      for (let i = 0; i < 5; i++) {
        const r = await g.call('POST', '/v1/dry-run', {
          token,
          body: { operation: 'nostr.sign', request, ...(identity ? { identity } : {}) },
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.dryRun, true);
        outcomes.push(r.body.decision.outcome);
      }
    }
    assert.deepEqual([...new Set(outcomes)].sort(), ['allow', 'deny', 'hold']);
    assert.deepEqual(await tableCounts(g), before, 'no request, ledger, audit or approval row was written');
    assert.deepEqual(readFileSync(g.warden.layout.keystore), keystore);
    // And the budget is intact: two more real notes pass, the third is over the window.
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: `n${i}` } }))
          .status,
      );
    assert.deepEqual(statuses, [200, 200, 403]);
  });

  test('property: generated dry runs, well-formed or not, never change a row (fast-check)', async () => {
    const g = await startTestGateway({ identities: ['alice', 'bob'], policies: { alice: POLICY } });
    try {
      const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
      const operator = await g.token('operator');
      await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: 'real' } });
      const before = await tableCounts(g);
      const tag = fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 });
      const request = fc.oneof(
        fc.record(
          {
            kind: fc.oneof(fc.constantFrom(0, 1, 3, 4, 7, 10002, 27235), fc.integer()),
            content: fc.string({ maxLength: 40 }),
            tags: fc.array(tag, { maxLength: 3 }),
            created_at: fc.integer({ min: 0, max: 2_000_000_000 }),
          },
          { requiredKeys: ['kind'] },
        ),
        fc.jsonValue(),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.constantFrom('nostr.sign', 'evm.send', 'nope'),
          fc.option(fc.constantFrom('alice', 'bob', 'nobody'), { nil: undefined }),
          request,
          async (asAgent, operation, identity, body) => {
            const r = await g.call('POST', '/v1/dry-run', {
              token: asAgent ? agent : operator,
              body: { operation, request: body, ...(identity ? { identity } : {}) },
            });
            assert.ok(r.status < 500, JSON.stringify(r.body));
          },
        ),
        { numRuns: 150 },
      );
      assert.deepEqual(await tableCounts(g), before, 'no request, ledger, audit or approval row was written');
    } finally {
      await g.close();
    }
  });

  test('a denial names the rule, the numbers and what would let it pass', async () => {
    const clock = fixedClock(new Date('2026-05-01T12:00:00Z'));
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY }, clock });
    const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: `n${i}` } }))
          .status,
        200,
      );
      clock.advance(60_000);
    }
    const r = await g.call('POST', '/v1/nostr/sign', {
      token: agent,
      body: { kind: 1, content: 'one too many' },
    });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'LIMIT_EXCEEDED');
    const decision = r.body.error.details.request.decision;
    assert.equal(decision.decidingRule, 'notes');
    const limit = decision.trail.find((t: { rule: string }) => t.rule === 'notes').limits[0];
    assert.deepEqual(
      [limit.limit, limit.measure, limit.used, limit.cap, limit.ok],
      ['1h', 'count', '3', '3', false],
    );
    assert.equal(
      limit.freesAt,
      '2026-05-01T13:00:00.000Z',
      'the oldest of the three leaves the window an hour after it was signed',
    );
    assert.match(decision.remedy, /2026-05-01T13:00:00/);
    assert.ok(
      decision.risk && typeof decision.risk.score === 'number',
      'every decision carries its risk assessment',
    );
    clock.set(new Date('2026-05-01T13:00:00.001Z'));
    assert.equal(
      (await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: 'later' } })).status,
      200,
    );
  });

  test('tokens: stored hashed, revocation and expiry take effect at once', async () => {
    const clock = fixedClock(new Date('2026-05-01T12:00:00Z'));
    const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY }, clock });
    const agent = await g.token('agent', {
      identity: 'alice',
      capabilities: ['nostr:sign'],
      ttlMs: 60 * 60 * 1000,
    });
    assert.match(agent, /^wdn_tok_[a-z2-7]{26}_[A-Za-z0-9_-]{43}$/);
    const secret = tokenParts(agent).secret;
    const secretBytes = Buffer.from(secret, 'base64url');
    const row = await g.warden.store.db
      .selectFrom('token')
      .selectAll()
      .where('id', '=', tokenParts(agent).id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      Buffer.from(row.secret_hash),
      Buffer.from(sha256(secretBytes)),
      'only SHA-256 of the secret is stored',
    );
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(g.warden.store.db);
    const dbFile = readFileSync(g.warden.layout.database);
    assert.ok(dbFile.includes(Buffer.from(row.id)), 'the row is in the checkpointed database file');
    assert.equal(dbFile.includes(secretBytes), false, 'the raw secret is not in the database');
    assert.equal(dbFile.toString('latin1').includes(secret), false, 'nor its text form');
    assert.equal((await g.call('GET', '/v1/identities', { token: agent })).status, 200);
    clock.advance(60 * 60 * 1000);
    assert.equal((await g.call('GET', '/v1/identities', { token: agent })).status, 401, 'expired');
    const other = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    assert.equal((await g.call('GET', '/v1/identities', { token: other })).status, 200);
    const id = tokenParts(other).id;
    await revokeTokenAudited(g.warden, id);
    assert.equal((await g.call('GET', '/v1/identities', { token: other })).status, 401, 'revoked');
  });

  test('health: ok, then 503 unavailable when the keystore can no longer be read, and nothing served', async () => {
    const g = await startTestGateway({ identities: ['alice'] });
    try {
      assert.deepEqual(await g.call('GET', '/v1/health'), { status: 200, body: { status: 'ok' } });
      const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
      writeFileSync(g.warden.layout.keystore, 'damaged');
      assert.deepEqual(await g.call('GET', '/v1/health'), { status: 503, body: { status: 'unavailable' } });
      const refused = await g.call('POST', '/v1/nostr/sign', { token, body: { kind: 1, content: 'x' } });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'KEYSTORE_CORRUPT');
      // A keystore removed under the running server is unavailable too, not quietly ignored.
      rmSync(g.warden.layout.keystore);
      assert.deepEqual(await g.call('GET', '/v1/health'), { status: 503, body: { status: 'unavailable' } });
    } finally {
      await g.close();
    }
  });

  test('OpenAPI document, error shape, unknown routes, rate limits', async () => {
    const g = await startTestGateway({
      identities: ['alice'],
      policies: { alice: POLICY },
      rateLimits: (op) =>
        op === 'read.identities' ? { max: 3, windowMs: 60_000 } : { max: 1000, windowMs: 60_000 },
    });
    const doc = await g.call('GET', '/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    for (const path of [
      '/v1/nostr/sign',
      '/v1/dry-run',
      '/v1/requests/{id}',
      '/v1/approvals',
      '/v1/approvals/{id}/approve',
    ]) {
      assert.ok(doc.body.paths[path], path);
    }
    const missing = await g.call('GET', '/v1/nope');
    assert.equal(missing.status, 401, 'unknown routes under /v1 still need a token');
    const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const notFound = await g.call('GET', '/v1/nope', { token: agent });
    assert.deepEqual(Object.keys(notFound.body.error).sort(), ['code', 'details', 'message']);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await g.call('GET', '/v1/identities', { token: agent }));
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 429, 429],
    );
    assert.equal(results[3]!.body.error.code, 'RATE_LIMITED');
  });

  test('binding: loopback by default; anything else needs TLS and --allow-remote', () => {
    assert.doesNotThrow(() => checkBind({ host: '127.0.0.1', port: 0 }));
    assert.doesNotThrow(() => checkBind({ host: '::1', port: 0 }));
    for (const host of ['0.0.0.0', '192.0.2.1', '::']) {
      assert.throws(
        () => checkBind({ host, port: 0 }),
        (e) => isWardenError(e, 'BIND_REFUSED'),
        host,
      );
      assert.throws(
        () => checkBind({ host, port: 0, allowRemote: true }),
        (e) => isWardenError(e, 'BIND_REFUSED'),
        `${host} without TLS`,
      );
      assert.throws(
        () => checkBind({ host, port: 0, tls: { certFile: 'c', keyFile: 'k' } }),
        (e) => isWardenError(e, 'BIND_REFUSED'),
        `${host} without --allow-remote`,
      );
      assert.doesNotThrow(() =>
        checkBind({ host, port: 0, tls: { certFile: 'c', keyFile: 'k' }, allowRemote: true }),
      );
    }
  });
});
