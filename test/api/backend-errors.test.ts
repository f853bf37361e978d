import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { httpStatusFor, withLegacyCode } from '../../src/api/http/errors.ts';
import {
  BACKEND_ERROR_CODES,
  ERROR_CODES,
  type ErrorCode,
  LEGACY_BACKEND_CODES,
} from '../../src/core/errors.ts';
import { ALL_ERROR_CODES, MODULES, moduleErrorCode } from '../../src/protocols/registry.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { listenOnLoopback } from '../helpers/peer.ts';

/**
 * The protocol-neutral backend codes over HTTP (core/errors.ts): BACKEND_UNREACHABLE,
 * BACKEND_REJECTED and OUTCOME_UNKNOWN with `details.protocol`, the backend's own words, and for one
 * release the code each replaced in `details.legacyCode`; the deprecated codes still read back.
 */
const POLICY = `
version: 1
name: backend-errors
risk: { tolerance: high }
new_destination: allow
rules:
  - { id: sends, match: { protocol: evm, action: send, chain_id: 42161 }, effect: allow }
`;
const TO = '0x2222222222222222222222222222222222222222';
const FEES = { maxFeePerGas: '2000000000', maxPriorityFeePerGas: '1' };

/** A scripted JSON-RPC node on loopback: chain 42161, nonce 0, and a chosen answer to the send. */
async function scriptedNode(send: () => { status: number; body: string }) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      const reply = (result: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
      };
      if (method === 'eth_chainId') return reply('0xa4b1');
      if (method === 'eth_getTransactionCount') return reply('0x0');
      const answer = send();
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body.replace('"ID"', String(id)));
    });
  });
  return listenOnLoopback(server);
}

