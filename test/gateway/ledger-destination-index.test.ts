/**
 * The ledger's destination index holds only entries that have a destination (migration 0015): an
 * entry without one (a Nostr signature) writes no page of it, and the look-up of destinations paid
 * before still finds every one, through the index.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Intent } from '../../src/core/intent.ts';
import { knownDestinations } from '../../src/gateway/ledger.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';

test('entries without a destination stay out of ledger_destination; paid destinations are still found through it', async () => {
  const store = await openSqliteStore(join(tempDir('ledger-destination'), 'warden.db'));
  try {
    const rows: [string, string | null, string][] = [
      ['led_1', null, 'committed'],
      ['led_2', 'bc1qpaid', 'committed'],
      ['led_3', null, 'committed'],
      ['led_4', 'bc1qreserved', 'reserved'],
      ['led_5', 'bc1qother', 'committed'],
    ];
    for (const [i, [id, destination, status]] of rows.entries()) {
      await sql`INSERT INTO ledger (id, request_id, identity, protocol, action, asset, destination, facets,
        amount, fee, fee_final, at, status, updated_at, version) VALUES (${id}, ${`req_${id}`}, 'alice',
        'bitcoin', 'send', 'btc', ${destination}, '{}', '5', '0', 1, ${i}, ${status}, 'now', ${i + 1})`.execute(
        store.db,
      );
    }
    const { rows: cells } = await sql<{ n: number }>`SELECT sum(ncell) AS n FROM dbstat
      WHERE name = 'ledger_destination' AND pagetype = 'leaf'`.execute(store.db);
    assert.equal(cells[0]?.n, 3, 'one index entry per entry with a destination');
    const intent = { identity: 'alice', destinations: ['bc1qpaid', 'bc1qreserved', 'bc1qnever'] } as Intent;
    const [known] = await store.batch([(sync) => knownDestinations(sync, intent)]);
    assert.deepEqual(known, { ok: true, value: new Set(['bc1qpaid']) }, 'committed only');
    const { rows: plan } = await sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT DISTINCT destination
      FROM ledger WHERE identity = 'alice' AND status = 'committed' AND destination IN ('a', 'b')`.execute(
      store.db,
    );
    assert.match(plan.map((p) => p.detail).join('\n'), /USING COVERING INDEX ledger_destination/);
  } finally {
    await store.close();
  }
});
