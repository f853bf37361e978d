import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import {
  bytesToHex,
  getAddress,
  type Hex,
  hashMessage,
  hexToBytes,
  recoverMessageAddress,
  stringToHex,
  verifyMessage,
} from 'viem';
import { privateKeyToAccount, privateKeyToAddress } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { isWardenError, WardenError } from '../../../../src/core/errors.ts';
import type { Intent } from '../../../../src/core/intent.ts';
import type { EvmDigestSigner } from '../../../../src/keys/capabilities.ts';
import type { IdentityView } from '../../../../src/keys/view.ts';
import { signMessageOperation as op } from '../../../../src/protocols/evm/sign-message/operation.ts';
import type { SignMessageRequest } from '../../../../src/protocols/evm/sign-message/request.ts';
import type { Operation } from '../../../../src/protocols/operation.ts';
import { SPEC_ADDRESS, SPEC_EXAMPLE, specExampleFields } from './spec-examples.ts';

// Hardhat's first development account: a published test key, never holding anything.
const PRIVATE_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = privateKeyToAddress(PRIVATE_KEY); // EIP-55
const LOWER = ADDRESS.toLowerCase();
const NOW = new Date('2026-03-01T12:00:00Z');
const IDENTITY = 'agent';

/** The spec's first example, signing in as the test key instead of the spec's address. */
const SPEC_EXAMPLE_OURS = SPEC_EXAMPLE.replace(SPEC_ADDRESS, ADDRESS);

/** A signer like keys/evm-signer.ts (secp256k1, prehash false, low-S, 'recovered'), from a known key. */
function testSigner(
  privateKey: Hex,
  tamper?: (sig: Uint8Array) => void,
): EvmDigestSigner & { calls: number } {
  const secretKey = hexToBytes(privateKey);
  const signer = {
    address: privateKeyToAddress(privateKey).toLowerCase(),
    calls: 0,
    signDigest(digest: Uint8Array) {
      assert.equal(digest.length, 32);
      signer.calls++;
      const sig = secp256k1.sign(digest, secretKey, { prehash: false, lowS: true, format: 'recovered' });
      tamper?.(sig);
      return {
        r: bytesToHex(sig.subarray(1, 33)),
        s: bytesToHex(sig.subarray(33, 65)),
        yParity: sig[0] as 0 | 1,
        address: privateKeyToAddress(privateKey),
      };
    },
  };
  return signer;
}

function publicKeys(address: string | null): IdentityView {
  return {
    name: IDENTITY,
    createdAt: '2026-01-01T00:00:00.000Z',
    network: 'mainnet',
    nostr: null,
    bitcoin: null,
    evm: address === null ? null : { path: "m/44'/60'/0'/0/0", address },
    lightning: { configured: false, kind: null },
    keys: [],
  };
}

const intentOf = (p: SignMessageRequest, address: string | null = ADDRESS) =>
  op.toIntent(p, { identity: IDENTITY, publicKeys: publicKeys(address), backend: null });

/** Parse, build the intent, review, encode/decode, execute: the whole path an operation sees. */
async function signThrough(body: unknown, signer = testSigner(PRIVATE_KEY)) {
  const parsed = op.parse(body, NOW);
  const stored = op.decode(op.encode(parsed));
  assert.deepEqual(stored, parsed, 'a held request survives encode/decode');
  const intent = await intentOf(parsed);
  const review = op.review(stored, intent, publicKeys(ADDRESS));
  const outcome = op.sign(stored, intent, signer);
  assert.equal(outcome.status, 'done', JSON.stringify(outcome));
  const result = (outcome as { result: unknown }).result as {
    signature: Hex;
    address: string;
    messageHash: Hex;
  };
  return { parsed, intent, review, result };
}

async function refusedWith(promise: Promise<unknown>, code: string, field?: string): Promise<WardenError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isWardenError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.details.field, field);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('the operation declares its name, route, capability and signer', () => {
  const typed: Operation<SignMessageRequest, unknown, 'evm-digest'> = op;
  assert.equal(typed.name, 'evm.sign_message');
  assert.equal(op.protocol, 'evm');
  assert.equal(op.action, 'sign_message');
  assert.equal(op.capability, 'evm:sign_message');
  assert.equal(op.signer, 'evm-digest');
  assert.deepEqual(op.http, { path: '/v1/evm/sign-message' });
  assert.match(op.title, /message/i);
  assert.match(op.description, /held for an operator/);
  assert.match(op.description, /hash32/);
});