describe('backend error codes', () => {
  test('the neutral codes and their deprecated aliases are all 502; legacy codes are named once', () => {
    for (const code of [...BACKEND_ERROR_CODES, 'RPC_ERROR', 'RPC_UNREACHABLE'] as const) {
      assert.ok(ERROR_CODES.includes(code), code);
      assert.equal(httpStatusFor(code), 502, code);
    }
    assert.deepEqual(LEGACY_BACKEND_CODES, {
      BACKEND_REJECTED: 'RPC_ERROR',
      BACKEND_UNREACHABLE: 'RPC_UNREACHABLE',
    });
    assert.deepEqual(withLegacyCode('BACKEND_REJECTED', { a: 1 }), { a: 1, legacyCode: 'RPC_ERROR' });
    // An error that names its own legacy code keeps it (OUTCOME_UNKNOWN replaced either).
    assert.deepEqual(withLegacyCode('OUTCOME_UNKNOWN', { legacyCode: 'RPC_UNREACHABLE' }), {
      legacyCode: 'RPC_UNREACHABLE',
    });
    assert.deepEqual(withLegacyCode('OUTCOME_UNKNOWN', {}), {});
    assert.deepEqual(withLegacyCode('RPC_ERROR', {}), {}, 'a legacy code has no legacy code');
    assert.deepEqual(withLegacyCode('LIMIT_EXCEEDED', { x: null }), { x: null });
  });

  test('a module’s own codes carry their declared HTTP status; core and modules never share a code', () => {
    assert.equal(httpStatusFor('FEE_TOO_HIGH'), 400);
    assert.equal(httpStatusFor('NOTHING_TO_SIGN'), 400);
    for (const m of MODULES)
      for (const [code, declared] of Object.entries(m.errorCodes ?? {})) {
        assert.equal(moduleErrorCode(code), declared, code);
        assert.equal(httpStatusFor(code as ErrorCode), declared.httpStatus, code);
        assert.ok(!(ERROR_CODES as readonly string[]).includes(code), `${code} is not also a core code`);
      }
    assert.equal(new Set(ALL_ERROR_CODES).size, ALL_ERROR_CODES.length);
    assert.equal(moduleErrorCode('LIMIT_EXCEEDED'), undefined, 'a core code is no module’s');
  });

  test('a node that cannot be reached while the intent is built: 502 BACKEND_UNREACHABLE, protocol evm, legacy RPC_UNREACHABLE; dry run too', async () => {
    const g = await startTestGateway({
      identities: ['alice'],
      policies: { alice: POLICY },
      evmRpc: new Map([[42161, 'http://127.0.0.1:9']]),
    });
    const token = await g.token('agent', { identity: 'alice', capabilities: ['evm:send'] });
    // Without fees the intent needs the node's estimate: the error is thrown, nothing is recorded.
    const body = { chainId: 42161, to: TO, value: '1' };
    for (const [path, payload] of [
      ['/v1/evm/send', body],
      ['/v1/dry-run', { operation: 'evm.send', request: body }],
    ] as const) {
      const r = await g.call('POST', path, { token, body: payload });
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'BACKEND_UNREACHABLE', path);
      assert.equal(r.body.error.details.protocol, 'evm');
      assert.equal(r.body.error.details.legacyCode, 'RPC_UNREACHABLE');
      assert.match(String(r.body.error.details.method), /^eth_/);
      assert.equal(r.body.error.details.origin, 'http://127.0.0.1:9');
    }
    const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM request`.execute(g.warden.store.db);
    assert.equal(Number(rows.rows[0]!.n), 0);
  });

  test('a broadcast answered by a proxy error is OUTCOME_UNKNOWN (202, still counting); a clear refusal fails and releases', async () => {
    let answer = { status: 502, body: 'Bad Gateway' };
    const url = await scriptedNode(() => answer);
    const g = await startTestGateway({
      identities: ['alice'],
      policies: { alice: POLICY },
      evmRpc: new Map([[42161, url]]),
    });
    const token = await g.token('agent', { identity: 'alice', capabilities: ['evm:send'] });
    const unknown = await g.call('POST', '/v1/evm/send', {
      token,
      body: { chainId: 42161, to: TO, value: '1', ...FEES, idempotencyKey: 'proxy-error-1' },
    });
    assert.equal(unknown.status, 202, JSON.stringify(unknown.body));
    assert.equal(unknown.body.request.status, 'unknown');
    assert.equal(unknown.body.request.error.code, 'OUTCOME_UNKNOWN');
    assert.match(unknown.body.request.result.txHash, /^0x[0-9a-f]{64}$/);

    answer = {
      status: 200,
      body: '{"jsonrpc":"2.0","id":"ID","error":{"code":-32000,"message":"insufficient funds for gas * price + value"}}',
    };
    const refused = await g.call('POST', '/v1/evm/send', {
      token,
      body: { chainId: 42161, to: TO, value: '2', ...FEES },
    });
    assert.equal(refused.status, 502, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'BROADCAST_FAILED');
    assert.equal(refused.body.error.details.request.status, 'failed');
    assert.equal(refused.body.error.details.legacyCode, undefined, 'BROADCAST_FAILED was not renamed');

    const ledger = await g.call('GET', '/v1/ledger', { token });
    assert.deepEqual(
      ledger.body.totals.map((t: { status: string; count: number }) => [t.status, t.count]).sort(),
      [
        ['released', 1],
        ['unknown', 1],
      ],
    );

    // A request recorded under a deprecated code by an earlier version still answers with it, 502.
    await sql`UPDATE request SET status = 'failed', error_code = 'RPC_ERROR' WHERE idempotency_key = 'proxy-error-1'`.execute(
      g.warden.store.db,
    );
    const replay = await g.call('POST', '/v1/evm/send', {
      token,
      body: { chainId: 42161, to: TO, value: '1', ...FEES, idempotencyKey: 'proxy-error-1' },
    });
    assert.equal(replay.status, 502, JSON.stringify(replay.body));
    assert.equal(replay.body.error.code, 'RPC_ERROR');
    assert.equal(replay.body.error.details.legacyCode, undefined);
  });
});
