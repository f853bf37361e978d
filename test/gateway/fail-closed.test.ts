import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sql } from 'kysely';
import { generateSecretKey, nip19, verifyEvent } from 'nostr-tools';
import { isWardenError } from '../../src/core/errors.ts';
import { nullLogger } from '../../src/core/logger.ts';
import { Warden } from '../../src/gateway/warden.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

test('an action whose audit append fails does not happen (gateway, real SQLite store)', async () => {
  const layout = tempHome('failclosed');
  const opts = { home: layout.dir, actor: 'test', logger: nullLogger(), kdf: TEST_KDF };
  const warden = await Warden.init(opts, passphrase());
  await warden.createIdentity('alice');
  const keystoreBefore = readFileSync(layout.keystore);
  // The store starts refusing audit inserts, as a full disk or a broken database would.
  await sql`CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(
    warden.store.db,
  );
  const refusals = [
    () => warden.createIdentity('bob'),
    () => warden.rotate('alice', 'nostr'),
    () => warden.rotate('alice', 'seed'),
    () =>
      warden.importIdentity('carol', {
        nsec: new TextEncoder().encode(nip19.nsecEncode(generateSecretKey())),
      }),
    () => warden.setCredential('alice', 'rune', new TextEncoder().encode('rune')),
    () => warden.backup(`${layout.dir}/backup.warden`, passphrase('another passphrase 42')),
  ];
  for (const attempt of refusals) {
    await assert.rejects(attempt(), (e) => isWardenError(e, 'AUDIT_APPEND_FAILED'));
  }
  assert.deepEqual(readFileSync(layout.keystore), keystoreBefore, 'the keystore was not written');
  assert.throws(() => readFileSync(`${layout.dir}/backup.warden`), /ENOENT/, 'no backup was written');
  await sql`DROP TRIGGER audit_fails`.execute(warden.store.db);
  await warden.close();

  const reopened = await Warden.unseal(opts, passphrase());
  assert.deepEqual(
    reopened.listIdentities().map((i) => i.name),
    ['alice'],
  );
  assert.equal(reopened.showIdentity('alice').keys.filter((k) => k.status === 'deprecated').length, 0);
  const verification = await reopened.verifyAudit();
  assert.equal(verification.ok, true);
  await reopened.close();
});

test('a signing request whose audit record cannot be written is refused: no signature, no reservation', async () => {
  const g = await startTestGateway({
    identities: ['alice'],
    policies: {
      alice:
        'version: 1\nname: notes\nrules:\n  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }\n',
    },
  });
  try {
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const sign = () => g.call('POST', '/v1/nostr/sign', { token, body: { kind: 1, content: 'hello' } });
    const db = g.warden.store.db;
    const rows = async (table: 'ledger' | 'request') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    await sql`CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(
      db,
    );
    const refused = await sign();
    assert.equal(refused.status, 500);
    assert.equal(refused.body.error.code, 'AUDIT_APPEND_FAILED');
    assert.equal(JSON.stringify(refused.body).includes('"sig"'), false, 'no signature in the answer');
    assert.equal(await rows('ledger'), 0, 'nothing reserved');
    assert.equal(await rows('request'), 0, 'no request on record');
    await sql`DROP TRIGGER audit_fails`.execute(db);
    const signed = await sign();
    assert.equal(signed.status, 200);
    assert.equal(verifyEvent(signed.body.request.result.event), true);
    assert.equal(await rows('ledger'), 1);
  } finally {
    await g.close();
  }
});
