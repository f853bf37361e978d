/**
 * The facts risk reads reach it through the one path: the intent's own signals, and whether a
 * destination was paid before, from the snapshot the decision is made with (no other read). They
 * are part of the stored intent, so the review an approver sees, and its hash, cover them; an
 * intent stored before signals existed decodes as it was.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Intent } from '../../src/core/intent.ts';
import { assessAndEvaluate } from '../../src/gateway/admission.ts';
import { intentFromJson, intentText, reviewDocument, reviewHash } from '../../src/gateway/intent-codec.ts';
import { POLICY_LANGUAGE } from '../../src/protocols/policy-language.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const PAYEE = 'bcrt1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
const POLICY = POLICY_LANGUAGE.parse(
  'version: 1\nname: t\nrisk: { tolerance: high }\nrules:\n  - { id: all, effect: allow }\n',
);

const send: Intent = {
  protocol: 'bitcoin',
  action: 'send',
  identity: 'alice',
  asset: 'btc',
  amount: 50_000n,
  destinations: [PAYEE],
  maxFee: 300n,
  feeAsset: 'btc',
  payloadDigest: 'ab'.repeat(32),
  idempotencyKey: null,
  facets: { network: 'regtest', max_fee: 300n, fee_estimate_msat_vb: null },
  detail: {},
  signals: {
    spendsUnconfirmed: false,
    minCoinDepth: 3,
    smallCoins: 0,
    paysOwnAddress: false,
    highFees: false,
  },
};

function decide(intent: Intent, known: string[]) {
  let reads = 0;
  const decision = assessAndEvaluate(
    intent,
    POLICY,
    () => {
      reads++;
      return { entries: [], knownDestinations: new Set(known) };
    },
    NOW,
  );
  assert.equal(reads, 1, 'one snapshot, shared by risk and policy');
  return decision.risk.risks.map((r) => r.id);
}

test('a destination paid before makes address reuse apply; a fresh one does not', () => {
  assert.ok(decide(send, [PAYEE]).includes('btc.address-reuse'));
  assert.ok(decide(send, [PAYEE.toUpperCase()]).includes('btc.address-reuse'), 'compared normalized');
  assert.ok(!decide(send, []).includes('btc.address-reuse'));
  assert.ok(decide(send, []).includes('btc.reorg-6conf'), 'the intent’s own facts: coins 3 deep');
});

test('a request without destinations gets no paidBefore and keeps its own signals only', () => {
  const { signals: _none, ...unsigned } = send;
  const note: Intent = {
    ...unsigned,
    protocol: 'nostr',
    action: 'sign_event',
    asset: 'nostr:event',
    amount: 0n,
    destinations: [],
  };
  assert.deepEqual(decide(note, [PAYEE]), decide(note, []));
});

test('signals are stored with the intent, hashed into the review, and old intents decode without them', () => {
  const text = intentText(send).text;
  const back = intentFromJson(text);
  assert.deepEqual(back.signals, send.signals);
  assert.deepEqual(back.facets, send.facets);
  const review = (i: Intent) => reviewHash(reviewDocument('bitcoin.send', i, { outputs: [] }));
  assert.equal(review(back), review(send));
  assert.notEqual(review({ ...send, signals: { ...send.signals, highFees: true } }), review(send));

  const { signals: _gone, ...before } = send;
  const old = intentFromJson(intentText(before as Intent).text);
  assert.equal('signals' in old, false);
  assert.equal(review(old), review(before as Intent));
  // What risk may not read (text) is not kept.
  const odd = intentFromJson(text.replace('"highFees":false', '"highFees":"yes"'));
  assert.equal(odd.signals?.highFees, undefined);
});