test('a text message is signed with EIP-191 and verifies with viem', async () => {
  const { result, intent } = await signThrough({ message: 'Hello from Warden ✓', chainId: 1 });
  assert.equal(result.address, LOWER);
  assert.equal(result.messageHash, hashMessage('Hello from Warden ✓'));
  assert.match(result.signature, /^0x[0-9a-f]{130}$/);
  assert.ok(['1b', '1c'].includes(result.signature.slice(-2)), 'v is 27 + yParity');
  assert.equal(
    await verifyMessage({ address: ADDRESS, message: 'Hello from Warden ✓', signature: result.signature }),
    true,
  );
  assert.equal(
    await recoverMessageAddress({ message: 'Hello from Warden ✓', signature: result.signature }),
    ADDRESS,
  );
  // Deterministic (RFC 6979): exactly what a viem local account signs.
  const account = privateKeyToAccount(PRIVATE_KEY);
  assert.equal(result.signature, await account.signMessage({ message: 'Hello from Warden ✓' }));
  assert.equal(intent.facets.message_type, 'text');
  assert.equal(intent.facets.chain_id, 1);
  assert.equal(intent.facets.siwe_domain, null);
});

test('raw bytes are signed as bytes and verify with viem', async () => {
  const raw: Hex = '0x00ff10deadbeef';
  const { result, intent } = await signThrough({ messageHex: '0x00FF10DEADBEEF' });
  assert.equal(
    await verifyMessage({ address: ADDRESS, message: { raw }, signature: result.signature }),
    true,
  );
  assert.equal(await recoverMessageAddress({ message: { raw }, signature: result.signature }), ADDRESS);
  assert.equal(result.messageHash, hashMessage({ raw }));
  assert.equal(intent.facets.message_type, 'bytes');
  assert.equal(intent.facets.chain_id, null);
});

test('property: any text or bytes, signed through the operation, verify with viem', async () => {
  const signer = testSigner(PRIVATE_KEY);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }).filter((s) => !/wants/i.test(s)),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
      ),
      async (message) => {
        const body = typeof message === 'string' ? { message } : { messageHex: bytesToHex(message) };
        const { result } = await signThrough(body, signer);
        const viemMessage = typeof message === 'string' ? message : { raw: message };
        assert.equal(
          await verifyMessage({ address: ADDRESS, message: viemMessage, signature: result.signature }),
          true,
        );
      },
    ),
    { numRuns: 60 },
  );
});

test('the EIP-4361 spec example, signing in as our key, is shown field by field and verifies', async () => {
  const { result, intent, review } = await signThrough({ message: SPEC_EXAMPLE_OURS });
  assert.equal(
    await verifyMessage({ address: ADDRESS, message: SPEC_EXAMPLE_OURS, signature: result.signature }),
    true,
  );
  assert.equal(
    await recoverMessageAddress({ message: SPEC_EXAMPLE_OURS, signature: result.signature }),
    ADDRESS,
  );
  assert.deepEqual(intent.facets, { message_type: 'siwe', chain_id: 1, siwe_domain: 'example.com' });
  const payload = review.payload as Record<string, any>;
  assert.equal(payload.messageType, 'siwe');
  assert.equal(payload.signingAddress, LOWER);
  assert.equal(payload.text, SPEC_EXAMPLE_OURS);
  assert.equal(payload.messageHex, stringToHex(SPEC_EXAMPLE_OURS));
  assert.equal(payload.signedDigest, result.messageHash);
  assert.equal(
    payload.prefix,
    `\x19Ethereum Signed Message:\n${new TextEncoder().encode(SPEC_EXAMPLE_OURS).length}`,
  );
  assert.deepEqual(payload.siwe, specExampleFields(null, 'example.com', ADDRESS));
  assert.ok(payload.warnings.some((w: string) => /no expiration time/.test(w)));
  assert.equal(
    review.summary,
    `Sign-In with Ethereum to example.com as ${LOWER} on chain 1, never expires; signed by ${LOWER}`,
  );
});

