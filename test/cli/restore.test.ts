import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { startHttpServer } from '../../src/api/http/server.ts';
import { homeLayout } from '../../src/config/home.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { nullLogger } from '../../src/core/logger.ts';
import { Gateway } from '../../src/gateway/gateway.ts';
import { ledgerTotals } from '../../src/gateway/ledger.ts';
import { authenticate } from '../../src/gateway/tokens.ts';
import { Warden } from '../../src/gateway/warden.ts';
import { Vault } from '../../src/keys/vault.ts';
import { FAST_KDF, runWarden, writeFileMode } from '../helpers/cli.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { passphrase, TEST_KDF, tempDir, tempHome } from '../helpers/home.ts';

const BUDGET = `version: 1
name: budget
risk: { tolerance: high }
rules:
  - id: profile-held
    match: { protocol: nostr, kind: [0] }
    effect: hold
    approvals: 1
  - id: notes
    match: { protocol: nostr }
    effect: allow
    limits:
      - { window: 24h, max_count: 3 }
`;
const BACKUP_PASS = 'a separate backup passphrase 31';
const NEW_PASS = 'the restored vault passphrase 62';

function options(home: string) {
  return { home, actor: 'cli:test', logger: nullLogger(), kdf: TEST_KDF };
}

/** `bytes` of a backup restored into `home`: the backup's passphrase, then the new vault's. */
function restoreInto(home: string, bytes: Uint8Array) {
  return Warden.restore(options(home), bytes, passphrase(BACKUP_PASS), passphrase(NEW_PASS));
}

/** Every row of the tables a restore must bring back, as plain comparable values. */
function tableRows(home: string) {
  const db = new Database(join(home, 'warden.db'), { readonly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      policy: all('SELECT * FROM policy ORDER BY identity'),
      token: all('SELECT * FROM token ORDER BY id'),
      ledger: all('SELECT id, request_id, identity, asset, amount, at FROM ledger ORDER BY id'),
      audit: all('SELECT seq, record_hash FROM audit_log ORDER BY seq'),
    };
  } finally {
    db.close();
  }
}

