import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WardenError } from '../../../src/core/errors.ts';
import { certainlyNotBroadcast } from '../../../src/protocols/evm/broadcast-outcome.ts';

const send = (rpcCode: number | null, rpcMessage: string | null) =>
  new WardenError('RPC_ERROR', 'the node refused eth_sendRawTransaction', {
    method: 'eth_sendRawTransaction',
    httpStatus: 200,
    rpcCode,
    rpcMessage,
  });

test('only a clear refusal of the transaction counts as "never broadcast"', () => {
  const never: [string, unknown][] = [
    ['insufficient funds', send(-32000, 'insufficient funds for gas * price + value')],
    ['underpriced', send(-32000, 'transaction underpriced')],
    ['below base fee', send(-32000, 'max fee per gas less than block base fee')],
    ['intrinsic gas', send(-32000, 'intrinsic gas too low')],
    ['chain mismatch before sending', new WardenError('CHAIN_MISMATCH', 'wrong chain', {})],
    [
      'chain check unreachable',
      new WardenError('RPC_UNREACHABLE', 'down', { method: 'eth_chainId', reason: 'connect' }),
    ],
  ];
  for (const [label, err] of never) assert.equal(certainlyNotBroadcast(err), true, label);
  const maybe: [string, unknown][] = [
    ['already known', send(-32000, 'already known')],
    ['nonce too low', send(-32000, 'nonce too low')],
    ['replacement underpriced', send(-32000, 'replacement transaction underpriced')],
    [
      'HTTP 502 without JSON-RPC error',
      new WardenError('RPC_ERROR', 'HTTP 502', { method: 'eth_sendRawTransaction', httpStatus: 502 }),
    ],
    [
      'malformed answer',
      new WardenError('RPC_ERROR', 'malformed', { method: 'eth_sendRawTransaction', reason: 'malformed' }),
    ],
    [
      'timeout during the send',
      new WardenError('RPC_UNREACHABLE', 'timeout', { method: 'eth_sendRawTransaction', reason: 'timeout' }),
    ],
    [
      'connection broke during the send',
      new WardenError('RPC_UNREACHABLE', 'reset', { method: 'eth_sendRawTransaction', reason: 'connect' }),
    ],
    ['unknown message', send(-32603, 'internal error')],
    ['not a WardenError', new Error('boom')],
  ];
  for (const [label, err] of maybe) assert.equal(certainlyNotBroadcast(err), false, label);
});