test('a SIWE message with an expiry and scheme is summarized with its domain, address, chain and expiry', async () => {
  const message = createSiweMessage({
    address: ADDRESS,
    chainId: 8453,
    domain: 'App.Example.com',
    scheme: 'https',
    nonce: 'abcdefgh1',
    uri: 'https://app.example.com/',
    version: '1',
    issuedAt: new Date('2026-03-01T11:59:00Z'),
    expirationTime: new Date('2026-03-01T12:09:00Z'),
    notBefore: new Date('2026-03-01T11:59:00Z'),
  });
  const { intent, review, result } = await signThrough({ messageHex: stringToHex(message), chainId: 8453 });
  assert.equal(await verifyMessage({ address: ADDRESS, message, signature: result.signature }), true);
  assert.deepEqual(intent.facets, { message_type: 'siwe', chain_id: 8453, siwe_domain: 'app.example.com' });
  assert.equal(
    review.summary,
    `Sign-In with Ethereum to https://App.Example.com as ${LOWER} on chain 8453, expires 2026-03-01T12:09:00.000Z, ` +
      `valid from 2026-03-01T11:59:00.000Z; signed by ${LOWER}`,
  );
});

test('SIWE for another address is refused before anything is recorded, and at signing', async () => {
  // The spec example signs in as the spec's address, which is not our key.
  const parsed = op.parse({ message: SPEC_EXAMPLE }, NOW);
  const err = await refusedWith(intentOf(parsed), 'INVALID_REQUEST', 'message');
  assert.equal(err.details.siweField, 'address');
  const asHex = op.parse({ messageHex: stringToHex(SPEC_EXAMPLE) }, NOW);
  await refusedWith(intentOf(asHex), 'INVALID_REQUEST', 'messageHex');
  // The review (e.g. after the identity's key changed) says it will be refused.
  const intent = await intentOf(parsed, SPEC_ADDRESS);
  const review = op.review(parsed, intent, publicKeys(ADDRESS));
  assert.match(
    review.summary,
    /WARNING: the sign-in is for 0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2, not the signing address/,
  );
  // Execute refuses even an intent judged for that address, and one doctored to name our key.
  const signer = testSigner(PRIVATE_KEY);
  const outcome = op.sign(parsed, intent, signer);
  assert.equal(outcome.status, 'failed');
  const doctored: Intent = { ...intent, detail: { ...intent.detail, signingAddress: LOWER } };
  const outcome2 = op.sign(parsed, doctored, signer);
  assert.deepEqual(
    { status: outcome2.status, code: (outcome2 as { code: string }).code },
    { status: 'failed', code: 'INVALID_REQUEST' },
  );
  assert.equal(signer.calls, 0, 'nothing was signed');
});

test('SIWE expired, on another chain or malformed is refused at parse time', () => {
  const base = {
    address: ADDRESS,
    chainId: 1,
    domain: 'example.com',
    nonce: 'abcdefgh1',
    uri: 'https://example.com/',
    version: '1' as const,
    issuedAt: new Date('2026-03-01T10:00:00Z'),
  };
  const expired = createSiweMessage({ ...base, expirationTime: new Date('2026-03-01T11:00:00Z') });
  const refused = (body: unknown, field: string, siweField?: string) => {
    assert.throws(
      () => op.parse(body, NOW),
      (err: unknown) =>
        isWardenError(err, 'INVALID_REQUEST') &&
        err.details.field === field &&
        (siweField === undefined || err.details.siweField === siweField),
      JSON.stringify(body).slice(0, 100),
    );
  };
  refused({ message: expired }, 'message', 'expiration-time');
  refused({ message: createSiweMessage(base), chainId: 137 }, 'chainId');
  refused({ message: createSiweMessage(base).replace('Nonce: ', 'Nonce:') }, 'message', 'nonce');
  refused({ message: createSiweMessage(base).replace('\n\n\n', '\n\n') }, 'message');
  refused({ message: `${createSiweMessage(base)}\nExtra: 1` }, 'message', 'message');
  refused(
    { messageHex: stringToHex(createSiweMessage(base).replace('Version: 1', 'Version: 1.0')) },
    'messageHex',
    'version',
  );
});

