/**
 * A command with a bad argument fails with its usage or validation error before the passphrase is
 * read or the KDF runs. Each case runs twice through the real executable: with no passphrase
 * source at all (reading one first would answer PASSPHRASE_REQUIRED), and with a passphrase file
 * that is wrong (only the KDF can tell: unsealing first would answer VAULT_BAD_PASSPHRASE).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type CliResult, type CliVault, initCliVault, runWarden, writeFileMode } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

interface Case {
  args: string[];
  exit: number;
  /** The error: the `CODE:` line of a refusal, or commander's message for a usage error. */
  error: RegExp;
}

const GOOD_POLICY = 'version: 1\nname: p\nrules: []\n';

function cases(v: CliVault): Record<string, Case> {
  const file = (name: string, text: string) => writeFileMode(v.dir, name, text);
  return {
    'unknown option': { args: ['status', '--bogus'], exit: 2, error: /unknown option '--bogus'/ },
    'unknown option, --json': { args: ['--json', 'status', '--bogus'], exit: 2, error: /unknown option/ },
    'missing argument': { args: ['identity', 'show'], exit: 2, error: /missing required argument 'name'/ },
    'missing required option': { args: ['token', 'create'], exit: 2, error: /required option '--role/ },
    'bad number': { args: ['audit', 'show', '--limit', '0'], exit: 2, error: /^USAGE: --limit must be/m },
    'bad --since': { args: ['audit', 'show', '--since', 'yesterday'], exit: 2, error: /^USAGE: --since/m },
    'bad network': {
      args: ['identity', 'create', 'bot', '--network', 'moon'],
      exit: 2,
      error: /^USAGE: unknown network/m,
    },
    'rotate what': { args: ['identity', 'rotate', 'bot'], exit: 2, error: /^USAGE: give exactly one/m },
    'lightning kind': {
      args: ['identity', 'lightning', 'bot', '--kind', 'card', '--credential-file', 'x'],
      exit: 2,
      error: /^USAGE: --kind must be/m,
    },
    'token role': {
      args: ['token', 'create', '--role', 'root'],
      exit: 1,
      error: /^INVALID_ARGUMENT: role must be one of/m,
    },
    'agent token without identity': {
      args: ['token', 'create', '--role', 'agent', '--cap', 'nostr:sign'],
      exit: 1,
      error: /^INVALID_ARGUMENT: an agent token needs exactly one identity/m,
    },
    'token capability': {
      args: ['token', 'create', '--role', 'agent', '--identity', 'bot', '--cap', 'fly'],
      exit: 1,
      error: /^INVALID_ARGUMENT: unknown capability "fly"/m,
    },
    'token lifetime': {
      args: ['token', 'create', '--role', 'admin', '--ttl', '400d'],
      exit: 1,
      error: /^INVALID_ARGUMENT: token lifetime/m,
    },
    'policy target': {
      args: ['policy', 'set', file('policy.yaml', GOOD_POLICY)],
      exit: 2,
      error: /^USAGE: give exactly one of --identity/m,
    },
    'requests status': {
      args: ['requests', 'list', '--status', 'lost'],
      exit: 2,
      error: /^USAGE: --status is one of/m,
    },
    'reconcile verdicts': {
      args: ['ledger', 'reconcile', '--commit', 'a', '--release', 'b'],
      exit: 2,
      error: /^USAGE: give one of --commit/m,
    },
    'passphrase change KDF': {
      args: ['passphrase', 'change', '--kdf-memory', '4096'],
      exit: 2,
      error: /^USAGE: --kdf-memory must be between/m,
    },
    'restore KDF': {
      args: ['--home', join(v.dir, 'restored'), 'restore', file('backup', 'x'), '--kdf-memory', '4096'],
      exit: 2,
      error: /^USAGE: --kdf-memory must be between/m,
    },
    'start listener': {
      args: ['start', '--allow-host', 'a b'],
      exit: 2,
      error: /^USAGE: --allow-host takes/m,
    },
  };
}

/** Runs `warden --home HOME …` with at most 4 at once (each loads the whole gateway). */
async function runAll(v: CliVault, argvs: string[][]): Promise<CliResult[]> {
  const results: CliResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < argvs.length) {
        const i = next++;
        results[i] = await runWarden(['--home', v.home, ...argvs[i]!]);
      }
    }),
  );
  return results;
}

describe('arguments are checked before the vault is unsealed', () => {
  // Made here, not in a hook: the home's clean-up then runs after the suite, not after the hook.
  const ready = initCliVault('validate-first', TEST_PASSPHRASE).then((v) => ({
    v,
    wrong: writeFileMode(v.dir, 'wrong', 'not the vault passphrase at all 123\n'),
  }));

  test('the wrong passphrase file is noticed once the KDF runs', async () => {
    const { v, wrong } = await ready;
    const [status] = await runAll(v, [['status', '--passphrase-file', wrong]]);
    assert.equal(status!.code, 1);
    assert.match(status!.stderr, /^VAULT_BAD_PASSPHRASE: /m);
  });

  test('bad arguments fail with their own error, with no passphrase and with a wrong one', async () => {
    const { v, wrong } = await ready;
    const all = Object.entries(cases(v));
    const results = await runAll(v, [
      ...all.map(([, c]) => c.args),
      ...all.map(([, c]) => [...c.args, '--passphrase-file', wrong]),
    ]);
    all.forEach(([name, c], i) => {
      for (const r of [results[i]!, results[i + all.length]!]) {
        assert.equal(r.code, c.exit, `${name}: ${r.stderr}`);
        assert.match(r.stderr, c.error, name);
        assert.doesNotMatch(r.stderr, /PASSPHRASE_REQUIRED|BAD_PASSPHRASE|Passphrase:/, name);
      }
    });
  });

  test('a second passphrase that has no source is known before the first unseals', async () => {
    const { v, wrong } = await ready;
    const out = join(v.dir, 'never.backup');
    const [backup, change] = await runAll(v, [
      ['backup', '--out', out, '--passphrase-file', wrong],
      ['passphrase', 'change', '--passphrase-file', wrong],
    ]);
    assert.equal(backup!.code, 1);
    assert.match(backup!.stderr, /^PASSPHRASE_REQUIRED: no backup passphrase given/m);
    assert.equal(change!.code, 1);
    assert.match(change!.stderr, /^PASSPHRASE_REQUIRED: no new vault passphrase given/m);
  });

  test('a bad identity name is refused before unsealing', async () => {
    const { v, wrong } = await ready;
    const [r] = await runAll(v, [['identity', 'create', 'Bad Name!', '--passphrase-file', wrong]]);
    assert.match(r!.stderr, /^INVALID_NAME: /m);
  });
});
