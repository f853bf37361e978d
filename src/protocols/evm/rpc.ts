import type { Hex } from 'viem';
import { type ErrorCode, type ErrorDetails, isWardenError, WardenError } from '../../core/errors.ts';
import { type Net, readTextLimited, safeOrigin } from '../../net/http.ts';
import { certainlyNotBroadcast } from './broadcast-outcome.ts';
import type { EvmFees } from './intent.ts';
import { serializedChainId, transactionHash } from './transaction.ts';

/**
 * A minimal Ethereum JSON-RPC client over `net.fetch`. Every answer is treated as hostile: types,
 * ids and sizes are checked, and nothing of the node's reply reaches a caller unsanitized.
 *
 * Errors are the protocol-neutral backend codes (core/errors.ts), with `details.protocol: 'evm'`
 * and `details.legacyCode`, the code this client raised before them (until 0.3):
 * - the node answered with a JSON-RPC error or nonsense → BACKEND_REJECTED (legacy RPC_ERROR;
 *   details: method, rpcCode, rpcMessage, httpStatus, reason; never the request body or the URL
 *   path, which often holds an API key);
 * - the node could not be reached or timed out → BACKEND_UNREACHABLE (legacy RPC_UNREACHABLE);
 * - `sendRawTransaction` failed once the transaction had left, in a way that does not prove the
 *   node refused it (`certainlyNotBroadcast`) → OUTCOME_UNKNOWN, with the failure's details and
 *   `backendCode`: it may or may not have been broadcast; look it up by its hash.
 */
export interface EvmReceipt {
  transactionHash: Hex;
  status: 'success' | 'reverted';
  blockNumber: bigint;
  gasUsed: bigint;
  effectiveGasPrice: bigint | null;
  /** OP Stack chains (OP Mainnet, Base): the L1 data fee charged on top of the gas; null elsewhere. */
  l1Fee: bigint | null;
  from: string;
  to: string | null;
}

export type BlockTag = 'latest' | 'pending';

export interface EvmRpc {
  chainId(): Promise<number>;
  /** Refuses with CHAIN_MISMATCH unless the node serves `expected`. */
  assertChainId(expected: number): Promise<void>;
  getTransactionCount(address: string, block: BlockTag): Promise<number>;
  getBalance(address: string, block?: BlockTag): Promise<bigint>;
  /** {maxFeePerGas: 2 × next base fee + tip, maxPriorityFeePerGas: tip}. */
  feeEstimate(): Promise<EvmFees>;
  /** Checks that the node serves the transaction's chain, then broadcasts; returns the hash. */
  sendRawTransaction(signed: Hex): Promise<Hex>;
  getTransactionReceipt(hash: Hex): Promise<EvmReceipt | null>;
  /** Polls until the receipt exists; RECEIPT_TIMEOUT after `timeoutMs`. */
  waitForReceipt(hash: Hex, timeoutMs: number, pollMs?: number): Promise<EvmReceipt>;
}

