import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { schnorr } from '@noble/curves/secp256k1.js';
import { getPublicKey } from 'nostr-tools';
import { privateKeyFromSeedWords } from 'nostr-tools/nip06';
import { DAY_MS, fixedClock } from '../../src/core/clock.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { encodeContainer, newHeader, openContainer } from '../../src/keys/container.ts';
import { mnemonicBytesFromEntropy } from '../../src/keys/mnemonic.ts';
import { Vault, type VaultEvent } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

const clock = () => fixedClock(new Date('2026-01-01T00:00:00Z'));

async function newVault(events: VaultEvent[] = []) {
  const layout = tempHome('vault');
  const c = clock();
  const vault = await Vault.create(layout, passphrase(), c, TEST_KDF);
  vault.setAuditSink(async (e) => {
    events.push(e);
  });
  await vault.commitNew('vault.init');
  return { layout, vault, clock: c, events };
}

test('init writes a keystore that reopens with the passphrase and reads its KDF parameters back', async () => {
  const { layout, vault } = await newVault();
  const file = JSON.parse(readFileSync(layout.keystore, 'utf8'));
  assert.equal(file.format, 'warden-keystore');
  assert.equal(file.version, 1);
  assert.equal(file.kdf.alg, 'argon2id');
  assert.equal(file.kdf.memoryKiB, TEST_KDF.memoryKiB);
  assert.equal(Buffer.from(file.kdf.salt, 'base64').length, 16);
  const { vault: again } = await Vault.unseal(layout, passphrase(), clock());
  assert.equal(again.vaultId, vault.vaultId);
  assert.deepEqual(again.kdf, TEST_KDF);
});

test('a second init in the same home is refused with VAULT_EXISTS', async () => {
  const { layout } = await newVault();
  const other = await Vault.create(layout, passphrase(), clock(), TEST_KDF);
  other.setAuditSink(async () => {});
  await assert.rejects(other.commitNew('vault.init'), (e) => isWardenError(e, 'VAULT_EXISTS'));
});

test('a wrong passphrase gives VAULT_BAD_PASSPHRASE and leaves the keystore byte-identical', async () => {
  const { layout } = await newVault();
  const before = readFileSync(layout.keystore);
  await assert.rejects(Vault.unseal(layout, passphrase('wrong'), clock()), (e) =>
    isWardenError(e, 'VAULT_BAD_PASSPHRASE'),
  );
  assert.deepEqual(readFileSync(layout.keystore), before);
});

test('tampering with any part of the keystore gives KEYSTORE_CORRUPT', async () => {
  const { layout, vault } = await newVault();
  await vault.createIdentity('alice');
  const original = readFileSync(layout.keystore, 'utf8');
  const json = JSON.parse(original);
  const flip = (b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[bytes.length - 5]! ^= 1;
    return bytes.toString('base64');
  };
  const secretId = Object.keys(json.secrets)[0]!;
  const cases: [string, string][] = [
    ['body flipped', JSON.stringify({ ...json, body: flip(json.body) })],
    [
      'secret flipped',
      JSON.stringify({ ...json, secrets: { ...json.secrets, [secretId]: flip(json.secrets[secretId]) } }),
    ],
    [
      'secret removed',
      JSON.stringify({ ...json, secrets: Object.fromEntries(Object.entries(json.secrets).slice(1)) }),
    ],
    ['vault id changed', JSON.stringify({ ...json, vaultId: `vlt_${'a'.repeat(26)}` })],
    ['truncated', original.slice(0, original.length / 2)],
    ['empty', ''],
    ['not json', 'hello'],
    ['huge kdf memory', JSON.stringify({ ...json, kdf: { ...json.kdf, memoryKiB: 2 ** 40 } })],
    ['unknown version', JSON.stringify({ ...json, version: 2 })],
    ['hostile version', JSON.stringify({ ...json, version: { toString: 1 } })],
    ['unknown field', JSON.stringify({ ...json, note: 'rides along unauthenticated' })],
    ['unknown kdf field', JSON.stringify({ ...json, kdf: { ...json.kdf, pepper: 'x' } })],
  ];
  for (const [label, text] of cases) {
    writeFileSync(layout.keystore, text);
    await assert.rejects(
      Vault.unseal(layout, passphrase(), clock()),
      (e) => isWardenError(e, 'KEYSTORE_CORRUPT'),
      label,
    );
  }
});

