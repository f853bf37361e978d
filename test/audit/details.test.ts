import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { appendAudit } from '../../src/audit/append.ts';
import { DETAILS_NONCE_LENGTH } from '../../src/audit/keyring.ts';
import { readAudit } from '../../src/audit/show.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import { dropTriggers, sampleEntry, tempStore, testClock, testKeyring, withStore } from './helpers.ts';

const keyring = testKeyring();
const SECRET_DESTINATION = 'bc1qsecretdestinationthatmustneverbeinclear0000';
const SECRET_NOTE = 'pay the landlord 1234567 sats';

test('details are encrypted at rest and decrypt back through readAudit', async () => {
  await withStore(tempStore, async (t) => {
    const details = {
      request: { to: SECRET_DESTINATION, note: SECRET_NOTE, amount: 1234567n },
      decision: 'allow',
    };
    await appendAudit(t.store, keyring, { ...sampleEntry(1), details }, testClock());
    await appendAudit(t.store, keyring, sampleEntry(2), testClock());

    const [withDetails, without] = await readAudit(t.store, keyring);
    assert.deepEqual(withDetails?.details, {
      request: { to: SECRET_DESTINATION, note: SECRET_NOTE, amount: '1234567' },
      decision: 'allow',
    });
    assert.equal(withDetails?.detailsError, undefined);
    assert.equal(without?.details, undefined);
    assert.equal(without?.sealed, undefined);

    const row = await t.store.db
      .selectFrom('audit_log')
      .select('details')
      .where('seq', '=', 1)
      .executeTakeFirstOrThrow();
    assert.ok(row.details && row.details.length > DETAILS_NONCE_LENGTH + 16);

    // No clear byte of the details anywhere on disk (database file, WAL, anchor).
    await t.store.close();
    const onDisk = readdirSync(t.dir).map((f) => readFileSync(join(t.dir, f)));
    assert.ok(onDisk.length > 0);
    for (const bytes of onDisk) {
      assert.equal(bytes.includes(SECRET_DESTINATION), false);
      assert.equal(bytes.includes(SECRET_NOTE), false);
    }
    assert.ok(
      onDisk.some((b) => b.includes('op_1')),
      'the clear summary is on disk (sanity check of the search)',
    );
  });
});

test('without a keyring (sealed) records are readable and details are marked sealed', async () => {
  await withStore(tempStore, async (t) => {
    await appendAudit(t.store, keyring, { ...sampleEntry(1), details: { a: 1 } }, testClock());
    await appendAudit(t.store, keyring, sampleEntry(2), testClock());
    const [sealed, plain] = await readAudit(t.store, null);
    assert.equal(sealed?.sealed, true);
    assert.equal('details' in (sealed ?? {}), false);
    assert.deepEqual(sealed?.summary, { operationId: 'op_1', protocol: 'bitcoin' });
    assert.equal(plain?.sealed, undefined);
  });
});

test('a details blob moved to another record fails to decrypt there (bound by its aad)', async () => {
  await withStore(tempStore, async (t) => {
    for (let i = 1; i <= 3; i++) {
      await appendAudit(t.store, keyring, { ...sampleEntry(i), details: { i } }, testClock());
    }
    await dropTriggers(t.store);
    await sql`UPDATE audit_log SET details = (SELECT details FROM audit_log WHERE seq = 1) WHERE seq = 2`.execute(
      t.store.db,
    );
    const views = await readAudit(t.store, keyring);
    assert.deepEqual(
      views.map((v) => [v.seq, v.details, v.detailsError]),
      [
        [1, { i: 1 }, undefined],
        [2, undefined, 'DECRYPT_FAILED'],
        [3, { i: 3 }, undefined],
      ],
    );
    const result = await verifyAudit(t.store, keyring.publicKey);
    assert.equal(result.problem?.code, 'AUDIT_RECORD_MODIFIED');
    assert.equal(result.firstBadSeq, 2);
  });
});

test('a changed clear field makes the details undecryptable too, and a wrong key is reported per record', async () => {
  await withStore(tempStore, async (t) => {
    await appendAudit(t.store, keyring, { ...sampleEntry(1), details: { i: 1 } }, testClock());
    await appendAudit(t.store, keyring, { ...sampleEntry(2), details: { i: 2 } }, testClock());
    const wrong = await readAudit(t.store, testKeyring('other'));
    assert.deepEqual(
      wrong.map((v) => v.detailsError),
      ['DECRYPT_FAILED', 'DECRYPT_FAILED'],
    );
    await dropTriggers(t.store);
    await sql`UPDATE audit_log SET outcome = 'denied' WHERE seq = 2`.execute(t.store.db);
    const views = await readAudit(t.store, keyring);
    assert.deepEqual(
      views.map((v) => v.detailsError),
      [undefined, 'DECRYPT_FAILED'],
    );
  });
});

test('readAudit filters by identity and time, and limits to the newest records', async () => {
  await withStore(tempStore, async (t) => {
    const clock = testClock();
    for (let i = 1; i <= 10; i++) {
      await appendAudit(t.store, null, sampleEntry(i), clock);
      clock.advance(60_000);
    }
    const newest = await readAudit(t.store, null, { limit: 3 });
    assert.deepEqual(
      newest.map((v) => v.seq),
      [8, 9, 10],
    );
    const alice = await readAudit(t.store, null, { identity: 'alice' });
    assert.deepEqual(
      alice.map((v) => v.seq),
      [2, 4, 6, 8, 10],
    );
    // With --since too, --limit keeps the newest (8, 9 and 10 are since; the newest two are shown).
    const since = await readAudit(t.store, null, { since: new Date('2025-01-01T00:07:00.000Z'), limit: 2 });
    assert.deepEqual(
      since.map((v) => v.seq),
      [9, 10],
    );
    await assert.rejects(readAudit(t.store, null, { limit: 0 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(readAudit(t.store, null, { since: new Date('nope') }), { code: 'INVALID_ARGUMENT' });
  });
});
