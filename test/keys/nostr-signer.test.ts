/**
 * The Nostr signer hashes NIP-01's serialization with OpenSSL; nostr-tools is the independent
 * check: for generated events (Unicode, escapes, empty and many tags) the id is nostr-tools'
 * getEventHash and the event passes verifyEvent, under the identity's public key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { getEventHash, verifyEvent } from 'nostr-tools';
import { fixedClock } from '../../src/core/clock.ts';
import { signNostrEvent } from '../../src/keys/nostr-signer.ts';
import { Vault } from '../../src/keys/vault.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

const CONTENTS = [
  '',
  'gm',
  'naïve café ☕ 日本語 🧡',
  'quote " backslash \\ newline \n tab \t',
  '\u0000\u001f\u2028',
];

test('generated events: the id is getEventHash of the event, and verifyEvent accepts every one', async () => {
  const vault = await Vault.create(tempHome('nostr-signer'), passphrase(), fixedClock(new Date()), TEST_KDF);
  vault.setAuditSink(async () => {});
  await vault.commitNew('vault.init');
  const identity = await vault.createIdentity('alice');
  const pubkey = identity.nostr!.pubkey;
  for (let i = 0; i < 200; i++) {
    const tags = Array.from({ length: i % 7 }, (_, t) => ['t', `${CONTENTS[t % CONTENTS.length]}${t}`]);
    const template = {
      kind: i % 3 === 0 ? 1 : 30_000 + i,
      created_at: 1_700_000_000 + i,
      tags,
      content: `${CONTENTS[i % CONTENTS.length]}${randomBytes(i % 40).toString('base64')}`,
    };
    const event = signNostrEvent(vault, 'alice', pubkey, template);
    assert.equal(event.pubkey, pubkey);
    assert.equal(event.id, getEventHash(event));
    assert.equal(verifyEvent({ ...event }), true);
  }
});
