/**
 * The upstream wallet's NWC URI in the identity's Lightning slot (keys/nwc-uri.ts,
 * keys/nwc-client-key.ts): checked when it is sealed, hostile input refused with INVALID_ARGUMENT
 * (fuzzed), the secret only inside `useNwc` and wiped after it, NIP-44 v2 that the wallet's side
 * (nostr-tools, as wallets use it) reads and writes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools';
import * as nip44 from 'nostr-tools/nip44';
import { fixedClock } from '../../src/core/clock.ts';
import { isWardenError, type WardenError } from '../../src/core/errors.ts';
import { signerFor } from '../../src/keys/capabilities.ts';
import { parseNwcUri } from '../../src/keys/nwc-uri.ts';
import { Vault } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

const walletSecret = generateSecretKey();
const walletPubkey = getPublicKey(walletSecret);
const clientSecret = generateSecretKey();
const uri = (o: { pubkey?: string; relays?: string[]; secret?: string; scheme?: string } = {}) =>
  `${o.scheme ?? 'nostr+walletconnect://'}${o.pubkey ?? walletPubkey}?${(o.relays ?? ['wss://relay.example/'])
    .map((r) => `relay=${encodeURIComponent(r)}`)
    .join('&')}&secret=${o.secret ?? bytesToHex(clientSecret)}`;
const bytes = (text: string) => new TextEncoder().encode(text);

function refused(text: string | Uint8Array, reason: string) {
  assert.throws(
    () => parseNwcUri(typeof text === 'string' ? bytes(text) : text),
    (e) => isWardenError(e, 'INVALID_ARGUMENT') && e.details.reason === reason,
    reason,
  );
}

test('a wallet URI: its key, relays and secret; the secret in any position, a trailing newline ignored', () => {
  const parsed = parseNwcUri(bytes(`${uri({ relays: ['wss://a.example', 'ws://127.0.0.1:7000'] })}\n`));
  assert.equal(parsed.walletPubkey, walletPubkey);
  assert.deepEqual(parsed.relays, ['wss://a.example/', 'ws://127.0.0.1:7000/']);
  assert.deepEqual(parsed.secret, clientSecret);
  const first = `nostr+walletconnect://${walletPubkey}?secret=${bytesToHex(clientSecret)}&relay=wss%3A%2F%2Fb.example`;
  assert.deepEqual(parseNwcUri(bytes(first)).relays, ['wss://b.example/']);
});

test('malformed URIs are refused by reason, never quoting the URI', () => {
  refused(uri({ scheme: 'nostrwalletconnect://' }), 'scheme');
  refused(uri({ pubkey: 'ab'.repeat(31) }), 'pubkey');
  refused(uri({ pubkey: walletPubkey.toUpperCase() }), 'pubkey');
  refused(uri({ pubkey: 'ff'.repeat(32) }), 'pubkey'); // not on the curve
  refused(uri({ secret: 'zz'.repeat(32) }), 'secret');
  refused(uri({ secret: 'ab'.repeat(31) }), 'secret');
  refused(uri({ secret: '00'.repeat(32) }), 'secret'); // not a scalar
  refused(uri({ secret: 'ff'.repeat(32) }), 'secret'); // above the order
  refused(`${uri()}&secret=${bytesToHex(clientSecret)}`, 'secret');
  refused(uri({ relays: [] }), 'relay');
  refused(uri({ relays: ['https://relay.example/'] }), 'relay');
  refused(uri({ relays: ['wss://user:pw@relay.example/'] }), 'relay');
  refused(new Uint8Array(5000).fill(0x61), 'length');
  refused(Uint8Array.from([...bytes(uri()), 0xff]), 'secret');
  try {
    parseNwcUri(bytes(uri({ relays: ['https://x/'] })));
  } catch (err) {
    assert.ok(!(err as Error).message.includes(bytesToHex(clientSecret)));
    assert.ok(!JSON.stringify((err as WardenError).details).includes(bytesToHex(clientSecret)));
  }
});

test('fuzzed: any bytes are a URI or INVALID_ARGUMENT, nothing else', () => {
  const prefix = bytes('nostr+walletconnect://');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (tail, prefixed) => {
      const input = prefixed ? Uint8Array.from([...prefix, ...tail]) : tail;
      try {
        parseNwcUri(input);
      } catch (err) {
        assert.ok(isWardenError(err, 'INVALID_ARGUMENT'), String(err));
      }
    }),
    { numRuns: 2000 },
  );
  // Mutations of a good URI: one byte changed.
  const good = bytes(uri());
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const bad = Uint8Array.from(good);
      bad[at] = value;
      try {
        const p = parseNwcUri(bad);
        assert.ok(p.relays.length > 0 && /^[0-9a-f]{64}$/.test(p.walletPubkey));
      } catch (err) {
        assert.ok(isWardenError(err, 'INVALID_ARGUMENT'), String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

test('sealing checks the URI; useNwc signs and speaks NIP-44 v2 with the wallet, its secret wiped after', async () => {
  const vault = await Vault.create(tempHome('nwc-uri'), passphrase(), fixedClock(new Date()), TEST_KDF);
  vault.setAuditSink(async () => {});
  await vault.commitNew('vault.init');
  await vault.createIdentity('bot');
  await vault.createIdentity('lnd');
  await assert.rejects(
    vault.setLightningCredential('bot', 'nwc', bytes(uri({ secret: '00'.repeat(32) }))),
    (e) => isWardenError(e, 'INVALID_ARGUMENT'),
  );
  assert.equal(vault.getIdentity('bot').lightning.kind, null, 'nothing sealed');
  await vault.setLightningCredential('bot', 'nwc', bytes(uri()));
  await vault.setLightningCredential('lnd', 'macaroon', new Uint8Array(40).fill(7));
  const cred = signerFor(vault, 'bot', 'lightning-credential');
  let lent: Uint8Array | null = null;
  await cred.use(async (b) => {
    lent = b;
  });
  const conversation = nip44.v2.utils.getConversationKey(walletSecret, getPublicKey(clientSecret));
  await cred.useNwc(async (client) => {
    assert.equal(client.walletPubkey, walletPubkey);
    assert.equal(client.publicKey, getPublicKey(clientSecret));
    assert.deepEqual([...client.relays], ['wss://relay.example/']);
    assert.ok(!Object.values(client).some((v) => v instanceof Uint8Array), 'no bytes handed out');
    const event = client.sign({ kind: 23194, created_at: 1, tags: [['p', walletPubkey]], content: 'x' });
    assert.ok(verifyEvent(event));
    assert.equal(
      nip44.v2.decrypt(client.encrypt('{"method":"get_info"}'), conversation),
      '{"method":"get_info"}',
    );
    assert.equal(client.decrypt(nip44.v2.encrypt('answer', conversation)), 'answer');
    // The wallet's own event is not one the client can make: it has no wallet key.
    const forged = finalizeEvent(
      { kind: 1, created_at: 1, tags: [], content: '' },
      hexToBytes('11'.repeat(32)),
    );
    assert.notEqual(forged.pubkey, client.publicKey);
  });
  assert.ok(lent && (lent as Uint8Array).every((b) => b === 0), 'the lent URI is wiped');
  await assert.rejects(
    signerFor(vault, 'lnd', 'lightning-credential').useNwc(async () => 1),
    (e) => isWardenError(e, 'KEY_NOT_ACTIVE'),
  );
});
