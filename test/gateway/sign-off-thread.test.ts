import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type NostrEvent, verifyEvent } from 'nostr-tools';
import { readAudit } from '../../src/audit/show.ts';
import { assertAuditIntact } from '../../src/audit/verify.ts';
import { authenticate } from '../../src/gateway/tokens.ts';
import { SchnorrThread } from '../../src/keys/schnorr-thread.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { nostrNotesPolicy } from '../helpers/policies.ts';

/**
 * Requests that arrive together (a batch of 16 or more) are signed on the signing thread, inside
 * their batch's transaction. In process, so that a batch's size is known: every submit below is
 * made in one turn and joins one batch.
 */
class CountingThread extends SchnorrThread {
  jobs = 0;
  override sign(digest: Uint8Array, secret: Uint8Array): Promise<Uint8Array> {
    this.jobs++;
    return super.sign(digest, secret);
  }
}

async function submitTogether(g: TestGateway, identity: string, n: number) {
  const token = await g.token('agent', { identity, capabilities: ['nostr:sign'] });
  const principal = await authenticate(g.warden.store.db, `Bearer ${token}`, g.warden.clock);
  const op = g.gateway.operations.get('nostr.sign_event');
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      g.gateway.pipeline.submit(principal, op, { kind: 1, content: `together ${i}` }),
    ),
  );
}

async function ledgerStatuses(g: TestGateway): Promise<Record<string, number>> {
  const rows = await g.warden.store.db.selectFrom('ledger').select(['status']).execute();
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

async function resultRecords(g: TestGateway) {
  const records = await readAudit(g.warden.store, g.warden.vault.auditKeys(), { limit: 10_000 });
  return records.filter((r) => r.action === 'nostr.sign_event.result');
}

test('64 requests in one batch against a cap of 40: exactly 40 signed on the thread, each on record as returned', async () => {
  const signing = new CountingThread();
  const g = await startTestGateway({
    identities: ['poster'],
    policies: { poster: nostrNotesPolicy('together', 40) },
    signing,
  });
  const views = await submitTogether(g, 'poster', 64);
  const done = views.filter((v) => v.status === 'done');
  const denied = views.filter((v) => v.status === 'denied');
  assert.equal(done.length, 40);
  assert.equal(denied.length, 24);
  for (const v of denied) assert.equal((v.decision as { code: string }).code, 'LIMIT_EXCEEDED');
  assert.equal(signing.jobs, 40, 'every allowed request of the batch was signed on the thread');

  const events = done.map((v) => (v.result as { event: NostrEvent }).event);
  for (const e of events) assert.equal(verifyEvent(e), true);
  const onRecord = new Map<string, string>();
  for (const r of await resultRecords(g)) {
    const event = (r.details as { result?: { event?: NostrEvent } } | null)?.result?.event;
    if (r.outcome === 'ok' && event) onRecord.set(event.id, event.sig);
  }
  assert.equal(onRecord.size, 40);
  for (const e of events) assert.equal(onRecord.get(e.id), e.sig, 'the record holds the signature returned');

  // The rows as the commit left them: results in place, entries committed, the chain whole.
  const rows = await g.warden.store.db
    .selectFrom('request')
    .select(['id', 'status', 'result'])
    .where('status', '=', 'done')
    .execute();
  assert.equal(rows.length, 40);
  for (const row of rows) assert.ok(row.result?.includes('"sig"'), row.id);
  assert.deepEqual(await ledgerStatuses(g), { committed: 40 });
  await assertAuditIntact(g.warden.store, g.warden.vault.auditKeys().publicKey);
});

const faulty = (fault: string) =>
  new URL(`../keys/fixtures/faulty-schnorr-worker.ts?fault=${fault}`, import.meta.url);

test('a signature the thread refuses: every request of the batch failed, its budget released, nothing signed on record', async () => {
  const g = await startTestGateway({
    identities: ['poster'],
    policies: { poster: nostrNotesPolicy('refused', 24) },
    signing: new SchnorrThread({ entry: faulty('refuse') }),
  });
  const views = await submitTogether(g, 'poster', 24);
  for (const v of views) {
    assert.equal(v.status, 'failed');
    assert.deepEqual(v.error, { code: 'SIGNING_FAILED' });
    assert.equal(v.result, null);
  }
  assert.deepEqual(await ledgerStatuses(g), { released: 24 });
  const results = await resultRecords(g);
  assert.equal(results.length, 24);
  for (const r of results) assert.equal(r.outcome, 'failed');
  await assertAuditIntact(g.warden.store, g.warden.vault.auditKeys().publicKey);

  // The cap of 24 is whole again: a request alone (signed on this thread) is allowed and done.
  const [alone] = await submitTogether(g, 'poster', 1);
  assert.equal(alone!.status, 'done');
  assert.equal(verifyEvent((alone!.result as { event: NostrEvent }).event), true);
});

test('a signing thread whose worker dies mid-batch: the batch signs on this thread instead, and the failure is told', async () => {
  const told: string[] = [];
  const g = await startTestGateway({
    identities: ['poster'],
    policies: { poster: nostrNotesPolicy('dies', 24) },
    signing: new SchnorrThread({ entry: faulty('exit'), log: (m) => told.push(m) }),
  });
  const views = await submitTogether(g, 'poster', 24);
  for (const v of views) {
    assert.equal(v.status, 'done');
    assert.equal(verifyEvent((v.result as { event: NostrEvent }).event), true);
  }
  assert.match(told.join('; '), /the signing thread exited/);
  assert.deepEqual(await ledgerStatuses(g), { committed: 24 });
  assert.equal((await resultRecords(g)).filter((r) => r.outcome === 'ok').length, 24);
  await assertAuditIntact(g.warden.store, g.warden.vault.auditKeys().publicKey);
  // Beyond the cap, refused as always.
  const [over] = await submitTogether(g, 'poster', 1);
  assert.equal(over!.status, 'denied');
});

test('a batch of 8 signs on this thread: its signatures would come back to a thread with nothing else to do', async () => {
  const signing = new CountingThread();
  const g = await startTestGateway({
    identities: ['poster'],
    policies: { poster: nostrNotesPolicy('small', 100) },
    signing,
  });
  const views = await submitTogether(g, 'poster', 8);
  for (const v of views) {
    assert.equal(v.status, 'done');
    assert.equal(verifyEvent((v.result as { event: NostrEvent }).event), true);
  }
  assert.equal(signing.jobs, 0);
  assert.deepEqual(await ledgerStatuses(g), { committed: 8 });
});
