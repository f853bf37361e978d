import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { wardenArgs } from '../helpers/cli.ts';
import { tempDir } from '../helpers/home.ts';

const CTRL_C = '\x03';
const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * Drives `warden start` on a real pseudo-terminal (util-linux `script`), answering each prompt
 * only once it is shown, as a person would.
 */
function onTerminal(args: string[], answers: { prompt: RegExp; reply: string }[]) {
  // `exec`: no shell stays between the terminal and Warden. A shell left waiting (dash does)
  // would get the same Ctrl-C and die of it, whatever Warden does. SHELL is pinned because
  // `script` runs the command with $SHELL, which differs from one machine to the next.
  const command = `exec ${[process.execPath, ...wardenArgs(args)]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, SHELL: '/bin/sh' };
  delete env.WARDEN_PASSPHRASE;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env });
  let output = '';
  let next = 0;
  child.stdout.on('data', (d) => {
    output += d;
    while (next < answers.length && answers[next]!.prompt.test(output)) {
      const { reply } = answers[next++]!;
      output += '<<answered>>';
      child.stdin.write(reply);
    }
  });
  return new Promise<{ code: number; output: string }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

test('first `warden start` on a terminal: guided init with the passphrase twice, no echo', {
  skip: !hasScript && 'util-linux `script` is not installed',
}, async () => {
  const home = join(tempDir('tty'), 'home');
  const secret = 'tty typed passphrase 31337';
  const r = await onTerminal(
    ['--home', home, 'start', '--port', '0', '--kdf-memory', '8', '--kdf-iterations', '1'],
    [
      { prompt: /Vault passphrase: $/, reply: `${secret}\r` },
      { prompt: /Repeat the vault passphrase: $/, reply: `${secret}\r` },
      // The server runs until Ctrl-C on its terminal.
      { prompt: /Warden listening on http:\/\/127\.0\.0\.1:\d+/, reply: CTRL_C },
    ],
  );
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /No vault in .*Let's create one/);
  assert.match(r.output, /Warden vault created and unsealed\./);
  assert.equal(r.output.includes(secret), false, 'the passphrase must not be echoed');
  assert.ok(existsSync(join(home, 'keystore.json')));

  const unseal = await onTerminal(
    ['--home', home, 'start', '--port', '0'],
    [
      { prompt: /Vault passphrase: $/, reply: `${secret}\r` },
      { prompt: /Warden listening on /, reply: CTRL_C },
    ],
  );
  assert.equal(unseal.code, 0, unseal.output);
  assert.match(unseal.output, /Warden unsealed\./);
  assert.match(unseal.output, /Warden stopped; the vault is sealed\./);
});

test('guided init refuses a mismatched repeat and a weak passphrase, and writes nothing', {
  skip: !hasScript && 'util-linux `script` is not installed',
}, async () => {
  const home = join(tempDir('tty'), 'home');
  const mismatch = await onTerminal(
    ['--home', home, 'start'],
    [
      { prompt: /Vault passphrase: $/, reply: 'first passphrase 12345\r' },
      { prompt: /Repeat the vault passphrase: $/, reply: 'second passphrase 12345\r' },
    ],
  );
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.output, /PASSPHRASE_MISMATCH/);
  const weak = await onTerminal(
    ['--home', home, 'start'],
    [
      { prompt: /Vault passphrase: $/, reply: 'short\r' },
      { prompt: /Repeat the vault passphrase: $/, reply: 'short\r' },
    ],
  );
  assert.equal(weak.code, 1);
  assert.match(weak.output, /PASSPHRASE_TOO_WEAK/);
  assert.equal(existsSync(join(home, 'keystore.json')), false);
});
