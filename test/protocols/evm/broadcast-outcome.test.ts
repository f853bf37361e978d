import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWardenError, WardenError } from '../../../src/core/errors.ts';
import { certainlyNotBroadcast } from '../../../src/protocols/evm/broadcast-outcome.ts';

const send = (rpcCode: number | null, rpcMessage: string | null) =>
  new WardenError('BACKEND_REJECTED', 'the node refused eth_sendRawTransaction', {
    protocol: 'evm',
    method: 'eth_sendRawTransaction',
    httpStatus: 200,
    rpcCode,
    rpcMessage,
    legacyCode: 'RPC_ERROR',
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
      new WardenError('BACKEND_UNREACHABLE', 'down', {
        protocol: 'evm',
        method: 'eth_chainId',
        reason: 'connect',
      }),
    ],
    [
      'chain check refused',
      new WardenError('BACKEND_REJECTED', 'malformed', {
        protocol: 'evm',
        method: 'eth_chainId',
        reason: 'malformed',
      }),
    ],
  ];
  for (const [label, err] of never) assert.equal(certainlyNotBroadcast(err), true, label);
  const maybe: [string, unknown][] = [
    ['already known', send(-32000, 'already known')],
    ['nonce too low', send(-32000, 'nonce too low')],
    ['replacement underpriced', send(-32000, 'replacement transaction underpriced')],
    [
      'HTTP 502 without JSON-RPC error',
      new WardenError('BACKEND_REJECTED', 'HTTP 502', { method: 'eth_sendRawTransaction', httpStatus: 502 }),
    ],
    [
      'malformed answer',
      new WardenError('BACKEND_REJECTED', 'malformed', {
        method: 'eth_sendRawTransaction',
        reason: 'malformed',
      }),
    ],
    [
      'timeout during the send',
      new WardenError('BACKEND_UNREACHABLE', 'timeout', {
        method: 'eth_sendRawTransaction',
        reason: 'timeout',
      }),
    ],
    [
      'connection broke during the send',
      new WardenError('BACKEND_UNREACHABLE', 'reset', {
        method: 'eth_sendRawTransaction',
        reason: 'connect',
      }),
    ],
    ['unknown message', send(-32603, 'internal error')],
    ['not a WardenError', new Error('boom')],
    // The send's own verdict that it may have left is never certain, whatever it wraps.
    [
      'outcome unknown, wrapping a refusal text',
      new WardenError('OUTCOME_UNKNOWN', 'maybe sent', {
        ...send(-32000, 'insufficient funds').details,
        backendCode: 'BACKEND_REJECTED',
      }),
    ],
    [
      'outcome unknown of the chain check',
      new WardenError('OUTCOME_UNKNOWN', 'maybe sent', { method: 'eth_chainId' }),
    ],
    // The deprecated codes are no longer raised; read as they stand, they are never certain.
    [
      'legacy RPC_ERROR refusal',
      new WardenError('RPC_ERROR', 'old', {
        method: 'eth_sendRawTransaction',
        rpcCode: -32000,
        rpcMessage: 'insufficient funds',
      }),
    ],
    [
      'legacy RPC_UNREACHABLE chain check',
      new WardenError('RPC_UNREACHABLE', 'old', { method: 'eth_chainId' }),
    ],
  ];
  for (const [label, err] of maybe) assert.equal(certainlyNotBroadcast(err), false, label);
});

/** The rule as it stood with RPC_ERROR / RPC_UNREACHABLE, before the neutral codes (reference). */
function before(code: string, details: Record<string, unknown>): boolean {
  const REJECTED =
    /insufficient funds|underpriced|fee too low|max fee per gas less than|intrinsic gas|exceeds block gas limit|invalid sender|invalid signature|invalid chain ?id|oversized data|tip higher than/i;
  const MAYBE_SENT = /already known|known transaction|nonce too low|replacement/i;
  const { method, rpcCode, rpcMessage } = details;
  if (code === 'CHAIN_MISMATCH') return true;
  if (method === 'eth_chainId' && (code === 'RPC_ERROR' || code === 'RPC_UNREACHABLE')) return true;
  if (code !== 'RPC_ERROR' || method !== 'eth_sendRawTransaction') return false;
  if (typeof rpcCode !== 'number' || typeof rpcMessage !== 'string') return false;
  return REJECTED.test(rpcMessage) && !MAYBE_SENT.test(rpcMessage);
}

test('exactly as strict as before the rename: the new code of every old error gets the old answer', () => {
  const renamed: Record<string, string> = {
    RPC_ERROR: 'BACKEND_REJECTED',
    RPC_UNREACHABLE: 'BACKEND_UNREACHABLE',
  };
  const words = fc.constantFrom(
    'insufficient funds',
    'transaction underpriced',
    'replacement transaction underpriced',
    'already known',
    'nonce too low',
    'fee too low',
    'INVALID CHAINID',
    'oversized data',
    'internal error',
    '',
  );
  fc.assert(
    fc.property(
      fc.constantFrom(
        'RPC_ERROR',
        'RPC_UNREACHABLE',
        'CHAIN_MISMATCH',
        'INVALID_ARGUMENT',
        'NET_UNREACHABLE',
      ),
      fc.record(
        {
          method: fc.constantFrom('eth_sendRawTransaction', 'eth_chainId', 'eth_getTransactionCount', 'x'),
          rpcCode: fc.oneof(fc.integer({ min: -33000, max: 0 }), fc.constant(null), fc.constant('1')),
          rpcMessage: fc.oneof(
            fc.tuple(words, fc.string({ maxLength: 8 }), words).map(([a, b, c]) => `${a}${b}${c}`),
            fc.constant(null),
            fc.constant(3),
          ),
        },
        { requiredKeys: [] },
      ),
      (oldCode, details) => {
        const err = new WardenError((renamed[oldCode] ?? oldCode) as never, 'x', {
          ...(details as Record<string, never>),
          protocol: 'evm',
        });
        assert.equal(
          certainlyNotBroadcast(err),
          before(oldCode, details),
          JSON.stringify([oldCode, details]),
        );
        // Wrapped as the send's own OUTCOME_UNKNOWN, nothing is ever certain.
        const wrapped = new WardenError('OUTCOME_UNKNOWN', 'x', { ...err.details, backendCode: err.code });
        assert.equal(certainlyNotBroadcast(wrapped), false);
        assert.ok(isWardenError(wrapped, 'OUTCOME_UNKNOWN'));
      },
    ),
    { numRuns: 2000 },
  );
});
