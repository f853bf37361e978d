import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sql } from 'kysely';
import { generateSecretKey, nip19 } from 'nostr-tools';
import { isWardenError } from '../../src/core/errors.ts';
import { nullLogger } from '../../src/core/logger.ts';
import { Warden } from '../../src/gateway/warden.ts';
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
    () => warden.setLightningCredential('alice', 'rune', new TextEncoder().encode('rune')),
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
