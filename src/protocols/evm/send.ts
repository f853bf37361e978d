import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Hex } from 'viem';
import { utf8 } from '../../core/bytes.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { isWardenError } from '../../core/errors.ts';
import { toJsonValue } from '../../core/json.ts';
import { KeyedMutex } from '../../core/mutex.ts';
import type { ExecutionOutcome, Operation } from '../operation.ts';
import { type EvmBackend, requireBackend } from './backend.ts';
import { certainlyNotBroadcast } from './broadcast-outcome.ts';
import { evmSendFields, evmSendIntent, resolveFees } from './intent.ts';
import { nextNonce } from './nonce.ts';
import { type EvmDb, recordedNextNonce, returnNonce, spendNonce } from './nonces.ts';
import {
  EVM_SEND_REQUEST_SCHEMA,
  EVM_SEND_RESULT_SCHEMA,
  type EvmSendRequest,
  parseEvmSendRequest,
} from './request.ts';
import { evmSendReview } from './review.ts';
import { buildSendTransaction, serializeSigned, signingHash, transactionHash } from './transaction.ts';

/** What the request commits to, whatever its spelling: the digest approvals and retries bind to. */
function digestOf(p: EvmSendRequest): string {
  const canonical = {
    chainId: p.chainId,
    to: p.to,
    value: p.value,
    maxFeePerGas: p.maxFeePerGas,
    maxPriorityFeePerGas: p.maxPriorityFeePerGas,
  };
  return bytesToHex(sha256(utf8(canonicalJson(toJsonValue(canonical) as never))));
}

const BIGINT_FIELDS = ['value', 'maxFeePerGas', 'maxPriorityFeePerGas'] as const;

const failed = (err: unknown, message: string): ExecutionOutcome => ({
  status: 'failed',
  code: isWardenError(err) ? err.code : 'SIGNING_FAILED',
  message,
});

/** Nonces per (identity, chain) are taken one at a time in this process. */
const nonceLocks = new KeyedMutex();

/**
 * An EIP-1559 native transfer, built from the Intent the policy judged, signed by the identity's
 * EVM key, broadcast through net/. Nonces per (identity, chain) are taken under a lock, recorded
 * before broadcast, and given back only when the node certainly refused the transaction.
 */
export const sendOperation: Operation<EvmSendRequest, EvmBackend, 'evm-digest', EvmDb> = {
  name: 'evm.send',
  protocol: 'evm',
  action: 'send',
  capability: 'evm:send',
  signer: 'evm-digest',
  http: { path: '/v1/evm/send' },
  title: 'Send native coin on an EVM chain',
  description:
    "Builds, signs and broadcasts an EIP-1559 transfer of the chain's native coin (wei) to one address. Value limits count the amount plus the most the gas can cost. A first payment to a new address may be held for an operator.",
  requestSchema: EVM_SEND_REQUEST_SCHEMA,
  resultSchema: EVM_SEND_RESULT_SCHEMA,
  parse: (body) => parseEvmSendRequest(body),
  idempotencyKey: (p) => p.idempotencyKey,
  digest: digestOf,
  async toIntent(p, ctx) {
    // A chain without a node can never be broadcast to: refuse it before anything is reserved.
    const rpc = requireBackend(ctx.backend, p.chainId).rpc(p.chainId, ctx.identity);
    const needsEstimate = p.maxFeePerGas === null || p.maxPriorityFeePerGas === null;
    const estimate = needsEstimate
      ? await rpc.feeEstimate()
      : { maxFeePerGas: p.maxFeePerGas!, maxPriorityFeePerGas: p.maxPriorityFeePerGas! };
    return evmSendIntent(ctx.identity, p, resolveFees(p, estimate), digestOf(p), p.idempotencyKey);
  },
  review: (_p, intent, keys) => evmSendReview(intent, keys.evm?.address.toLowerCase() ?? 'none'),
  encode: (p) => utf8(JSON.stringify(toJsonValue(p))),
  decode(bytes) {
    const raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const p = { ...raw } as unknown as EvmSendRequest;
    for (const f of BIGINT_FIELDS) {
      const v = raw[f];
      (p as unknown as Record<string, unknown>)[f] =
        v === null || v === undefined ? null : BigInt(v as string);
    }
    return p;
  },
  async execute(_p, intent, ctx) {
    const { identity, signer, tables } = ctx;
    let chainId: number;
    let rpc: ReturnType<EvmBackend['rpc']>;
    try {
      chainId = evmSendFields(intent).chainId;
      rpc = requireBackend(ctx.backend, chainId).rpc(chainId, identity);
    } catch (err) {
      return failed(err, 'nothing was signed');
    }
    const address = signer.address;
    return nonceLocks.run(`${identity}/${chainId}`, async () => {
      // Until the transaction is signed and recorded, any failure leaves nothing behind: release.
      let nonce: number;
      let signed: Hex;
      let result: Record<string, unknown>;
      try {
        // An operator may have reconciled the request while it waited for the lock.
        if (!(await ctx.stillExecuting()))
          return { status: 'failed', code: 'REQUEST_NOT_PENDING', message: 'no longer executing' };
        await rpc.assertChainId(chainId);
        const pending = await rpc.getTransactionCount(address, 'pending');
        nonce = nextNonce(pending, await recordedNextNonce(tables, identity, chainId, address));
        const tx = buildSendTransaction(intent, nonce);
        const signature = signer.signDigest(signingHash(tx));
        signed = serializeSigned(tx, signature);
        result = { txHash: transactionHash(signed), nonce, chainId, from: signature.address };
      } catch (err) {
        return failed(err, 'nothing was broadcast');
      }
      // The nonce is spent and the hash on record before the transaction leaves, so a crash after
      // the broadcast can be reconciled by its hash and never reuses the nonce.
      await ctx.recordBeforeSend(result, (tx) => spendNonce(tx, { identity, chainId, address, nonce }));
      try {
        await rpc.sendRawTransaction(signed);
        return { status: 'done', result };
      } catch (err) {
        if (certainlyNotBroadcast(err)) {
          // It will never be mined: the nonce goes back if nothing newer took the next one.
          await returnNonce(tables, { identity, chainId, address, nonce });
          return { status: 'failed', code: 'BROADCAST_FAILED', message: 'the node refused the transaction' };
        }
        return {
          status: 'unknown',
          code: isWardenError(err) ? err.code : 'BROADCAST_FAILED',
          message: 'the broadcast outcome is unknown; reconcile by its hash',
          result,
        };
      }
    });
  },
};
