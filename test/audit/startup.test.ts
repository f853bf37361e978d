import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { readVerifiedMark } from '../../src/audit/verified-mark.ts';
import { nullLogger } from '../../src/core/logger.ts';
import { Warden } from '../../src/gateway/warden.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

/**
 * What `warden start` and `warden status` run (Warden.status, the start-up check) on a real
 * vault: it resumes from where the last verification got to, and still sees tampering after it.
 */

async function vaultWithHistory() {
  const layout = tempHome('startup');
  const opts = { home: layout.dir, actor: 'test', logger: nullLogger(), kdf: TEST_KDF };
  const warden = await Warden.init(opts, passphrase());
  for (const name of ['alice', 'bob', 'carol']) await warden.createIdentity(name);
  await warden.close(); // the shutdown checkpoint moves the verified mark to the head
  return opts;
}

test('status resumes from the verified mark, and a full verification still reads everything', async () => {
  const opts = await vaultWithHistory();
  const warden = await Warden.unseal(opts, passphrase());
  try {
    const mark = await readVerifiedMark(warden.store.db, warden.vault.auditKeys());
    assert.equal(mark.kind, 'ok');
    const { audit } = await warden.status();
    assert.equal(audit.ok, true, audit.problem?.message);
    assert.ok(mark.kind === 'ok' && audit.verifiedFrom === mark.mark.seq, 'it starts at the mark');
    assert.ok(audit.records > audit.verifiedFrom, 'the unseal record after the mark was read');
    const fullCheck = await warden.verifyAudit();
    assert.equal(fullCheck.ok, true);
    assert.equal(fullCheck.verifiedFrom, 0);
    assert.equal(fullCheck.authenticated, audit.records);
  } finally {
    await warden.close();
  }
});

test('status reports a record tampered with after the verified mark', async () => {
  const opts = await vaultWithHistory();
  const warden = await Warden.unseal(opts, passphrase());
  try {
    // The unseal record is after the mark; someone with the file edits it.
    await sql`DROP TRIGGER IF EXISTS audit_log_no_update`.execute(warden.store.db);
    await sql`UPDATE audit_log SET outcome = 'failed' WHERE seq = (SELECT max(seq) FROM audit_log)`.execute(
      warden.store.db,
    );
    const { audit } = await warden.status();
    assert.equal(audit.ok, false);
    assert.equal(audit.problem?.code, 'AUDIT_RECORD_MODIFIED');
  } finally {
    await warden.close().catch(() => undefined);
  }
});
