import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvmDb } from '../../src/protocols/evm/nonces.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { fund, HARDHAT_CHAIN_ID, startHardhat } from '../helpers/hardhat.ts';

const POLICY = `
version: 1
name: evm
risk: { tolerance: high }
new_destination: allow
rules:
  - { id: sends, match: { protocol: evm, action: send, chain_id: ${HARDHAT_CHAIN_ID} }, effect: allow }
`;

test('EVM nonces follow the sending address: after a seed rotation the new address starts at 0', async () => {
  const node = await startHardhat();
  const g = await startTestGateway({
    identities: ['treasury'],
    policies: { treasury: POLICY },
    evmRpc: new Map([[HARDHAT_CHAIN_ID, node.rpcUrl]]),
  });
  const token = await g.token('agent', { identity: 'treasury', capabilities: ['evm:send'] });
  const send = (i: number) =>
    g.call('POST', '/v1/evm/send', {
      token,
      body: {
        chainId: HARDHAT_CHAIN_ID,
        to: '0x2222222222222222222222222222222222222222',
        value: String(1000 + i),
      },
    });
  await fund(node.rpcUrl, g.warden.showIdentity('treasury').evm!.address, 10n ** 18n);
  for (let i = 0; i < 3; i++) assert.equal((await send(i)).body.request.result.nonce, i);
  const rotated = await g.warden.rotate('treasury', 'seed');
  await fund(node.rpcUrl, rotated.evm!.address, 10n ** 18n);
  const after = await send(3);
  assert.equal(after.status, 200, JSON.stringify(after.body));
  assert.equal(after.body.request.result.from.toLowerCase(), rotated.evm!.address.toLowerCase());
  assert.equal(after.body.request.result.nonce, 0, 'not the old address sequence (3)');
});

test('an unreachable node before signing releases the budget and burns no nonce', async () => {
  const g = await startTestGateway({
    identities: ['treasury'],
    policies: { treasury: POLICY },
    // Chain 42161 is served by a port where nothing listens: the chain check fails before signing.
    evmRpc: new Map([[HARDHAT_CHAIN_ID, 'http://127.0.0.1:9']]),
  });
  const token = await g.token('agent', { identity: 'treasury', capabilities: ['evm:send'] });
  const r = await g.call('POST', '/v1/evm/send', {
    token,
    body: {
      chainId: HARDHAT_CHAIN_ID,
      to: '0x2222222222222222222222222222222222222222',
      value: '1',
      maxFeePerGas: '2000000000',
      maxPriorityFeePerGas: '1',
    },
  });
  assert.equal(r.status, 502, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'BACKEND_UNREACHABLE');
  // The code it replaced, for callers that still match on it (until 0.3; core/errors.ts).
  assert.equal(r.body.error.details.legacyCode, 'RPC_UNREACHABLE');
  assert.equal(r.body.error.details.request.error.code, 'BACKEND_UNREACHABLE');
  const ledger = await g.call('GET', '/v1/ledger', { token });
  assert.deepEqual(
    ledger.body.totals.map((t: { status: string }) => t.status),
    ['released'],
  );
  const nonces = await (g.warden.store.db as unknown as EvmDb).selectFrom('evm_nonce').selectAll().execute();
  assert.deepEqual(nonces, []);
});
