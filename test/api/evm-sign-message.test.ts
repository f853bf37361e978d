/**
 * evm.sign_message end to end: over HTTP, against a real home, with the default template's hold,
 * an operator's review of the Sign-In with Ethereum fields, and the signature checked by viem.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Hex, hashMessage, verifyMessage } from 'viem';
import { createSiweMessage } from 'viem/siwe';
import { POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { startTestGateway } from '../helpers/gateway.ts';

/** Allows message signatures outright, except that it does not name message_type hash32. */
const ALLOW_MESSAGES = `
version: 1
name: messages
risk: { tolerance: high }
rules:
  - id: messages
    match: { protocol: evm, action: sign_message }
    effect: allow
`;

/** The same, and 32-byte payloads allowed by name. */
const ALLOW_HASH32 = `${ALLOW_MESSAGES}  - id: digests
    match: { protocol: evm, action: sign_message, message_type: hash32 }
    effect: allow
`;

async function setup(policy: string) {
  const g = await startTestGateway({ identities: ['alice'], policies: { alice: policy } });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['evm:sign_message'] });
  const operator = await g.token('operator');
  const address = g.warden.vault.getIdentity('alice').evm!.address as Hex;
  return { g, agent, operator, address };
}

function siwe(address: Hex, expiresInMs = 10 * 60 * 1000): string {
  const now = new Date();
  return createSiweMessage({
    address,
    chainId: 42161,
    domain: 'app.example.com',
    nonce: 'k3Jc7mN2pQ9x',
    uri: 'https://app.example.com/login',
    version: '1',
    issuedAt: now,
    expirationTime: new Date(now.getTime() + expiresInMs),
    statement: 'Sign in to Example.',
  });
}

describe('evm.sign_message over HTTP', () => {
  test('a SIWE message is held by the default template, shown field by field, and signed after approval', async () => {
    const { g, agent, operator, address } = await setup(POLICY_TEMPLATES['guidelines-default']!);
    try {
      const message = siwe(address);
      const held = await g.call('POST', '/v1/evm/sign-message', { token: agent, body: { message } });
      assert.equal(held.status, 202, JSON.stringify(held.body));
      const id = held.body.request.requestId;
      const shown = (await g.call('GET', `/v1/approvals/${id}`, { token: operator })).body.approval;
      assert.equal(shown.review.operation, 'evm.sign_message');
      assert.match(shown.summary, /app\.example\.com/);
      assert.match(shown.summary, /42161/);
      const text = JSON.stringify(shown.review.payload);
      for (const field of ['app.example.com', 'https://app.example.com/login', 'k3Jc7mN2pQ9x'])
        assert.ok(text.includes(field), `the review shows ${field}`);
      const approved = await g.call('POST', `/v1/approvals/${id}/approve`, {
        token: operator,
        body: { intentHash: shown.intentHash },
      });
      assert.equal(approved.body.request.status, 'done', JSON.stringify(approved.body));
      const { signature, messageHash } = approved.body.request.result;
      assert.equal(messageHash, hashMessage(message));
      assert.equal(await verifyMessage({ address, message, signature }), true);
    } finally {
      await g.close();
    }
  });

  test('a 32-byte payload is denied unless a rule allows message_type hash32 by name', async () => {
    const digest = `0x${'ab'.repeat(32)}` as Hex;
    for (const [policy, status] of [
      [ALLOW_MESSAGES, 403],
      [ALLOW_HASH32, 200],
    ] as const) {
      const { g, agent, address } = await setup(policy);
      try {
        const r = await g.call('POST', '/v1/evm/sign-message', {
          token: agent,
          body: { messageHex: digest },
        });
        assert.equal(r.status, status, JSON.stringify(r.body));
        if (status === 200) {
          const { signature } = r.body.request.result;
          assert.equal(await verifyMessage({ address, message: { raw: digest }, signature }), true);
        } else {
          assert.equal(r.body.error.code, 'NO_MATCHING_RULE');
        }
      } finally {
        await g.close();
      }
    }
  });

  test('a SIWE message for another address, or already expired, is refused before anything is kept', async () => {
    const { g, agent, address } = await setup(ALLOW_MESSAGES);
    try {
      const other = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' as Hex;
      for (const message of [siwe(other), siwe(address, -60_000)]) {
        const r = await g.call('POST', '/v1/evm/sign-message', { token: agent, body: { message } });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.error.code, 'INVALID_REQUEST');
      }
      const rows = await g.warden.store.db.selectFrom('request').select('id').execute();
      assert.equal(rows.length, 0, 'a refused message leaves no request');
    } finally {
      await g.close();
    }
  });

  test('the token needs the evm:sign_message capability: evm:send is not enough', async () => {
    const { g, address } = await setup(ALLOW_MESSAGES);
    try {
      const sender = await g.token('agent', { identity: 'alice', capabilities: ['evm:send'] });
      const r = await g.call('POST', '/v1/evm/sign-message', {
        token: sender,
        body: { message: siwe(address) },
      });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'FORBIDDEN');
    } finally {
      await g.close();
    }
  });
});