test('a 32-byte payload is marked hash32, warned about, and still signs when policy lets it', async () => {
  const txHash: Hex = '0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060';
  const { intent, review, result } = await signThrough({ messageHex: txHash, chainId: 1 });
  assert.equal(intent.facets.message_type, 'hash32');
  assert.equal(review.payload.messageType, 'hash32');
  assert.ok((review.payload.warnings as string[]).some((w) => /could be a transaction hash/.test(w)));
  assert.match(review.summary, /^sign the 32-byte value 0x5c50.*could be a transaction hash/);
  assert.equal(
    await verifyMessage({ address: ADDRESS, message: { raw: txHash }, signature: result.signature }),
    true,
  );
  const asText = await intentOf(op.parse({ message: 'abcdefghijklmnopqrstuvwxyz012345' }, NOW));
  assert.equal(asText.facets.message_type, 'hash32', '32 bytes of text sign exactly like 32 raw bytes');
});

test('the intent moves nothing, commits to the body and carries plain JSON', async () => {
  const parsed = op.parse({ message: 'hi', chainId: 10, idempotencyKey: 'k-1' }, NOW);
  const intent = await intentOf(parsed);
  assert.equal(intent.protocol, 'evm');
  assert.equal(intent.action, 'sign_message');
  assert.equal(intent.identity, IDENTITY);
  assert.equal(intent.asset, 'evm:signature');
  assert.equal(intent.feeAsset, 'evm:signature');
  assert.equal(intent.amount, 0n);
  assert.equal(intent.maxFee, 0n);
  assert.deepEqual(intent.destinations, []);
  assert.equal(intent.idempotencyKey, 'k-1');
  assert.equal(op.idempotencyKey(parsed), 'k-1');
  assert.equal(intent.payloadDigest, op.digest(parsed));
  assert.match(intent.payloadDigest, /^[0-9a-f]{64}$/);
  assert.deepEqual(JSON.parse(JSON.stringify(intent.detail)), intent.detail);
  assert.equal(intent.detail.messageHash, hashMessage('hi'));
  assert.equal(intent.detail.signingAddress, LOWER);
  await refusedWith(intentOf(parsed, null), 'KEY_NOT_ACTIVE');
});

test('the digest is stable across key order, hex case and null-versus-absent, and changes with the message', () => {
  const digest = (body: unknown) => op.digest(op.parse(body, NOW));
  const a = digest({ message: 'hello', chainId: 1, idempotencyKey: 'x' });
  assert.equal(digest({ idempotencyKey: 'x', chainId: 1, message: 'hello' }), a);
  assert.equal(digest({ chainId: 1, message: 'hello' }), a, 'the idempotency key is not part of it');
  assert.equal(digest(JSON.parse('{"chainId":1,"message":"hello"}')), a);
  assert.notEqual(digest({ message: 'hello' }), a);
  assert.equal(digest({ message: 'hello', chainId: null }), digest({ message: 'hello' }));
  assert.notEqual(digest({ message: 'hello!', chainId: 1 }), a);
  assert.notEqual(digest({ message: 'hello', chainId: 2 }), a);
  assert.equal(digest({ messageHex: '0xABCD' }), digest({ messageHex: '0xabcd' }));
  // Text and bytes are different requests (they are reviewed differently), even for the same bytes.
  assert.notEqual(digest({ messageHex: stringToHex('hello') }), digest({ message: 'hello' }));
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 50, unit: 'grapheme' }).filter((s) => !/wants/i.test(s)),
      fc.integer({ min: 1, max: 1000 }),
      (message, chainId) => {
        assert.equal(digest({ message, chainId }), digest({ chainId, message }));
      },
    ),
  );
});