async function serve(warden: Warden) {
  const gateway = new Gateway(warden, { logger: nullLogger() });
  const server = await startHttpServer(gateway, { host: '127.0.0.1', port: 0 });
  const sign = async (token: string, kind = 1) => {
    const res = await fetch(`${server.url}/v1/nostr/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind, content: `note ${kind}` }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { sign, close: () => server.close() };
}

test('a restore gives back policies, tokens, the ledger and the audit log; budgets stay used', async () => {
  const g = await startTestGateway({ identities: ['bot'], policies: { bot: BUDGET } });
  const token = await g.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  const sign = (kind = 1) => g.call('POST', '/v1/nostr/sign', { token, body: { kind, content: `n${kind}` } });
  for (let i = 0; i < 2; i++) assert.equal((await sign()).status, 200);
  const held = await sign(0);
  assert.equal(held.status, 202);

  const out = join(tempDir('backup'), 'vault.backup');
  const before = tableRows(g.warden.layout.dir);
  const totalsBefore = await ledgerTotals(g.warden.store.db);
  await g.warden.backup(out, passphrase(BACKUP_PASS));
  assert.equal(statSync(out).mode & 0o777, 0o600);
  await g.close();

  const target = tempHome('restored');
  const restored = await restoreInto(target.dir, readFileSync(out));
  let reopened: Warden | undefined;
  try {
    assert.equal(statSync(target.database).mode & 0o777, 0o600);
    assert.deepEqual(
      restored.listIdentities().map((i) => i.name),
      ['bot'],
    );
    const report = restored.restoreReport!;
    assert.equal(report.database, true);
    assert.deepEqual(report.heldDenied, [held.body.request.requestId]);
    assert.ok(report.notRestored.some((l) => /rate-limit/.test(l)));

    const after = tableRows(target.dir);
    assert.deepEqual(after.policy, before.policy, 'policy rows, MACs included');
    assert.deepEqual(after.token, before.token, 'token rows, MACs included');
    assert.deepEqual(after.ledger, before.ledger);
    assert.deepEqual(after.audit.slice(0, before.audit.length), before.audit, 'the same audit records');
    const restoreActions = (await restored.showAudit({ limit: 5 })).map((r) => r.action);
    assert.ok(restoreActions.includes('vault.restore'));
    assert.ok(restoreActions.includes('vault.restore.database'));

    // The held request was denied and its reservation released; the two signatures still count.
    const totalsAfter = await ledgerTotals(restored.store.db);
    const committed = (t: typeof totalsAfter) => t.filter((x) => x.status === 'committed');
    assert.deepEqual(committed(totalsAfter), committed(totalsBefore));
    assert.equal(
      totalsAfter.find((x) => x.status === 'reserved'),
      undefined,
    );

    const verified = await restored.verifyAudit();
    assert.equal(verified.ok, true, JSON.stringify(verified.problem ?? verified.controlPlane));
    assert.deepEqual(verified.controlPlane, []);

    // The token from before the backup works; the budget is where it was: one left, then refused.
    assert.equal((await authenticate(restored.store.db, `Bearer ${token}`, restored.clock)).identity, 'bot');
    const server = await serve(restored);
    try {
      assert.equal((await server.sign(token)).status, 200);
      const refused = await server.sign(token);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'LIMIT_EXCEEDED');
    } finally {
      await server.close();
    }
  } finally {
    await restored.close();
  }
  reopened = await Warden.unseal(options(target.dir), passphrase(NEW_PASS));
  try {
    assert.equal((await reopened.verifyAudit()).ok, true, 'verifies again after the restored home closed');
  } finally {
    await reopened.close();
  }
});

test('a request executing at backup time is never run again: it comes back unknown, still counted', async () => {
  const g = await startTestGateway({ identities: ['bot'], policies: { bot: BUDGET } });
  const token = await g.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  assert.equal(
    (await g.call('POST', '/v1/nostr/sign', { token, body: { kind: 1, content: 'x' } })).status,
    200,
  );
  // As if it had been caught mid-execution by the snapshot.
  const db = new Database(join(g.warden.layout.dir, 'warden.db'));
  const { id } = db.prepare('SELECT id FROM request').get() as { id: string };
  db.prepare("UPDATE request SET status = 'executing' WHERE id = ?").run(id);
  const version = (db.prepare('SELECT max(version) v FROM ledger').get() as { v: number }).v;
  db.prepare("UPDATE ledger SET status = 'reserved', version = ? WHERE request_id = ?").run(version + 1, id);
  db.close();
  const out = join(tempDir('backup'), 'vault.backup');
  await g.warden.backup(out, passphrase(BACKUP_PASS));
  await g.close();

  const target = tempHome('restored');
  const restored = await restoreInto(target.dir, readFileSync(out));
  try {
    assert.deepEqual(restored.restoreReport?.executingToUnknown, [id]);
    const row = await restored.store.db
      .selectFrom('request')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'unknown');
    assert.equal(row.payload, null, 'nothing left to sign it again with');
    const totals = await ledgerTotals(restored.store.db);
    assert.equal(totals.find((t) => t.status === 'unknown')?.count, 1);
  } finally {
    await restored.close();
  }
});

test('the database in a backup cannot be swapped or stripped; a home with a database is refused', async () => {
  const g = await startTestGateway({ identities: ['bot'], policies: { bot: BUDGET } });
  const dir = tempDir('backup');
  const a = join(dir, 'a.backup');
  const b = join(dir, 'b.backup');
  await g.warden.backup(a, passphrase(BACKUP_PASS));
  await g.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  await g.warden.backup(b, passphrase(BACKUP_PASS));
  await g.close();
  const fileA = JSON.parse(readFileSync(a, 'utf8'));
  const fileB = JSON.parse(readFileSync(b, 'utf8'));
  const corrupt = (e: unknown) => isWardenError(e, 'BACKUP_CORRUPT');
  const restoreBytes = (file: object) => restoreInto(tempHome('swap').dir, Buffer.from(JSON.stringify(file)));
  await assert.rejects(restoreBytes({ ...fileA, database: fileB.database }), corrupt);
  const { database: _gone, ...stripped } = fileA;
  await assert.rejects(restoreBytes(stripped), corrupt);

  const occupied = tempHome('occupied');
  writeFileSync(occupied.database, 'not empty');
  await assert.rejects(restoreInto(occupied.dir, readFileSync(a)), (e) => isWardenError(e, 'VAULT_EXISTS'));
  assert.equal(existsSync(occupied.keystore), false);
});

test('through the CLI: backup, restore, `audit verify` passes; an older keys-only backup says what is missing', async () => {
  const g = await startTestGateway({ identities: ['bot'], policies: { bot: BUDGET } });
  const token = await g.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  assert.equal(
    (await g.call('POST', '/v1/nostr/sign', { token, body: { kind: 1, content: 'x' } })).status,
    200,
  );
  const dir = tempDir('cli-restore');
  const out = join(dir, 'vault.backup');
  await g.warden.backup(out, passphrase(BACKUP_PASS));
  // A backup as older releases wrote it: the keys only.
  const old = join(dir, 'old.backup');
  g.warden.vault.setAuditSink(async () => {});
  await g.warden.vault.writeBackup(old, passphrase(BACKUP_PASS));
  await g.close();

  const bpass = writeFileMode(dir, 'bpass', BACKUP_PASS);
  const npass = writeFileMode(dir, 'npass', NEW_PASS);
  const restore = (file: string, home: string) =>
    runWarden([
      '--home',
      home,
      'restore',
      file,
      '--backup-passphrase-file',
      bpass,
      '--passphrase-file',
      npass,
      ...FAST_KDF,
    ]);

  const home = join(dir, 'restored');
  const r = await restore(out, home);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /database: 1 policies, 1 tokens, 1 ledger entries/);
  assert.match(r.stderr, /NOT RESTORED: rate-limit windows/);
  const verify = await runWarden(['--home', home, 'audit', 'verify', '--passphrase-file', npass]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /every row authenticates/);
  const sealed = await runWarden(['--home', home, 'audit', 'verify']);
  assert.equal(sealed.code, 0, sealed.stderr);

  const oldHome = join(dir, 'from-old');
  const o = await restore(old, oldHome);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /database: NONE in this backup/);
  assert.match(o.stderr, /NOT RESTORED: this backup holds no database/);
  assert.match(o.stderr, /NOT RESTORED: policies: every identity is deny-all/);
  const { vault } = await Vault.unseal(homeLayout(oldHome), passphrase(NEW_PASS), g.warden.clock);
  assert.deepEqual(
    vault.listIdentities().map((i) => i.name),
    ['bot'],
  );
  vault.seal();
});

test('a restore that fails after writing the keystore leaves the home empty, and a second restore succeeds', async () => {
  const g = await startTestGateway({ identities: ['bot'], policies: { bot: BUDGET } });
  const token = await g.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  const dir = tempDir('backup');
  const good = join(dir, 'good.backup');
  const bad = join(dir, 'bad.backup');
  await g.warden.backup(good, passphrase(BACKUP_PASS));
  // A real failure after the keystore is written: the snapshot refuses the restore's last record
  // (`vault.restore.database`, appended once the keys are on disk).
  const db = new Database(join(g.warden.layout.dir, 'warden.db'));
  db.exec(`CREATE TRIGGER refuse_restore BEFORE INSERT ON audit_log
    WHEN NEW.action = 'vault.restore.database' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  db.close();
  await g.warden.backup(bad, passphrase(BACKUP_PASS));
  await g.close();

  const target = tempHome('half');
  const restore = (file: string) => restoreInto(target.dir, readFileSync(file));
  await assert.rejects(restore(bad));
  assert.deepEqual(readdirSync(target.dir), [], 'nothing this restore wrote is left');
  assert.equal(Warden.exists(target.dir), false);

  const restored = await restore(good);
  try {
    assert.equal(restored.restoreReport?.counts.tokens, 1);
    assert.equal((await authenticate(restored.store.db, `Bearer ${token}`, restored.clock)).identity, 'bot');
    assert.equal((await restored.verifyAudit()).ok, true);
  } finally {
    await restored.close();
  }
});
