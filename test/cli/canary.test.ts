import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytesToHex } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import { generateMnemonic, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { generateSecretKey, getPublicKey, nip19 } from 'nostr-tools';
import * as nip49 from 'nostr-tools/nip49';
import { type CliResult, FAST_KDF, runWarden, startWardenServer, writeFileMode } from '../helpers/cli.ts';
import { tokenParts } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/home.ts';

const POLICY = `
version: 1
name: canary
risk: { tolerance: high }
rules:
  - { id: profile, match: { protocol: nostr, kind: [0] }, effect: hold, approvals: 1 }
  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }
`;

/** Every textual form a secret could leak in. */
function forms(label: string, bytes: Uint8Array): [string, string][] {
  const b = Buffer.from(bytes);
  return [
    [`${label} hex`, bytesToHex(bytes)],
    [`${label} HEX`, bytesToHex(bytes).toUpperCase()],
    [`${label} base64`, b.toString('base64').replace(/=+$/, '')],
    [`${label} base64url`, b.toString('base64url')],
  ];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('canary: a full CLI session leaks no secret into output, logs or data files', async () => {
  const dir = tempDir('canary');
  const home = join(dir, 'home');
  const home2 = join(dir, 'home2');
  const mnemonic = generateMnemonic(wordlist, 256);
  const seed = mnemonicToSeedSync(mnemonic);
  const root = HDKey.fromMasterSeed(seed);
  const nostrKey = generateSecretKey();
  const nostrKey2 = generateSecretKey();
  const passphrase = 'canary vault passphrase 4821!';
  const backupPassphrase = 'canary backup passphrase 7713?';
  const changedPassphrase = 'canary changed passphrase 9090#';
  const ncryptsecPassword = 'canary ncryptsec password 5150';
  const rune = 'canaryrune0123456789abcdefghijklmnopqrstuvwxyzABCDEF';
  const ncryptsec = nip49.encrypt(nostrKey2, ncryptsecPassword, 8);
  // An upstream wallet's NWC URI (--kind nwc): its client secret is a secret like any key.
  const nwcSecret = generateSecretKey();
  const nwcUri = (pubkey: string) =>
    `nostr+walletconnect://${pubkey}?relay=wss%3A%2F%2Frelay.example&secret=${bytesToHex(nwcSecret)}\n`;

  const secrets: [string, string][] = [
    ['mnemonic', mnemonic],
    ['nsec', nip19.nsecEncode(nostrKey)],
    ['nsec2', nip19.nsecEncode(nostrKey2)],
    ['ncryptsec', ncryptsec],
    ['passphrase', passphrase],
    ['backup passphrase', backupPassphrase],
    ['changed passphrase', changedPassphrase],
    ['ncryptsec password', ncryptsecPassword],
    ['rune', rune],
    ['root xprv', root.privateExtendedKey],
    ['bip84 account xprv', root.derive("m/84'/0'/0'").privateExtendedKey],
    ['bip86 account xprv', root.derive("m/86'/0'/0'").privateExtendedKey],
    ...forms('seed', seed),
    ...forms('nostr key', nostrKey),
    ...forms('nostr key 2', nostrKey2),
    ...forms('nwc secret', nwcSecret),
    ...forms('evm key', root.derive("m/44'/60'/0'/0/0").privateKey!),
  ];
  // Any four consecutive words of the mnemonic count as a leak of it.
  const words = mnemonic.split(' ');
  for (let i = 0; i + 4 <= words.length; i++)
    secrets.push([`mnemonic words ${i}-${i + 3}`, words.slice(i, i + 4).join(' ')]);

  const files = {
    pass: writeFileMode(dir, 'pass', passphrase),
    backupPass: writeFileMode(dir, 'bpass', backupPassphrase),
    changedPass: writeFileMode(dir, 'cpass', changedPassphrase),
    mnemonic: writeFileMode(dir, 'mnemonic', `${mnemonic}\n`),
    nsec: writeFileMode(dir, 'nsec', nip19.nsecEncode(nostrKey)),
    ncryptsec: writeFileMode(dir, 'ncryptsec', ncryptsec),
    ncPass: writeFileMode(dir, 'ncpass', ncryptsecPassword),
    rune: writeFileMode(dir, 'rune', rune),
    nwc: writeFileMode(dir, 'nwc', nwcUri(getPublicKey(generateSecretKey()))),
    // Refused when sealed (a wallet key of 63 hex digits): the refusal must not quote it either.
    badNwc: writeFileMode(dir, 'nwc-bad', nwcUri('a'.repeat(63))),
  };
  const outputs: CliResult[] = [];
  const w = async (...args: string[]) => {
    const r = await runWarden(['--home', home, ...args], { env: { WARDEN_LOG_LEVEL: 'debug' } });
    outputs.push(r);
    return r;
  };
  const p = ['--passphrase-file', files.pass];
  const session: string[][] = [
    ['init', ...p, ...FAST_KDF],
    ['identity', 'import', 'main', '--mnemonic-file', files.mnemonic, '--nsec-file', files.nsec, ...p],
    [
      'identity',
      'import',
      'second',
      '--nsec-file',
      files.ncryptsec,
      '--ncryptsec-password-file',
      files.ncPass,
      ...p,
    ],
    [
      'identity',
      'import',
      'dup',
      '--mnemonic-file',
      files.mnemonic,
      '--nsec-file',
      files.nsec,
      '--network',
      'testnet',
      ...p,
    ],
    ['identity', 'create', 'fresh', ...p],
    ['identity', 'lightning', 'main', '--kind', 'rune', '--credential-file', files.rune, ...p],
    ['identity', 'lightning', 'fresh', '--kind', 'nwc', '--credential-file', files.nwc, ...p],
    ['identity', 'lightning', 'dup', '--kind', 'nwc', '--credential-file', files.badNwc, ...p],
    ['identity', 'rotate', 'main', '--nostr', ...p],
    ['identity', 'rotate', 'main', '--seed', ...p],
    ['--json', 'identity', 'show', 'main', ...p],
    ['--json', 'identity', 'list', ...p],
    ['identity', 'import', 'main', '--mnemonic-file', files.mnemonic, ...p],
    ['identity', 'import', 'bad', '--mnemonic-file', files.nsec, ...p],
    ['identity', 'import', 'bad2', '--nsec-file', files.mnemonic, ...p],
    ['status', '--passphrase-file', files.backupPass],
    ['backup', '--out', join(dir, 'backup.warden'), '--backup-passphrase-file', files.backupPass, ...p],
    ['--json', 'status', ...p],
    ['--json', 'audit', 'show', ...p],
    ['audit', 'verify', ...p],
  ];
  for (const args of session) await w(...args);
  // The gateway too: a policy, an agent token, a server signing and holding events, an approval.
  const policyFile = writeFileMode(dir, 'policy.yaml', POLICY);
  const gatewayOutputs: CliResult[] = [
    await w('policy', 'set', policyFile, '--identity', 'main', ...p),
    // The one output allowed to show the token: not through `w`, so it is not scanned.
    await runWarden(
      [
        '--home',
        home,
        '--json',
        'token',
        'create',
        '--role',
        'agent',
        '--identity',
        'main',
        '--cap',
        'nostr:sign',
        ...p,
      ],
      {
        env: { WARDEN_LOG_LEVEL: 'debug' },
      },
    ),
  ];
  assert.deepEqual(
    gatewayOutputs.map((r) => r.code),
    [0, 0],
    gatewayOutputs.map((r) => r.stderr).join('\n'),
  );
  const agentToken = JSON.parse(gatewayOutputs[1]!.stdout).token as string;
  // Shown once by `token create` (not scanned); it must appear nowhere else, the secret part in no form.
  const tokenSecret = Buffer.from(tokenParts(agentToken).secret, 'base64url');
  secrets.push(['agent token', agentToken], ...forms('agent token secret', tokenSecret));
  const server = await startWardenServer(['--home', home, 'start', '--port', '0', ...p], {
    WARDEN_LOG_LEVEL: 'debug',
  });
  const headers = { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' };
  const sign = async (body: unknown) =>
    (
      await fetch(`${server.url}/v1/nostr/sign`, { method: 'POST', headers, body: JSON.stringify(body) })
    ).text();
  const signed = [
    await sign({ kind: 1, content: 'canary note' }),
    await sign({ kind: 0, content: '{"name":"canary"}' }),
    await sign({ kind: 1, content: 12 }),
  ];
  const heldId = JSON.parse(signed[1]!).request.requestId as string;
  outputs.push(await w('approvals', 'approve', heldId, ...p));
  await server.stop();
  outputs.push({ code: 0, stdout: `${server.output()}${signed.join('\n')}`, stderr: '' });
  const restored = await runWarden(
    [
      '--home',
      home2,
      'restore',
      join(dir, 'backup.warden'),
      '--backup-passphrase-file',
      files.backupPass,
      ...p,
      ...FAST_KDF,
    ],
    { env: { WARDEN_LOG_LEVEL: 'debug' } },
  );
  outputs.push(restored);
  assert.equal(restored.code, 0, restored.stderr);
  const changed = await runWarden(
    ['--home', home2, 'passphrase', 'change', '--new-passphrase-file', files.changedPass, ...p],
    { env: { WARDEN_LOG_LEVEL: 'debug' } },
  );
  outputs.push(changed);
  assert.equal(changed.code, 0, changed.stderr);
  outputs.push(
    await runWarden(['--home', home2, '--json', 'audit', 'show', '--passphrase-file', files.changedPass]),
  );
  // The session really ran: the imports succeeded and the refusals were refused.
  assert.deepEqual(
    outputs.slice(0, session.length).map((r) => r.code),
    [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0],
    outputs.map((r) => r.stderr).join('\n'),
  );
  // The NWC URI sealed; the malformed one refused by what is wrong, never quoted.
  assert.match(outputs[6]!.stdout, /nwc credential sealed for fresh/);
  assert.match(outputs[7]!.stderr, /NWC connection URI is refused: the wallet's public key/);

  const haystacks: [string, string][] = outputs.flatMap((r, i) => [
    [`stdout of command ${i}`, r.stdout],
    [`stderr of command ${i}`, r.stderr],
  ]);
  for (const file of [...filesUnder(home), ...filesUnder(home2), join(dir, 'backup.warden')]) {
    haystacks.push([file, readFileSync(file).toString('latin1')]);
  }
  assert.ok(
    haystacks.some(([name]) => name.endsWith('warden.log')),
    'the log file was scanned',
  );
  const hits: string[] = [];
  // Raw bytes too (a key in a BLOB column would not show as text).
  const binarySecrets: [string, Uint8Array][] = [
    ['seed bytes', seed],
    ['nostr key bytes', nostrKey],
    ['nostr key 2 bytes', nostrKey2],
    ['agent token secret bytes', tokenSecret],
  ];
  for (const file of [...filesUnder(home), ...filesUnder(home2), join(dir, 'backup.warden')]) {
    const bytes = readFileSync(file);
    for (const [what, needle] of binarySecrets)
      if (bytes.includes(Buffer.from(needle))) hits.push(`${what} found in ${file}`);
  }
  for (const [where, text] of haystacks) {
    for (const [what, needle] of secrets) if (text.includes(needle)) hits.push(`${what} found in ${where}`);
  }
  assert.deepEqual(hits, []);
});