export interface EvmRpcOptions {
  url: string;
  net: Net;
  /** Whose request this is: the net layer isolates identities from each other (Tor circuits). */
  identity: string | null;
  /** Largest reply accepted. Default 1 MiB. */
  maxResponseBytes?: number;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function sanitize(text: string, max = 200): string {
  const clean = text.replace(CONTROL, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The node answered, but not acceptably: BACKEND_REJECTED (formerly RPC_ERROR). */
function rejected(message: string, details: ErrorDetails): WardenError {
  return new WardenError('BACKEND_REJECTED', message, {
    protocol: 'evm',
    ...details,
    legacyCode: 'RPC_ERROR',
  });
}

/** The node could not be reached: BACKEND_UNREACHABLE (formerly RPC_UNREACHABLE). */
function unreachable(message: string, details: ErrorDetails, cause: unknown): WardenError {
  return new WardenError(
    'BACKEND_UNREACHABLE',
    message,
    { protocol: 'evm', ...details, legacyCode: 'RPC_UNREACHABLE' },
    { cause },
  );
}

/**
 * A broadcast that failed after the transaction left without a certain refusal: OUTCOME_UNKNOWN,
 * keeping what the node said and the code it would have had.
 */
function outcomeUnknown(method: string, err: unknown): WardenError {
  const cause = isWardenError(err) ? err : null;
  const backendCode: ErrorCode | null = cause?.code ?? null;
  // What the execution's record said before OUTCOME_UNKNOWN: the code thrown, or BROADCAST_FAILED.
  const legacyCode = cause?.details.legacyCode ?? backendCode ?? 'BROADCAST_FAILED';
  return new WardenError(
    'OUTCOME_UNKNOWN',
    `${method} failed after the transaction was sent; it may have been broadcast`,
    {
      ...(cause?.details ?? {}),
      protocol: 'evm',
      method,
      backendCode,
      legacyCode,
    },
    { cause: err },
  );
}

function malformed(method: string, what: string): WardenError {
  return rejected(`the node's answer to ${method} is malformed: ${what}`, { method, reason: 'malformed' });
}

function quantity(value: unknown, method: string, field: string): bigint {
  if (typeof value !== 'string' || !QUANTITY.test(value))
    throw malformed(method, `${field} is not a quantity`);
  return BigInt(value);
}

function smallQuantity(value: unknown, method: string, field: string): number {
  const n = quantity(value, method, field);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(method, `${field} is out of range`);
  return Number(n);
}

function checkAddress(address: string): void {
  if (!ADDRESS.test(address)) throw new WardenError('INVALID_ADDRESS', 'not a 0x address of 20 bytes');
}

function checkHash(hash: string): void {
  if (!HASH.test(hash)) throw new WardenError('INVALID_ARGUMENT', 'not a 32-byte 0x transaction hash');
}

function rpcError(method: string, error: unknown, httpStatus: number): WardenError {
  const details: ErrorDetails = { method, httpStatus };
  if (isRecord(error)) {
    details.rpcCode = Number.isSafeInteger(error.code) ? (error.code as number) : null;
    details.rpcMessage = typeof error.message === 'string' ? sanitize(error.message) : null;
  }
  return rejected(`the node refused ${method}`, details);
}

function parseReceipt(value: unknown, hash: Hex): EvmReceipt | null {
  const method = 'eth_getTransactionReceipt';
  if (value === null) return null;
  if (!isRecord(value)) throw malformed(method, 'not an object');
  if (
    typeof value.transactionHash !== 'string' ||
    value.transactionHash.toLowerCase() !== hash.toLowerCase()
  ) {
    throw malformed(method, 'receipt of another transaction');
  }
  if (value.status !== '0x1' && value.status !== '0x0') throw malformed(method, 'status');
  if (typeof value.from !== 'string' || !ADDRESS.test(value.from)) throw malformed(method, 'from');
  if (value.to !== null && (typeof value.to !== 'string' || !ADDRESS.test(value.to)))
    throw malformed(method, 'to');
  return {
    transactionHash: hash,
    status: value.status === '0x1' ? 'success' : 'reverted',
    blockNumber: quantity(value.blockNumber, method, 'blockNumber'),
    gasUsed: quantity(value.gasUsed, method, 'gasUsed'),
    effectiveGasPrice:
      value.effectiveGasPrice === undefined
        ? null
        : quantity(value.effectiveGasPrice, method, 'effectiveGasPrice'),
    l1Fee: value.l1Fee === undefined || value.l1Fee === null ? null : quantity(value.l1Fee, method, 'l1Fee'),
    from: value.from.toLowerCase(),
    to: value.to === null ? null : (value.to as string).toLowerCase(),
  };
}

function median(values: bigint[]): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor(sorted.length / 2)] ?? 0n;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createEvmRpc(options: EvmRpcOptions): EvmRpc {
  let endpoint: URL;
  try {
    endpoint = new URL(options.url);
  } catch {
    throw new WardenError('INVALID_ARGUMENT', 'the RPC URL is not a valid URL');
  }
  const origin = safeOrigin(endpoint);
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  let nextId = 1;

  async function call(method: string, params: unknown[]): Promise<unknown> {
    const id = nextId++;
    let response: Response;
    let text: string;
    try {
      response = await options.net.fetch(
        endpoint,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        },
        { identity: options.identity },
      );
      text = await readTextLimited(response, maxBytes);
    } catch (err) {
      if (err instanceof WardenError && err.details.reason === 'too_large') {
        throw rejected(`the node's answer to ${method} is too large`, { method, reason: 'too_large' });
      }
      if (err instanceof WardenError && err.code === 'NET_UNREACHABLE') {
        throw unreachable(
          `the EVM node did not answer ${method}`,
          // `sent: false`: the net layer knows nothing of the request left (broadcast-outcome.ts).
          {
            method,
            origin,
            reason: err.details.reason ?? null,
            ...(err.details.sent === false ? { sent: false } : {}),
          },
          err,
        );
      }
      throw err;
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      if (!response.ok) {
        throw rejected(`the node answered ${method} with HTTP ${response.status}`, {
          method,
          httpStatus: response.status,
        });
      }
      throw malformed(method, 'not JSON');
    }
    if (!isRecord(reply) || reply.jsonrpc !== '2.0') throw malformed(method, 'not a JSON-RPC 2.0 reply');
    if (reply.error !== undefined) throw rpcError(method, reply.error, response.status);
    if (!response.ok) {
      throw rejected(`the node answered ${method} with HTTP ${response.status}`, {
        method,
        httpStatus: response.status,
      });
    }
    if (reply.id !== id) throw malformed(method, 'reply to another request');
    if (!('result' in reply)) throw malformed(method, 'no result');
    return reply.result;
  }

  /** Calls that a node may not implement: BACKEND_REJECTED becomes null, unreachability still throws. */
  async function optionalCall(method: string, params: unknown[]): Promise<unknown> {
    try {
      return await call(method, params);
    } catch (err) {
      if (err instanceof WardenError && err.code === 'BACKEND_REJECTED') return null;
      throw err;
    }
  }

  async function chainId(): Promise<number> {
    const id = smallQuantity(await call('eth_chainId', []), 'eth_chainId', 'chainId');
    if (id === 0) throw malformed('eth_chainId', 'chain id 0');
    return id;
  }

  async function assertChainId(expected: number): Promise<void> {
    const actual = await chainId();
    if (actual !== expected) {
      throw new WardenError('CHAIN_MISMATCH', `the EVM node serves chain ${actual}, not ${expected}`, {
        expected,
        actual,
        origin,
      });
    }
  }

  async function getTransactionReceipt(hash: Hex): Promise<EvmReceipt | null> {
    checkHash(hash);
    return parseReceipt(await call('eth_getTransactionReceipt', [hash]), hash);
  }

  async function nextBaseFee(): Promise<{ baseFee: bigint; rewards: bigint[] }> {
    const history = await optionalCall('eth_feeHistory', ['0x5', 'latest', [50]]);
    if (isRecord(history) && Array.isArray(history.baseFeePerGas) && history.baseFeePerGas.length > 0) {
      // The last entry is the base fee of the next block, the one this transaction aims for.
      const baseFee = quantity(history.baseFeePerGas.at(-1), 'eth_feeHistory', 'baseFeePerGas');
      const rewards = Array.isArray(history.reward)
        ? history.reward.map((r: unknown) =>
            Array.isArray(r) ? quantity(r[0], 'eth_feeHistory', 'reward') : 0n,
          )
        : [];
      return { baseFee, rewards };
    }
    const block = await call('eth_getBlockByNumber', ['latest', false]);
    if (!isRecord(block)) throw malformed('eth_getBlockByNumber', 'no latest block');
    if (block.baseFeePerGas === undefined) {
      throw rejected('the chain has no base fee (not EIP-1559)', {
        method: 'eth_getBlockByNumber',
        reason: 'no_base_fee',
      });
    }
    return { baseFee: quantity(block.baseFeePerGas, 'eth_getBlockByNumber', 'baseFeePerGas'), rewards: [] };
  }

  return {
    chainId,
    assertChainId,

    async getTransactionCount(address, block) {
      checkAddress(address);
      const method = 'eth_getTransactionCount';
      return smallQuantity(await call(method, [address.toLowerCase(), block]), method, 'count');
    },

    async getBalance(address, block = 'latest') {
      checkAddress(address);
      return quantity(
        await call('eth_getBalance', [address.toLowerCase(), block]),
        'eth_getBalance',
        'balance',
      );
    },

    async feeEstimate() {
      const { baseFee, rewards } = await nextBaseFee();
      const suggested = await optionalCall('eth_maxPriorityFeePerGas', []);
      const tip =
        suggested === null
          ? median(rewards)
          : quantity(suggested, 'eth_maxPriorityFeePerGas', 'maxPriorityFeePerGas');
      // Twice the base fee survives six full blocks of +12.5 %; a chain without base fee still pays 1 wei.
      const maxFeePerGas = 2n * baseFee + tip;
      return { maxFeePerGas: maxFeePerGas > 0n ? maxFeePerGas : 1n, maxPriorityFeePerGas: tip };
    },

    async sendRawTransaction(signed) {
      if (typeof signed !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(signed)) {
        throw new WardenError('INVALID_ARGUMENT', 'a signed transaction is 0x followed by hex bytes');
      }
      const txChainId = serializedChainId(signed);
      if (txChainId === null) {
        throw new WardenError('CHAIN_MISMATCH', 'the transaction commits to no chain id; refused');
      }
      await assertChainId(txChainId);
      const expected = transactionHash(signed);
      const method = 'eth_sendRawTransaction';
      // From here on the transaction may have left: only a certain refusal stays BACKEND_REJECTED.
      try {
        const hash = await call(method, [signed]);
        if (typeof hash !== 'string' || !HASH.test(hash)) throw malformed(method, 'not a transaction hash');
        if (hash.toLowerCase() !== expected.toLowerCase())
          throw malformed(method, 'hash of another transaction');
        return expected;
      } catch (err) {
        if (certainlyNotBroadcast(err)) throw err;
        throw outcomeUnknown(method, err);
      }
    },

    getTransactionReceipt,

    async waitForReceipt(hash, timeoutMs, pollMs = 250) {
      checkHash(hash);
      const deadline = performance.now() + timeoutMs;
      let lastReason: string | null = null;
      for (;;) {
        try {
          const receipt = await getTransactionReceipt(hash);
          if (receipt) return receipt;
        } catch (err) {
          // A node that blinks while we wait is not a failed transaction; keep polling until the deadline.
          if (!(err instanceof WardenError && err.code === 'BACKEND_UNREACHABLE')) throw err;
          lastReason = String(err.details.reason ?? 'unreachable');
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          throw new WardenError('RECEIPT_TIMEOUT', `no receipt within ${timeoutMs} ms`, {
            hash,
            lastError: lastReason,
          });
        }
        await sleep(Math.min(pollMs, left));
      }
    },
  };
}
