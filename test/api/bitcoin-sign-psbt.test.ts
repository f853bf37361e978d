/**
 * bitcoin.sign_psbt end to end: over HTTP, against a real home, PSBTs built from the identity's
 * xpubs (as an agent's wallet would): the default template's tiers, opt-in facets allowed only
 * by a rule naming them, refusals that leave no row, and what is signed finalizes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Transaction } from '@scure/btc-signer';
import { sql } from 'kysely';
import { verifySignedInputs } from '../../src/protocols/bitcoin/sign-psbt/verify.ts';
import { POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { type IdentityPsbt, identityPsbt } from '../protocols/bitcoin/identity-psbt.ts';

const ALLOW_PSBTS = `
version: 1
name: psbts
risk: { tolerance: high }
new_destination: allow
rules:
  - id: psbts
    match: { protocol: bitcoin, action: sign_psbt }
    effect: allow
`;
const ALLOW_SIGHASH_NONE = `${ALLOW_PSBTS}  - id: blank-cheques
    match: { protocol: bitcoin, action: sign_psbt, sighash: none }
    effect: allow
`;
const ALLOW_UNPROVEN = `${ALLOW_PSBTS}  - id: trust-witness-utxo
    match: { protocol: bitcoin, action: sign_psbt, amount_proof: witness_utxo }
    effect: allow
`;

async function setup(policy: string) {
  const g = await startTestGateway({ identities: ['alice'], policies: { alice: policy } });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['bitcoin:sign_psbt'] });
  const operator = await g.token('operator');
  const keys = g.warden.showIdentity('alice');
  const psbt = (spec: Partial<IdentityPsbt>) =>
    identityPsbt(keys, { purpose: 84, amount: 100_000n, pay: 600n, fee: 300n, version: 0, ...spec });
  const rows = async () =>
    Number(
      (await sql<{ n: number }>`SELECT count(*) AS n FROM request`.execute(g.warden.store.db)).rows[0]!.n,
    );
  return { g, agent, operator, psbt, rows };
}

function signedOk(result: { psbt: string; signedInputs: number[] }) {
  const bytes = Buffer.from(result.psbt, 'base64');
  assert.ok(verifySignedInputs(bytes, result.signedInputs));
  const tx = Transaction.fromPSBT(bytes);
  tx.finalize();
  assert.ok(tx.extract().length > 0);
}

describe('bitcoin.sign_psbt over HTTP', () => {
  test('default template: below 1,000 sat signed at once; 1,000 sat and more held, reviewed, signed on approval', async () => {
    const { g, agent, operator, psbt } = await setup(POLICY_TEMPLATES['guidelines-default']!);
    const small = await g.call('POST', '/v1/bitcoin/sign-psbt', {
      token: agent,
      body: { psbt: psbt({ pay: 600n, fee: 300n }) },
    });
    assert.equal(small.status, 200, JSON.stringify(small.body));
    assert.equal(small.body.request.status, 'done');
    signedOk(small.body.request.result);

    const held = await g.call('POST', '/v1/bitcoin/sign-psbt', {
      token: agent,
      body: { psbt: psbt({ pay: 50_000n, fee: 500n, purpose: 86, version: 2 }) },
    });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    const id = held.body.request.requestId;
    const shown = (await g.call('GET', `/v1/approvals/${id}`, { token: operator })).body.approval;
    assert.match(shown.summary, /paying 50,000 sat to bcrt1q/);
    assert.match(shown.summary, /fee 500 sat/);
    const approved = await g.call('POST', `/v1/approvals/${id}/approve`, {
      token: operator,
      body: { intentHash: shown.intentHash },
    });
    assert.equal(approved.body.request.status, 'done', JSON.stringify(approved.body));
    signedOk(approved.body.request.result);
  });

  test('SIGHASH_NONE is denied unless a rule names sighash: none', async () => {
    for (const [policy, allowed] of [
      [ALLOW_PSBTS, false],
      [ALLOW_SIGHASH_NONE, true],
    ] as const) {
      const { g, agent, psbt } = await setup(policy);
      const r = await g.call('POST', '/v1/bitcoin/sign-psbt', {
        token: agent,
        body: { psbt: psbt({ sighashType: 0x02 }) },
      });
      if (allowed) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        signedOk(r.body.request.result);
      } else {
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.request?.result ?? null, null);
      }
      await g.close();
    }
  });

  test('a segwit v0 amount without its previous transaction is denied unless a rule names amount_proof: witness_utxo', async () => {
    for (const [policy, allowed] of [
      [ALLOW_PSBTS, false],
      [ALLOW_UNPROVEN, true],
    ] as const) {
      const { g, agent, psbt } = await setup(policy);
      const r = await g.call('POST', '/v1/bitcoin/sign-psbt', {
        token: agent,
        body: { psbt: psbt({ witnessUtxoOnly: true }) },
      });
      assert.equal(r.status, allowed ? 200 : 403, JSON.stringify(r.body));
      await g.close();
    }
  });

  test('a rule caps the fee and the fee rate (max_fee, max_fee_rate): above either, nothing is signed', async () => {
    const capped = ALLOW_PSBTS.replace(
      '    effect: allow\n',
      '    effect: allow\n    max_fee: 500\n    max_fee_rate: 4\n',
    );
    assert.notEqual(capped, ALLOW_PSBTS);
    const { g, agent, psbt } = await setup(capped);
    const sign = (spec: Partial<IdentityPsbt>) =>
      g.call('POST', '/v1/bitcoin/sign-psbt', { token: agent, body: { psbt: psbt(spec) } });
    // About 140 vB: 300 sat is about 2.1 sat/vB, 550 sat over the fee cap, 500 sat about 3.6 sat/vB.
    const within = await sign({ fee: 300n });
    assert.equal(within.status, 200, JSON.stringify(within.body));
    for (const [fee, shown] of [
      [550n, '550'],
      [2_000n, '2,000'],
    ] as const) {
      const r = await sign({ fee });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'LIMIT_EXCEEDED');
      assert.match(
        r.body.error.message,
        new RegExp(`fee ${shown} sat is above the max_fee of rule psbts \\(500 sat\\)`),
      );
      assert.equal(r.body.error.details.request.result, null, 'nothing signed');
    }
    const rateCapped = ALLOW_PSBTS.replace('    effect: allow\n', '    effect: allow\n    max_fee_rate: 2\n');
    const second = await setup(rateCapped);
    const r = await second.g.call('POST', '/v1/bitcoin/sign-psbt', {
      token: second.agent,
      body: { psbt: second.psbt({ fee: 300n }) },
    });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'LIMIT_EXCEEDED');
    assert.match(r.body.error.message, /fee rate 3 sat\/vB is above the max_fee_rate of rule psbts/);
    await g.close();
    await second.g.close();
  });

  test('what the analysis refuses carries its code, signs nothing and leaves no row', async () => {
    const { g, agent, psbt, rows } = await setup(ALLOW_PSBTS);
    const before = await rows();
    for (const [body, code] of [
      [{ psbt: psbt({ pay: 100n }) }, 'DUST_OUTPUT'],
      [{ psbt: psbt({ amount: 1_000_000n, pay: 1_000n, fee: 900_000n }) }, 'FEE_TOO_HIGH'],
      [{ psbt: 'cHNidP8=' }, 'INVALID_REQUEST'],
    ] as const) {
      const r = await g.call('POST', '/v1/bitcoin/sign-psbt', { token: agent, body });
      assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
      assert.equal(r.status, 400, JSON.stringify(r.body));
    }
    assert.equal(await rows(), before);
  });
});