test('identities have independent keys; the Nostr key is not derived from the seed', async () => {
  const { vault } = await newVault();
  const a = await vault.createIdentity('alice');
  const b = await vault.createIdentity('bob');
  assert.notEqual(a.nostr!.pubkey, b.nostr!.pubkey);
  assert.notEqual(a.evm!.address, b.evm!.address);
  assert.notEqual(a.bitcoin!.fingerprint, b.bitcoin!.fingerprint);
  assert.match(a.nostr!.npub, /^npub1/);
  assert.match(
    a.bitcoin!.bip84.receiveDescriptor,
    /^wpkh\(\[[0-9a-f]{8}\/84h\/0h\/0h\]xpub[1-9A-HJ-NP-Za-km-z]+\/0\/\*\)#[a-z0-9]{8}$/,
  );
  assert.match(a.bitcoin!.bip86.receiveDescriptor, /^tr\(\[[0-9a-f]{8}\/86h\/0h\/0h\]xpub/);
  assert.match(a.evm!.address, /^0x[0-9a-fA-F]{40}$/);
  // Nostr key independent of the seed: NIP-06 derivation of the seed would be m/44'/1237'/0'/0/0.
  const nostrKey = vault.useSecret('alice', 'nostr', 'sign', (sk) => getPublicKey(sk));
  assert.equal(nostrKey, a.nostr!.pubkey);
  assert.equal(a.lightning.configured, false);
  await assert.rejects(vault.createIdentity('alice'), (e) => isWardenError(e, 'IDENTITY_EXISTS'));
  for (const bad of ['', 'Alice', '../x', 'a b', 'x'.repeat(64), '__proto__']) {
    await assert.rejects(vault.createIdentity(bad), (e) => isWardenError(e, 'INVALID_NAME'), bad);
  }
});

test('import from a BIP-39 mnemonic gives the standard addresses (BIP-84/86 vectors)', async () => {
  const { vault } = await newVault();
  // The BIP-84 and BIP-86 test mnemonic: "abandon" x11 + "about" (entropy of 16 zero bytes).
  const identity = await vault.importIdentity('imported', {
    mnemonic: mnemonicBytesFromEntropy(new Uint8Array(16)),
  });
  assert.equal(
    identity.bitcoin!.bip84.xpub,
    'xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V',
  );
  assert.equal(
    identity.bitcoin!.bip86.xpub,
    'xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ',
  );
  // A well-known address of this mnemonic at m/44'/60'/0'/0/0.
  assert.equal(identity.evm!.address, '0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
  assert.equal(identity.keys.find((k) => k.purpose === 'seed')!.origin, 'imported');
  // The Nostr key is independent: not the NIP-06 key of the same mnemonic.
  const nip06 = getPublicKey(privateKeyFromSeedWords(`${'abandon '.repeat(11)}about`));
  assert.notEqual(identity.nostr!.pubkey, nip06);
  assert.equal(identity.keys.find((k) => k.purpose === 'nostr')!.origin, 'generated');
});

test('rotation deprecates the old key for 30 days: verify-only, then retired; status lists due keys', async () => {
  const { vault, clock: c } = await newVault();
  const before = await vault.createIdentity('alice');
  assert.deepEqual(vault.rotationDue(), []);
  c.advance(91 * DAY_MS);
  assert.deepEqual(
    vault
      .rotationDue()
      .map((r) => r.purpose)
      .sort(),
    ['nostr', 'seed'],
  );
  const after = await vault.rotate('alice', 'nostr');
  assert.notEqual(after.nostr!.pubkey, before.nostr!.pubkey);
  assert.deepEqual(
    vault.rotationDue().map((r) => r.purpose),
    ['seed'],
  );
  const old = after.keys.find((k) => k.purpose === 'nostr' && k.version === 1)!;
  assert.equal(old.status, 'deprecated');
  // Deprecated: usable to verify, never to sign.
  const oldPub = vault.useSecret('alice', 'nostr', 'verify', (sk) => getPublicKey(sk), 1);
  assert.equal(oldPub, before.nostr!.pubkey);
  assert.throws(
    () => vault.useSecret('alice', 'nostr', 'sign', () => 1, 1),
    (e) => isWardenError(e, 'KEY_NOT_ACTIVE'),
  );
  c.advance(31 * DAY_MS);
  assert.equal(
    vault.getIdentity('alice').keys.find((k) => k.purpose === 'nostr' && k.version === 1)!.status,
    'retired',
  );
  assert.throws(
    () => vault.useSecret('alice', 'nostr', 'verify', () => 1, 1),
    (e) => isWardenError(e, 'KEY_NOT_ACTIVE'),
  );
  // The active key signs and verifies.
  const sig = vault.useSecret('alice', 'nostr', 'sign', (sk) => schnorr.sign(new Uint8Array(32), sk));
  assert.ok(schnorr.verify(sig, new Uint8Array(32), Buffer.from(after.nostr!.pubkey, 'hex')));
});

test('the secret passed to useSecret is wiped when the synchronous run that used it ends', async () => {
  const { vault } = await newVault();
  await vault.createIdentity('alice');
  let seen: Uint8Array | undefined;
  vault.useSecret('alice', 'nostr', 'sign', (sk) => {
    seen = sk;
    assert.ok(sk.some((b) => b !== 0));
  });
  // A batch signs many times in one run: the key is opened once for it.
  vault.useSecret('alice', 'nostr', 'sign', (sk) => assert.equal(sk, seen));
  await Promise.resolve();
  assert.ok(
    seen?.every((b) => b === 0),
    'wiped before anything else could run',
  );

  let again: Uint8Array | undefined;
  vault.useSecret('alice', 'nostr', 'sign', (sk) => {
    again = sk;
  });
  assert.notEqual(again, seen, 'the next run opens it afresh');
  vault.seal();
  assert.ok(
    again?.every((b) => b === 0),
    'sealing wipes it at once',
  );
});

test('an asynchronous useSecret callback is refused and the secret wiped at once', async () => {
  const { vault } = await newVault();
  await vault.createIdentity('alice');
  let seen: Uint8Array | undefined;
  assert.throws(
    () =>
      vault.useSecret('alice', 'nostr', 'sign', async (sk) => {
        seen = sk;
      }),
    /must be synchronous/,
  );
  assert.ok(seen?.every((b) => b === 0));
});

test('every change is audited first; a failing audit sink leaves the keystore unchanged', async () => {
  const { layout, vault, events } = await newVault();
  await vault.createIdentity('alice');
  assert.deepEqual(
    events.map((e) => e.action),
    ['vault.init', 'identity.create'],
  );
  const before = readFileSync(layout.keystore);
  vault.setAuditSink(async () => {
    throw new Error('disk full');
  });
  await assert.rejects(vault.createIdentity('bob'));
  await assert.rejects(vault.rotate('alice', 'seed'));
  assert.deepEqual(readFileSync(layout.keystore), before);
  const { vault: reopened } = await Vault.unseal(layout, passphrase(), clock());
  assert.deepEqual(
    reopened.listIdentities().map((i) => i.name),
    ['alice'],
  );
});

test("two vault handles on one home do not lose each other's changes", async () => {
  const { layout, vault } = await newVault();
  const { vault: second } = await Vault.unseal(layout, passphrase(), clock());
  second.setAuditSink(async () => {});
  await Promise.all([vault.createIdentity('a1'), second.createIdentity('b1'), vault.createIdentity('a2')]);
  const { vault: third } = await Vault.unseal(layout, passphrase(), clock());
  assert.deepEqual(
    third.listIdentities().map((i) => i.name),
    ['a1', 'a2', 'b1'],
  );
});

test('a backup or a keystore too large to be read back is refused before anything is written (FILE_TOO_LARGE)', async () => {
  const events: VaultEvent[] = [];
  const { layout, vault } = await newVault(events);
  const before = events.length;
  const out = `${layout.dir}/../too-large.warden`;
  // 400 MiB of database is about 533 MiB as base64: more than restore reads.
  await assert.rejects(
    vault.writeBackup(out, passphrase('backup passphrase 123'), {
      database: new Uint8Array(400 * 1024 * 1024),
    }),
    (e) => isWardenError(e, 'FILE_TOO_LARGE') && (e.details.limit as number) <= 512 * 1024 * 1024,
  );
  assert.equal(existsSync(out), false, 'no file');
  assert.equal(events.length, before, 'no vault.backup record for a backup never written');
  // A keystore over its 16 MiB is not written either (its reader refuses it); under, it opens.
  const { header, kek } = await newHeader('warden-keystore', vault.vaultId, passphrase(), TEST_KDF);
  const sealed = (pad: number) => ({ header, meta: { pad: 'x'.repeat(pad) }, secrets: new Map() });
  assert.throws(
    () => encodeContainer(sealed(17 * 1024 * 1024), kek),
    (e) => isWardenError(e, 'FILE_TOO_LARGE'),
  );
  const fits = encodeContainer(sealed(11 * 1024 * 1024), kek); // about 14.7 MiB as base64
  const opened = await openContainer<{ pad: string }>(fits, passphrase(), 'warden-keystore');
  assert.equal(opened.container.meta.pad.length, 11 * 1024 * 1024);
});

test('backup and restore round trip under separate passphrases', async () => {
  const { layout, vault } = await newVault();
  const alice = await vault.createIdentity('alice');
  await vault.setLightningCredential('alice', 'rune', new TextEncoder().encode('rune-secret-value'));
  const out = `${layout.dir}/../backup.warden`;
  await vault.writeBackup(out, passphrase('backup passphrase 123'));
  await assert.rejects(vault.writeBackup(out, passphrase('x')), (e) => isWardenError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(
    vault.writeBackup(`${out}.2`, passphrase()),
    (e) => isWardenError(e, 'INVALID_ARGUMENT') && /differ/.test(e.message),
    'the vault passphrase is refused as backup passphrase',
  );
  const target = tempHome('restore');
  const bytes = readFileSync(out);
  await assert.rejects(
    Vault.fromBackup(target, bytes, passphrase('wrong'), passphrase(), clock(), TEST_KDF),
    (e) => isWardenError(e, 'BACKUP_BAD_PASSPHRASE'),
  );
  await assert.rejects(
    Vault.fromBackup(target, bytes, passphrase(), passphrase(), clock(), TEST_KDF),
    (e) => isWardenError(e, 'BACKUP_BAD_PASSPHRASE'),
    'the vault passphrase does not open the backup',
  );
  const corrupted = Buffer.from(bytes);
  corrupted[Math.floor(corrupted.length / 2)]! ^= 1;
  await assert.rejects(
    Vault.fromBackup(target, corrupted, passphrase('backup passphrase 123'), passphrase(), clock(), TEST_KDF),
    (e) => isWardenError(e, 'BACKUP_CORRUPT') || isWardenError(e, 'BACKUP_BAD_PASSPHRASE'),
  );
  const restored = await Vault.fromBackup(
    target,
    bytes,
    passphrase('backup passphrase 123'),
    passphrase('new pass 456'),
    clock(),
    TEST_KDF,
  );
  restored.setAuditSink(async () => {});
  await restored.commitNew('vault.restore');
  const { vault: reopened } = await Vault.unseal(target, passphrase('new pass 456'), clock());
  const got = reopened.getIdentity('alice');
  assert.deepEqual(got.nostr, alice.nostr);
  assert.deepEqual(got.evm, alice.evm);
  assert.equal(got.lightning.kind, 'rune');
  const rune = reopened.useSecret('alice', 'lightning', 'sign', (s) => new TextDecoder().decode(s));
  assert.equal(rune, 'rune-secret-value');
  assert.equal(reopened.auditKeys().keyId, vault.auditKeys().keyId);
});

test('a running vault sees another process rotate a key or add an identity (no restart needed)', async () => {
  const { layout, vault } = await newVault();
  await vault.createIdentity('alice');
  const before = vault.useSecret('alice', 'nostr', 'sign', (sk) => getPublicKey(sk));
  // The CLI, as a second process would: its own handle on the same home.
  const { vault: cli } = await Vault.unseal(layout, passphrase(), clock());
  cli.setAuditSink(async () => {});
  const rotated = await cli.rotate('alice', 'nostr');
  await cli.createIdentity('bob');
  const after = vault.useSecret('alice', 'nostr', 'sign', (sk) => getPublicKey(sk));
  assert.notEqual(after, before, 'the server signs with the new key at once');
  assert.equal(after, rotated.nostr!.pubkey);
  assert.deepEqual(
    vault.listIdentities().map((i) => i.name),
    ['alice', 'bob'],
  );
});

test('changing the passphrase re-seals every key: the old one opens nothing Warden keeps', async () => {
  const { layout, vault, events } = await newVault();
  const alice = await vault.createIdentity('alice');
  await vault.setLightningCredential('alice', 'rune', new TextEncoder().encode('rune-secret-value'));
  assert.ok(existsSync(layout.keystorePrevious), 'an ordinary write keeps the previous version');
  await assert.rejects(
    vault.changePassphrase(passphrase()),
    (e) => isWardenError(e, 'INVALID_ARGUMENT') && /differ/.test(e.message),
    'the current passphrase is refused as the new one',
  );
  const stronger = { ...TEST_KDF, iterations: 2 };
  await vault.changePassphrase(passphrase('a new passphrase 789'), stronger);
  assert.deepEqual(vault.kdf, stronger);
  assert.equal(events.at(-1)?.action, 'vault.passphrase.change');
  assert.equal(existsSync(layout.keystorePrevious), false, 'the copy under the old passphrase is gone');
  await assert.rejects(Vault.unseal(layout, passphrase(), clock()), (e) =>
    isWardenError(e, 'VAULT_BAD_PASSPHRASE'),
  );
  // The handle that changed it keeps working, under the new key.
  await vault.rotate('alice', 'nostr');
  const { vault: reopened } = await Vault.unseal(layout, passphrase('a new passphrase 789'), clock());
  assert.deepEqual(reopened.kdf, stronger);
  assert.deepEqual(reopened.getIdentity('alice').evm, alice.evm);
  assert.equal(
    reopened.useSecret('alice', 'lightning', 'sign', (s) => new TextDecoder().decode(s)),
    'rune-secret-value',
  );
  assert.equal(reopened.auditKeys().keyId, vault.auditKeys().keyId, 'the audit keys survive');
  assert.equal(
    reopened.useSecret('alice', 'nostr', 'verify', (sk) => getPublicKey(sk), 1),
    alice.nostr!.pubkey,
    'deprecated versions are re-sealed too',
  );
});

test('a failed audit append leaves the passphrase unchanged', async () => {
  const { layout, vault } = await newVault();
  await vault.createIdentity('alice');
  const before = readFileSync(layout.keystore);
  const previous = readFileSync(layout.keystorePrevious);
  vault.setAuditSink(async () => {
    throw new Error('store refuses');
  });
  await assert.rejects(vault.changePassphrase(passphrase('a new passphrase 789')));
  assert.deepEqual(readFileSync(layout.keystore), before);
  assert.deepEqual(readFileSync(layout.keystorePrevious), previous, 'the recovery copy is kept too');
  await Vault.unseal(layout, passphrase(), clock());
  vault.setAuditSink(async () => {});
  await vault.createIdentity('still-works');
});

test('a running vault seals itself when another process changes the passphrase', async () => {
  const { layout, vault } = await newVault();
  await vault.createIdentity('alice');
  const { vault: cli } = await Vault.unseal(layout, passphrase(), clock());
  cli.setAuditSink(async () => {});
  await cli.changePassphrase(passphrase('a new passphrase 789'));
  assert.throws(
    () => vault.useSecret('alice', 'nostr', 'sign', () => 1),
    (e) => isWardenError(e, 'VAULT_SEALED') && e.details.reason === 'passphrase_changed',
  );
  assert.equal(vault.sealed, true, 'the old key-encryption key is wiped, not kept around');
  await assert.rejects(vault.createIdentity('bob'), (e) => isWardenError(e, 'VAULT_SEALED'));
});

test('a previous version left under the old passphrase is removed at the next unseal', async () => {
  const { layout, vault } = await newVault();
  await vault.createIdentity('alice');
  const underOldPassphrase = readFileSync(layout.keystore);
  await vault.changePassphrase(passphrase('a new passphrase 789'));
  // What an interrupted change of an older release, or a copy put back by hand, would leave.
  writeFileSync(layout.keystorePrevious, underOldPassphrase, { mode: 0o600 });
  writeFileSync(`${layout.keystorePrevious}.tmp`, underOldPassphrase, { mode: 0o600 });
  const { vault: reopened } = await Vault.unseal(layout, passphrase('a new passphrase 789'), clock());
  assert.equal(existsSync(layout.keystorePrevious), false);
  assert.equal(existsSync(`${layout.keystorePrevious}.tmp`), false);
  // A previous version under the current passphrase is the crash-recovery copy: it stays.
  reopened.setAuditSink(async () => {});
  await reopened.createIdentity('bob');
  assert.equal(existsSync(layout.keystorePrevious), true);
  await Vault.unseal(layout, passphrase('a new passphrase 789'), clock());
  assert.equal(existsSync(layout.keystorePrevious), true);
});