test('encode/decode: every parsed request round-trips exactly; garbage is an INTERNAL error', () => {
  const body = fc.oneof(
    fc.record(
      {
        message: fc
          .string({ minLength: 1, maxLength: 100, unit: 'grapheme' })
          .filter((s) => !/wants/i.test(s)),
        chainId: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
        idempotencyKey: fc.option(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/)),
      },
      { requiredKeys: ['message'] },
    ),
    fc.record(
      { messageHex: fc.uint8Array({ minLength: 1, maxLength: 100 }).map((b) => bytesToHex(b)) },
      { requiredKeys: ['messageHex'] },
    ),
  );
  fc.assert(
    fc.property(body, (b) => {
      const parsed = op.parse(b, NOW);
      assert.deepEqual(op.decode(op.encode(parsed)), parsed);
    }),
    { numRuns: 300 },
  );
  for (const message of [SPEC_EXAMPLE, SPEC_EXAMPLE_OURS]) {
    const parsed = op.parse({ message, chainId: 1 }, NOW);
    assert.deepEqual(op.decode(op.encode(parsed)), parsed);
  }
  const utf8 = (s: string) => new TextEncoder().encode(s);
  for (const bad of [
    utf8('not json'),
    utf8('{}'),
    utf8('{"v":2,"message":"a"}'),
    utf8('{"v":1,"message":""}'),
    utf8('{"v":1,"message":"a","extra":1}'),
    new Uint8Array([0xff, 0xfe]),
  ])
    assert.throws(
      () => op.decode(bad),
      (err: unknown) => isWardenError(err, 'INTERNAL'),
    );
});

test('execute signs only the judged message with the judged key, and never returns a bad signature', async () => {
  const parsed = op.parse({ message: 'judged' }, NOW);
  const intent = await intentOf(parsed);
  const other = op.parse({ message: 'not judged' }, NOW);
  const signer = testSigner(PRIVATE_KEY);
  const mismatch = op.sign(other, intent, signer);
  assert.deepEqual(mismatch.status === 'failed' && mismatch.code, 'INTERNAL');
  const forged: Intent = { ...intent, detail: { ...intent.detail, messageHash: hashMessage('other') } };
  assert.equal(op.sign(parsed, forged, signer).status, 'failed');
  assert.equal(signer.calls, 0);

  const anotherKey = testSigner('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
  const rotated = op.sign(parsed, intent, anotherKey);
  assert.deepEqual(rotated.status === 'failed' && rotated.code, 'KEY_NOT_ACTIVE');
  assert.equal(anotherKey.calls, 0);

  const flipped = testSigner(PRIVATE_KEY, (sig) => {
    sig[0] = sig[0] === 0 ? 1 : 0; // the wrong recovery bit: the signature recovers another address
  });
  const bad = op.sign(parsed, intent, flipped);
  assert.deepEqual(bad.status === 'failed' && bad.code, 'SIGNING_FAILED');

  const sealed: EvmDigestSigner = {
    address: LOWER,
    signDigest: () => {
      throw new WardenError('VAULT_SEALED', 'sealed');
    },
  };
  const refused = op.sign(parsed, intent, sealed);
  assert.deepEqual(refused.status === 'failed' && refused.code, 'VAULT_SEALED');
});

test('the review shows exactly what is signed, with hidden characters made visible in the line', async () => {
  const text = 'pay\u202e to bob\nnext line';
  const parsed = op.parse({ message: text }, NOW);
  const review = op.review(parsed, await intentOf(parsed), publicKeys(ADDRESS));
  assert.equal(review.payload.text, text, 'the payload keeps the exact text');
  assert.equal(review.payload.messageHex, stringToHex(text));
  assert.equal(review.payload.signedDigest, hashMessage(text));
  assert.equal(review.payload.signingAddress, LOWER);
  assert.ok((review.payload.warnings as string[]).some((w) => /invisible or control characters/.test(w)));
  assert.ok(review.summary.includes('\\u{202e}'), review.summary);
  assert.ok(!/[\n\u202e]/.test(review.summary), 'the summary is one visible line');
  const long = op.parse({ message: 'x'.repeat(500) }, NOW);
  const longReview = op.review(long, await intentOf(long), publicKeys(ADDRESS));
  assert.ok(longReview.summary.length < 300 && longReview.summary.includes('…'));
  const bytes = op.parse({ messageHex: `0x${'ab'.repeat(40)}` }, NOW);
  const bytesReview = op.review(bytes, await intentOf(bytes), publicKeys(ADDRESS));
  assert.equal(bytesReview.summary, `sign 40 raw bytes 0x${'ab'.repeat(16)}… with ${LOWER}`);
  const noKey = op.review(bytes, await intentOf(bytes), publicKeys(null));
  assert.equal(noKey.payload.signingAddress, 'none');
  assert.equal(getAddress(LOWER), ADDRESS);
});
