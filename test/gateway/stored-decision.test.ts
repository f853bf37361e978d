/**
 * A request's risk assessment is stored once, named by its hash in the request row and in the
 * admission's audit record (core/stored-decision.ts, store/content.ts): every reader shows the
 * decision whole, as a dry run of the same request decides it; an altered or missing text is
 * refused, not shown; rows from before keep the assessment in the row and read as they are.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { canonicalJsonOfValue } from '../../src/core/canonical.ts';
import { decisionOf } from '../../src/gateway/requests.ts';
import { contentHash } from '../../src/store/content.ts';
import { migrationProvider } from '../../src/store/migrations.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/home.ts';
import { nostrNotesPolicy } from '../helpers/policies.ts';

async function setup() {
  const g = await startTestGateway({
    identities: ['alice'],
    policies: { alice: nostrNotesPolicy('notes', 100) },
  });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const viewer = await g.token('viewer');
  const sign = async (content: string) => {
    const r = await g.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.request as { requestId: string; decision: { risk: unknown } };
  };
  const view = async (id: string) => (await g.call('GET', `/v1/requests/${id}`, { token: viewer })).body;
  const admissionDetails = async (id: string) =>
    (await g.warden.showAudit({ identity: 'alice' })).find(
      (r) => r.action === 'nostr.sign_event' && r.summary.operationId === id,
    );
  const storedDecision = async (id: string) =>
    JSON.parse(
      (
        await g.warden.store.db
          .selectFrom('request')
          .select('decision')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).decision,
    );
  return { g, agent, sign, view, admissionDetails, storedDecision };
}

test('the assessment is stored once; the request views and the audit record show the decision whole', async () => {
  const { g, agent, sign, view, admissionDetails, storedDecision } = await setup();
  try {
    const dry = await g.call('POST', '/v1/dry-run', {
      token: agent,
      body: { operation: 'nostr.sign_event', request: { kind: 1, content: 'gm 0' } },
    });
    const signed = [await sign('gm 0'), await sign('gm 1'), await sign('gm 2')];
    const contents = await g.warden.store.db.selectFrom('content').selectAll().execute();
    assert.equal(contents.length, 1, 'three requests of one kind share one stored assessment');
    const [content] = contents;
    assert.equal(contentHash(content!.body), content!.hash);
    // Judged afresh without storing anything, the same request has the same assessment.
    assert.deepEqual(JSON.parse(content!.body), dry.body.decision.risk);
    assert.ok((dry.body.decision.risk.risks as unknown[]).length > 0);
    for (const s of signed) {
      assert.deepEqual(await storedDecision(s.requestId).then((d) => d.risk), { sha256: content!.hash });
      assert.deepEqual(s.decision.risk, dry.body.decision.risk, 'the answer to the agent');
      const shown = (await view(s.requestId)).request.decision;
      // Same values in the same key order as the answer (what a copied assessment read as).
      assert.equal(JSON.stringify(shown), JSON.stringify(s.decision));
      const record = await admissionDetails(s.requestId);
      assert.ok(record, 'the admission record');
      assert.equal(record.detailsError, undefined);
      const audited = (record.details as { decision: unknown }).decision;
      assert.equal(canonicalJsonOfValue(audited), canonicalJsonOfValue(s.decision), 'the audit record');
    }
    const listed = await g.call('GET', '/v1/requests?identity=alice', { token: await g.token('viewer') });
    for (const r of listed.body.requests as { decision: { risk: unknown } }[])
      assert.deepEqual(r.decision.risk, dry.body.decision.risk, 'the request list');
  } finally {
    await g.close();
  }
});

test('an altered or deleted stored assessment is refused by the views, marked in the audit log, and fails audit verify', async () => {
  const { g, sign, view, admissionDetails } = await setup();
  try {
    const { requestId } = await sign('gm');
    const { db } = g.warden.store;
    assert.equal((await g.warden.verifyAudit()).ok, true);
    await assert.rejects(sql`UPDATE content SET body = ''`.execute(db), /content is append-only/);
    await assert.rejects(sql`DELETE FROM content`.execute(db), /content is append-only/);
    // What an attacker with file access does first.
    await sql`DROP TRIGGER content_no_update`.execute(db);
    await sql`DROP TRIGGER content_no_delete`.execute(db);
    await sql`UPDATE content SET body = replace(body, 'Private key theft', 'Nothing to see')`.execute(
      g.warden.store.db,
    );
    assert.equal((await view(requestId)).error.code, 'STORE_ERROR');
    const altered = await admissionDetails(requestId);
    assert.equal(altered?.detailsError, 'PART_MISSING');
    assert.equal(altered?.details, undefined, 'nothing of an unverified text is shown');
    // And `audit verify`, which checks everything, fails on it.
    const verified = await g.warden.verifyAudit();
    assert.equal(verified.ok, false);
    assert.equal(verified.problem?.code, 'AUDIT_PART_ALTERED');
    await sql`DELETE FROM content`.execute(g.warden.store.db);
    assert.equal((await view(requestId)).error.code, 'STORE_ERROR');
    const gone = await admissionDetails(requestId);
    assert.equal(gone?.detailsError, 'PART_MISSING');
    // Deleted outright, nothing is left to compare: the full verification finds the name without a text.
    const deleted = await g.warden.verifyAudit();
    assert.equal(deleted.ok, false);
    assert.equal(deleted.problem?.code, 'AUDIT_PART_MISSING', deleted.problem?.message);
    assert.equal(deleted.firstBadSeq, gone?.seq, 'the first record naming the deleted text');
  } finally {
    await g.close();
  }
});

test('a database from before 0014 gains the content table; its rows keep their assessment and read as they are', async () => {
  const path = join(tempDir('stored-decision'), 'warden.db');
  const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  const decision = {
    code: 'ALLOWED',
    outcome: 'allow',
    risk: { score: 6, risks: [{ id: 'nostr.key-theft', name: 'Private key theft' }] },
  };
  try {
    const { error } = await new Migrator({ db: old, provider: migrationProvider() }).migrateTo(
      '0013_nwc_connection',
    );
    assert.equal(error, undefined);
    await sql`INSERT INTO request (id, identity, token_id, protocol, action, operation, intent, intent_hash,
      status, decision, created_at, updated_at) VALUES ('req_old', 'alice', 'tok', 'nostr', 'sign_event',
      'nostr.sign_event', '{}', 'h', 'done', ${JSON.stringify(decision)}, 'now', 'now')`.execute(old);
  } finally {
    await old.destroy();
  }
  const store = await openSqliteStore(path);
  try {
    assert.deepEqual(await store.db.selectFrom('content').selectAll().execute(), []);
    const row = await store.db.selectFrom('request').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual(await decisionOf(store.db, row), decision);
  } finally {
    await store.close();
  }
});
