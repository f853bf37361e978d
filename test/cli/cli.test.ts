import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { generateSecretKey, getPublicKey, nip19 } from 'nostr-tools';
import * as nip49 from 'nostr-tools/nip49';
import {
  agentWithPolicy,
  FAST_KDF,
  initCliVault,
  runWarden,
  startWardenServer,
  writeFileMode,
} from '../helpers/cli.ts';
import { TEST_PASSPHRASE, tempDir } from '../helpers/home.ts';

const ABANDON = `${'abandon '.repeat(11)}about`;

async function freshVault() {
  const v = await initCliVault('cli', TEST_PASSPHRASE);
  return { dir: v.dir, home: v.home, pass: v.pass, w: v.run, start: v.start };
}

describe('warden CLI', () => {
  test('init creates a private home (0700) whose files are all 0600', async () => {
    const { home, w, pass } = await freshVault();
    assert.equal((await w('identity', 'create', 'alice', '--passphrase-file', pass)).code, 0);
    assert.equal(statSync(home).mode & 0o777, 0o700);
    for (const name of readdirSync(home)) assert.equal(statSync(join(home, name)).mode & 0o777, 0o600, name);
    const again = await w('init', '--passphrase-file', pass, ...FAST_KDF);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^VAULT_EXISTS: /m);
  });

  test('exit codes: 0 success, 1 refused with CODE: message, 2 usage error', async () => {
    const { w, pass } = await freshVault();
    const ok = await w('identity', 'list', '--passphrase-file', pass);
    assert.equal(ok.code, 0);
    const refused = await w('identity', 'show', 'nobody', '--passphrase-file', pass);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^IDENTITY_NOT_FOUND: no identity "nobody"; there are none yet/m);
    const usage = await w('identity', 'frobnicate');
    assert.equal(usage.code, 2);
    const badOption = await w('identity', 'rotate', 'x', '--passphrase-file', pass);
    assert.equal(badOption.code, 2, 'rotate needs exactly one of --nostr/--seed');
    const badNetwork = await w('identity', 'create', 'x', '--network', 'moon', '--passphrase-file', pass);
    assert.equal(badNetwork.code, 2);
    const json = await w('--json', 'identity', 'show', 'nobody', '--passphrase-file', pass);
    assert.equal(JSON.parse(json.stdout).error.code, 'IDENTITY_NOT_FOUND');
  });

  test('every command has --help', async () => {
    const commands = [
      [],
      ['init'],
      ['start'],
      ['status'],
      ['identity'],
      ['identity', 'create'],
      ['identity', 'list'],
      ['identity', 'show'],
      ['identity', 'rotate'],
      ['identity', 'import'],
      ['identity', 'lightning'],
      ['passphrase'],
      ['passphrase', 'change'],
      ['backup'],
      ['restore'],
      ['audit'],
      ['audit', 'verify'],
      ['audit', 'show'],
    ];
    const results = await Promise.all(commands.map((c) => runWarden([...c, '--help'])));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `warden ${commands[i]!.join(' ')} --help`);
      assert.match(r.stdout, /Usage: warden/);
    });
    assert.match(results[0]!.stdout, /--home <dir>/);
    assert.match(results[0]!.stdout, /--json/);
  });

  test('passphrase sources: 0644 file refused, none on a non-TTY names the options, env var warns', async () => {
    const { dir, w } = await freshVault();
    const open = writeFileMode(dir, 'open-pass', TEST_PASSPHRASE, 0o644);
    const r1 = await w('status', '--passphrase-file', open);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /^FILE_PERMISSIONS_TOO_OPEN: /m);
    const r2 = await w('status');
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /^PASSPHRASE_REQUIRED: .*--passphrase-file.*terminal.*WARDEN_PASSPHRASE/m);
    const r3 = await runWarden(['--home', join(dir, 'home'), 'status'], {
      env: { WARDEN_PASSPHRASE: TEST_PASSPHRASE },
    });
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /WARNING: reading the vault passphrase from WARDEN_PASSPHRASE/);
  });

  test('a wrong passphrase is VAULT_BAD_PASSPHRASE and changes neither the keystore nor the database', async () => {
    const { dir, home, w, pass } = await freshVault();
    const wrong = writeFileMode(dir, 'wrong', 'not the passphrase at all');
    const keystore = readFileSync(join(home, 'keystore.json'));
    const db = readFileSync(join(home, 'warden.db'));
    const r = await w('status', '--passphrase-file', wrong);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^VAULT_BAD_PASSPHRASE: wrong passphrase$/m);
    assert.deepEqual(readFileSync(join(home, 'keystore.json')), keystore);
    assert.deepEqual(readFileSync(join(home, 'warden.db')), db);
    // The failures are not written when they happen; the next unseal records how many there were.
    assert.equal((await w('status', '--passphrase-file', wrong)).code, 1);
    const audit = JSON.parse((await w('--json', 'audit', 'show', '--passphrase-file', pass)).stdout) as {
      action: string;
      details: { failedAttemptsSinceLastUnseal?: number };
    }[];
    const unseals = audit.filter((r) => r.action === 'vault.unseal');
    assert.deepEqual(
      unseals.map((r) => r.details.failedAttemptsSinceLastUnseal),
      [2],
      'two failed attempts, recorded by the one successful unseal',
    );
  });

  test('weak passphrases are refused at init', async () => {
    const dir = tempDir('weak');
    for (const weak of ['short', 'aaaaaaaaaaaaaaaa', 'abcabcabcabc']) {
      const f = writeFileMode(dir, 'p', weak);
      const r = await runWarden(['--home', join(dir, 'home'), 'init', '--passphrase-file', f, ...FAST_KDF]);
      assert.equal(r.code, 1, weak);
      assert.match(r.stderr, /^PASSPHRASE_TOO_WEAK: /m);
      assert.equal(existsSync(join(dir, 'home', 'keystore.json')), false);
    }
  });

  test('identity create, show and list print only public data; rotate keeps the old key deprecated', async () => {
    const { w, pass } = await freshVault();
    const created = JSON.parse(
      (await w('--json', 'identity', 'create', 'alice', '--passphrase-file', pass)).stdout,
    );
    assert.match(created.nostr.npub, /^npub1/);
    assert.match(created.evm.address, /^0x[0-9a-fA-F]{40}$/);
    const shown = JSON.parse(
      (await w('--json', 'identity', 'show', 'alice', '--passphrase-file', pass)).stdout,
    );
    assert.deepEqual(shown.nostr, created.nostr);
    const rotated = JSON.parse(
      (await w('--json', 'identity', 'rotate', 'alice', '--nostr', '--passphrase-file', pass)).stdout,
    );
    assert.notEqual(rotated.nostr.npub, created.nostr.npub);
    const nostrKeys = rotated.keys.filter((k: { purpose: string }) => k.purpose === 'nostr');
    assert.deepEqual(
      nostrKeys.map((k: { version: number; status: string }) => [k.version, k.status]),
      [
        [1, 'deprecated'],
        [2, 'active'],
      ],
    );
    const seedRotated = JSON.parse(
      (await w('--json', 'identity', 'rotate', 'alice', '--seed', '--passphrase-file', pass)).stdout,
    );
    assert.notEqual(seedRotated.evm.address, created.evm.address);
    const list = JSON.parse((await w('--json', 'identity', 'list', '--passphrase-file', pass)).stdout);
    assert.deepEqual(
      list.map((i: { name: string }) => i.name),
      ['alice'],
    );
  });

  test('import: mnemonic (checksum verified), nsec and ncryptsec; open or bad files refused', async () => {
    const { dir, w, pass } = await freshVault();
    const mnemonic = writeFileMode(dir, 'm', `${ABANDON}\n`);
    const r = await w(
      '--json',
      'identity',
      'import',
      'legacy',
      '--mnemonic-file',
      mnemonic,
      '--passphrase-file',
      pass,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).evm.address, '0x9858EfFD232B4033E47d90003D41EC34EcaEda94');

    const sk = generateSecretKey();
    const nsecFile = writeFileMode(dir, 'nsec', nip19.nsecEncode(sk));
    const r2 = await w(
      '--json',
      'identity',
      'import',
      'nostr1',
      '--nsec-file',
      nsecFile,
      '--passphrase-file',
      pass,
    );
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(JSON.parse(r2.stdout).nostr.pubkey, getPublicKey(sk));

    const sk2 = generateSecretKey();
    const ncFile = writeFileMode(dir, 'nc', nip49.encrypt(sk2, 'nip49 password', 8));
    const pwFile = writeFileMode(dir, 'pw', 'nip49 password');
    const r3 = await w(
      '--json',
      'identity',
      'import',
      'nostr2',
      '--nsec-file',
      ncFile,
      '--ncryptsec-password-file',
      pwFile,
      '--passphrase-file',
      pass,
    );
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(JSON.parse(r3.stdout).nostr.pubkey, getPublicKey(sk2));

    const badChecksum = writeFileMode(dir, 'bad', `${'abandon '.repeat(12).trim()}`);
    const r4 = await w('identity', 'import', 'x1', '--mnemonic-file', badChecksum, '--passphrase-file', pass);
    assert.equal(r4.code, 1);
    assert.match(r4.stderr, /^INVALID_MNEMONIC: mnemonic checksum mismatch$/m);
    const wrongPw = writeFileMode(dir, 'pw2', 'other password');
    const r5 = await w(
      'identity',
      'import',
      'x2',
      '--nsec-file',
      ncFile,
      '--ncryptsec-password-file',
      wrongPw,
      '--passphrase-file',
      pass,
    );
    assert.equal(r5.code, 1);
    assert.match(r5.stderr, /^INVALID_NSEC: /m);
    const openMnemonic = writeFileMode(dir, 'm-open', ABANDON, 0o640);
    const r6 = await w(
      'identity',
      'import',
      'x3',
      '--mnemonic-file',
      openMnemonic,
      '--passphrase-file',
      pass,
    );
    assert.equal(r6.code, 1);
    assert.match(r6.stderr, /^FILE_PERMISSIONS_TOO_OPEN: /m);
    const garbage = writeFileMode(dir, 'g', 'nsec1qqqqqqqqqqqq');
    const r7 = await w('identity', 'import', 'x4', '--nsec-file', garbage, '--passphrase-file', pass);
    assert.equal(r7.code, 1);
    assert.match(r7.stderr, /^INVALID_NSEC: /m);
    // Nothing half-written: the refused imports left no identity behind.
    const list = JSON.parse((await w('--json', 'identity', 'list', '--passphrase-file', pass)).stdout);
    assert.deepEqual(
      list.map((i: { name: string }) => i.name),
      ['legacy', 'nostr1', 'nostr2'],
    );
  });

  test('backup and restore round trip through the CLI', async () => {
    const { dir, w, pass } = await freshVault();
    const created = JSON.parse(
      (await w('--json', 'identity', 'create', 'alice', '--passphrase-file', pass)).stdout,
    );
    const backupPass = writeFileMode(dir, 'bpass', 'a different backup passphrase 7');
    const out = join(dir, 'vault.backup');
    const backup = (to: string, backupFile: string) =>
      w('backup', '--out', to, '--backup-passphrase-file', backupFile, '--passphrase-file', pass);
    const b = await backup(out, backupPass);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const same = await backup(join(dir, 'x.backup'), pass);
    assert.equal(same.code, 1);
    assert.match(same.stderr, /must differ/);

    const target = join(dir, 'restored');
    const newPass = writeFileMode(dir, 'npass', 'the new vault passphrase 99');
    /** `warden restore` of the backup into a new home, its passphrase read from `backupFile`. */
    const restore = (backupFile: string) =>
      runWarden([
        '--home',
        target,
        'restore',
        out,
        '--backup-passphrase-file',
        backupFile,
        '--passphrase-file',
        newPass,
        ...FAST_KDF,
      ]);
    const wrong = await restore(pass);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^BACKUP_BAD_PASSPHRASE: /m);
    assert.equal(existsSync(join(target, 'keystore.json')), false, 'a failed restore writes no keystore');
    const r = await restore(backupPass);
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(
      (
        await runWarden([
          '--home',
          target,
          '--json',
          'identity',
          'show',
          'alice',
          '--passphrase-file',
          newPass,
        ])
      ).stdout,
    );
    assert.deepEqual(shown.nostr, created.nostr);
    assert.deepEqual(shown.bitcoin, created.bitcoin);
    const again = await restore(backupPass);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^VAULT_EXISTS: /m);
    const audit = JSON.parse(
      (await runWarden(['--home', target, '--json', 'audit', 'show', '--passphrase-file', newPass])).stdout,
    );
    // The backup carries the audit log: the original's records come back, then the restore's own.
    assert.equal(audit[0].action, 'vault.init');
    assert.ok(audit.some((r: { action: string }) => r.action === 'vault.restore'));
  });

  test('every action is audited, refusals too; audit show filters; audit verify passes', async () => {
    const { dir, w, pass } = await freshVault();
    await w('identity', 'create', 'alice', '--passphrase-file', pass);
    await w('identity', 'create', 'bob', '--passphrase-file', pass);
    await w('identity', 'create', 'alice', '--passphrase-file', pass);
    await w('identity', 'rotate', 'alice', '--nostr', '--passphrase-file', pass);
    await w(
      'identity',
      'import',
      'carol',
      '--mnemonic-file',
      writeFileMode(dir, 'm', ABANDON),
      '--passphrase-file',
      pass,
    );
    await w(
      'backup',
      '--out',
      join(dir, 'b'),
      '--backup-passphrase-file',
      writeFileMode(dir, 'bp', 'backup passphrase 12345'),
      '--passphrase-file',
      pass,
    );
    const all = JSON.parse((await w('--json', 'audit', 'show', '--passphrase-file', pass)).stdout);
    const actions = all
      .filter((r: { action: string }) => r.action !== 'vault.unseal')
      .map(
        (r: { action: string; outcome: string; identity: string | null }) =>
          `${r.action}:${r.outcome}:${r.identity ?? '-'}`,
      );
    assert.deepEqual(actions, [
      'vault.init:ok:-',
      'identity.create:ok:alice',
      'identity.create:ok:bob',
      'identity.create:failed:alice',
      'identity.rotate:ok:alice',
      'identity.import:ok:carol',
      'vault.backup:ok:-',
    ]);
    const failed = all.find((r: { outcome: string }) => r.outcome === 'failed');
    assert.equal(failed.details.code, 'IDENTITY_EXISTS');
    const alice = JSON.parse(
      (await w('--json', 'audit', 'show', '--identity', 'alice', '--passphrase-file', pass)).stdout,
    );
    assert.ok(alice.length === 3 && alice.every((r: { identity: string }) => r.identity === 'alice'));
    const future = JSON.parse(
      (await w('--json', 'audit', 'show', '--since', '2999-01-01', '--passphrase-file', pass)).stdout,
    );
    assert.deepEqual(future, []);
    const badSince = await w('audit', 'show', '--since', 'yesterday', '--passphrase-file', pass);
    assert.equal(badSince.code, 2);
    const verify = await w('audit', 'verify', '--passphrase-file', pass);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /audit log OK/);
    assert.match(verify.stdout, /record authentication: all \d+ records authenticate under the audit key/);
    const sealedVerify = await w('audit', 'verify');
    assert.equal(sealedVerify.code, 0);
    assert.match(sealedVerify.stdout, /unauthenticated: vault sealed/);
    assert.match(sealedVerify.stdout, /record authentication: not checked \(sealed\)/);
  });

  test('start: unseals, serves the API on loopback until SIGTERM; without a vault or passphrase it names the options', async () => {
    const { w, pass, dir, start } = await freshVault();
    const server = await start();
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.output(), /Warden unsealed\./);
    const health = await fetch(`${server.url}/v1/health`);
    assert.equal(health.status, 200);
    assert.equal(await server.stop('SIGTERM'), 0);
    assert.match(server.output(), /Warden stopped; the vault is sealed\./);
    const remote = await w('start', '--port', '0', '--host', '0.0.0.0', '--passphrase-file', pass);
    assert.equal(remote.code, 1);
    assert.match(remote.stderr, /^BIND_REFUSED: .*TLS.*--allow-remote/m);
    const none = await runWarden(['--home', join(dir, 'empty'), 'start']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^VAULT_NOT_INITIALIZED: .*warden init --passphrase-file FILE.*terminal/m);
    const sealed = await w('start');
    assert.equal(sealed.code, 1);
    assert.match(sealed.stderr, /^PASSPHRASE_REQUIRED: .*--passphrase-file/m);
  });

  test('passphrase change: keys re-sealed, the old passphrase opens nothing, a running server seals itself', async () => {
    const { dir, home, w: run, pass, start } = await freshVault();
    const w = (...args: string[]) => run(...args, '--passphrase-file', pass);
    const created = JSON.parse((await w('--json', 'identity', 'create', 'alice')).stdout);
    const token = await agentWithPolicy(
      w,
      dir,
      'alice',
      'version: 1\nname: notes\nrules:\n  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }\n',
    );
    const server = await start();
    const sign = () =>
      fetch(`${server.url}/v1/nostr/sign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 1, content: 'hello' }),
      });
    assert.equal((await sign()).status, 200);

    const newPass = writeFileMode(dir, 'new-pass', 'the changed vault passphrase 2026\n');
    const same = await w('passphrase', 'change', '--new-passphrase-file', pass);
    assert.equal(same.code, 1);
    assert.match(same.stderr, /^INVALID_ARGUMENT: the new passphrase must differ/m);
    const weak = writeFileMode(dir, 'weak-pass', 'short\n');
    const refused = await w('passphrase', 'change', '--new-passphrase-file', weak);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^PASSPHRASE_TOO_WEAK: /m);

    const changed = await w(
      '--json',
      'passphrase',
      'change',
      '--new-passphrase-file',
      newPass,
      '--kdf-iterations',
      '2',
    );
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(JSON.parse(changed.stdout).kdf, { memoryKiB: 8192, iterations: 2, parallelism: 1 });
    assert.match(changed.stderr, /WARNING: key-derivation parameters below the defaults/);
    assert.equal(existsSync(join(home, 'keystore.json.prev')), false, 'no copy under the old passphrase');

    // The running server held the old key: it seals itself and refuses, fail closed, every time
    // (a sealed vault is not an authentication failure, so it never turns into RATE_LIMITED).
    for (let i = 0; i < 25; i++) {
      const after = await sign();
      assert.equal(after.status, 503);
      assert.equal(((await after.json()) as { error: { code: string } }).error.code, 'VAULT_SEALED');
    }
    const log = readFileSync(join(home, 'warden.log'), 'utf8');
    assert.equal(log.match(/the vault has sealed itself/g)?.length, 1, 'reported once, at error level');
    const health = await fetch(`${server.url}/v1/health`);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), { status: 'sealed' });
    await server.stop();

    const old = await w('status');
    assert.equal(old.code, 1);
    assert.match(old.stderr, /^VAULT_BAD_PASSPHRASE: /m);
    const shown = JSON.parse(
      (await run('--json', 'identity', 'show', 'alice', '--passphrase-file', newPass)).stdout,
    );
    assert.deepEqual(shown.nostr, created.nostr);
    const audit = JSON.parse((await run('--json', 'audit', 'show', '--passphrase-file', newPass)).stdout);
    const actions = audit.map((r: { action: string; outcome: string }) => `${r.action}:${r.outcome}`);
    assert.ok(actions.includes('vault.passphrase.change:ok'), actions.join(' '));
    assert.ok(actions.includes('vault.passphrase.change:failed'), 'the refused attempts are audited too');
    assert.equal((await run('audit', 'verify', '--passphrase-file', newPass)).code, 0);
    const restarted = await startWardenServer([
      '--home',
      home,
      'start',
      '--port',
      '0',
      '--passphrase-file',
      newPass,
    ]);
    assert.match(restarted.output(), /Warden unsealed\./);
    assert.equal(await restarted.stop(), 0);
  });
});
