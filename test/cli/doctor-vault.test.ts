import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Check } from '../../src/cli/actions/doctor-check.ts';
import { main } from '../../src/cli/main.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { initCliVault, runWarden, writeFileMode } from '../helpers/cli.ts';

/**
 * `warden doctor`'s checks of the vault's contents: a recent backup (read sealed), and with
 * `--passphrase-file` keys due for rotation and a policy for every identity. The real executable,
 * and for a clock a year ahead the same command in process.
 */
const v = await initCliVault('doctor-vault', 'doctor vault passphrase long enough');

function checksOf(stdout: string) {
  const out = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  return new Map(out.checks.map((c) => [c.id, c]));
}

async function doctor(...extra: string[]) {
  const r = await runWarden(['--home', v.home, '--json', 'doctor', ...extra]);
  return { code: r.code, byId: checksOf(r.stdout), stderr: r.stderr };
}

test('sealed: no backup ever is a WARN with the command to run; the vault checks need the passphrase', async () => {
  const r = await doctor();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.byId.get('backup.recent')?.status, 'WARN');
  assert.match(r.byId.get('backup.recent')?.message ?? '', /no backup was ever written/);
  assert.match(r.byId.get('backup.recent')?.fix ?? '', /warden backup --out/);
  assert.equal(r.byId.has('keys.rotation'), false);
  assert.equal(r.byId.has('policy.present'), false);
});

test('unsealed: an identity without a policy is named (everything it asks is denied); with one, PASS', async () => {
  assert.equal((await v.w('identity', 'create', 'alice', '--network', 'regtest')).code, 0);
  assert.equal((await v.w('identity', 'create', 'bob', '--network', 'regtest')).code, 0);
  const before = await doctor('--passphrase-file', v.pass);
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.byId.get('keys.rotation')?.status, 'PASS');
  const policy = before.byId.get('policy.present');
  assert.equal(policy?.status, 'WARN');
  assert.match(policy?.message ?? '', /no policy for alice, bob and no default/);

  const file = writeFileMode(
    v.dir,
    'p.yaml',
    'version: 1\nname: p\nrules:\n  - { id: none, effect: deny }\n',
  );
  assert.equal((await v.w('policy', 'set', file, '--identity', 'alice')).code, 0);
  const one = await doctor('--passphrase-file', v.pass);
  assert.match(one.byId.get('policy.present')?.message ?? '', /no policy for bob and/);
  assert.equal((await v.w('policy', 'set', file, '--default')).code, 0);
  const all = await doctor('--passphrase-file', v.pass);
  assert.equal(all.byId.get('policy.present')?.status, 'PASS', all.byId.get('policy.present')?.message);

  // A wrong passphrase is the usual refusal, not a doctor verdict.
  const wrong = writeFileMode(v.dir, 'wrong', 'not the passphrase of this vault at all\n');
  const refused = await runWarden(['--home', v.home, 'doctor', '--passphrase-file', wrong]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /VAULT_BAD_PASSPHRASE/);
});

test('a backup makes backup.recent PASS; a year later it is stale and every key is due', async () => {
  const bpass = writeFileMode(v.dir, 'bpass', 'a different backup passphrase 42\n');
  const backup = await v.w('backup', '--out', join(v.dir, 'b.warden'), '--backup-passphrase-file', bpass);
  assert.equal(backup.code, 0, backup.stderr);
  const now = await doctor();
  assert.equal(now.byId.get('backup.recent')?.status, 'PASS', now.byId.get('backup.recent')?.message);

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  let errors = '';
  stdout.on('data', (c) => {
    text += c;
  });
  stderr.on('data', (c) => {
    errors += c;
  });
  const code = await main(
    ['node', 'warden', '--home', v.home, '--json', 'doctor', '--passphrase-file', v.pass],
    {
      stdin: process.stdin,
      stdout,
      stderr,
      env: {},
      clock: fixedClock(new Date(Date.now() + 366 * 24 * 3600 * 1000)),
    },
  );
  assert.equal(code, 0, `${errors}${text}`);
  const later = checksOf(text);
  assert.equal(later.get('backup.recent')?.status, 'WARN');
  assert.match(later.get('backup.recent')?.message ?? '', /the last backup is 36\d days old/);
  const rotation = later.get('keys.rotation');
  assert.equal(rotation?.status, 'WARN');
  for (const key of ['alice/seed', 'alice/nostr', 'bob/seed', 'bob/nostr'])
    assert.ok(rotation?.message.includes(key), `${key} in ${rotation?.message}`);
  assert.match(rotation?.fix ?? '', /warden identity rotate/);
});
