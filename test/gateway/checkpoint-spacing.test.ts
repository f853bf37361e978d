import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { MIN_CHECKPOINT_INTERVAL_MS } from '../../src/gateway/pipeline.ts';
import { startTestGateway } from '../helpers/gateway.ts';

const POLICY = `
version: 1
name: notes
rules:
  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }
`;

test('a busy server writes checkpoints at most once a second, and covers its records within one', async () => {
  const g = await startTestGateway({ identities: ['poster'], policies: { poster: POLICY } });
  const token = await g.token('agent', { identity: 'poster', capabilities: ['nostr:sign'] });
  const db = g.warden.store.db;
  const before = await sql<{ id: number | null }>`SELECT max(id) AS id FROM audit_checkpoint`.execute(db);
  const since = Number(before.rows[0]?.id ?? 0);

  // 600 signatures, 32 in flight: 1,200 records, 12 checkpoints due at one per 100.
  let next = 0;
  const client = async () => {
    while (next < 600) {
      const i = next++;
      const r = await g.call('POST', '/v1/nostr/sign', {
        token,
        body: { kind: 1, content: `note ${i}`, tags: [] },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
  };
  await Promise.all(Array.from({ length: 32 }, client));
  await new Promise((resolve) => setTimeout(resolve, MIN_CHECKPOINT_INTERVAL_MS * 1.5));

  const written = await sql<{ seq: number; time: string }>`
    SELECT seq, time FROM audit_checkpoint WHERE id > ${since} ORDER BY id`.execute(db);
  const times = written.rows.map((r) => Date.parse(r.time));
  assert.ok(times.length >= 1, 'the burst was checkpointed');
  for (let i = 1; i < times.length; i++) {
    assert.ok(
      times[i]! - times[i - 1]! >= MIN_CHECKPOINT_INTERVAL_MS,
      `checkpoints ${i - 1} and ${i} are a second apart`,
    );
  }
  const head = await sql<{ seq: number }>`SELECT max(seq) AS seq FROM audit_log`.execute(db);
  const covered = written.rows.at(-1)!.seq;
  assert.ok(
    head.rows[0]!.seq - covered < 100,
    'once it is quiet, fewer than one checkpoint interval of records stay uncovered',
  );
  await g.close();
});
