import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Hex } from 'viem';
import { evmSendIntent, resolveFees } from '../../chains/evm/intent.ts';
import { nextNonce } from '../../chains/evm/nonce.ts';
import { type EvmSendRequest, parseEvmSendRequest } from '../../chains/evm/request.ts';
import { evmSendReview } from '../../chains/evm/review.ts';
import { createEvmRpc, type EvmRpc } from '../../chains/evm/rpc.ts';
import {
  buildSendTransaction,
  serializeSigned,
  signingHash,
  transactionHash,
} from '../../chains/evm/transaction.ts';
import { utf8 } from '../../core/bytes.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { isWardenError, WardenError } from '../../core/errors.ts';
import type { Intent } from '../../core/intent.ts';
import { toJsonValue } from '../../core/json.ts';
import { KeyedMutex } from '../../core/mutex.ts';
import { signEvmDigest } from '../../keys/evm-signer.ts';
import type { Vault } from '../../keys/vault.ts';
import type { Net } from '../../net/http.ts';
import type { Store } from '../../store/store.ts';
import { returnNonce, spendNonce } from '../evm-nonces.ts';
import { certainlyNotBroadcast } from './evm-broadcast.ts';
import type { ExecutionOutcome, ProtocolHandler } from './handler.ts';

export interface EvmHandlerOptions {
  vault: Vault;
  store: Store;
  net: Net;
  /** chainId → JSON-RPC URL of the node that broadcasts for that chain. */
  rpcUrls: ReadonlyMap<number, string>;
}

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

/**
 * `POST /v1/evm/send`: an EIP-1559 native transfer, built from the Intent the policy judged,
 * signed in keys/, broadcast through net/. Nonces per (identity, chain) are taken under a mutex,
 * recorded before broadcast, and given back only when the node certainly refused the transaction.
 */
export function evmSendHandler(options: EvmHandlerOptions): ProtocolHandler<EvmSendRequest> {
  const mutex = new KeyedMutex();
  const rpcFor = (chainId: number, identity: string): EvmRpc => {
    const url = options.rpcUrls.get(chainId);
    if (!url)
      throw new WardenError('CHAIN_NOT_ALLOWED', `no RPC endpoint is configured for chain ${chainId}`, {
        chainId,
      });
    return createEvmRpc({ url, net: options.net, identity });
  };

  async function stillExecuting(requestId: string): Promise<boolean> {
    const row = await options.store.db
      .selectFrom('request')
      .select('status')
      .where('id', '=', requestId)
      .executeTakeFirst();
    return row?.status === 'executing';
  }

  const failed = (err: unknown, message: string): ExecutionOutcome => ({
    status: 'failed',
    code: isWardenError(err) ? err.code : 'SIGNING_FAILED',
    message,
  });

  async function execute(identity: string, intent: Intent, requestId: string): Promise<ExecutionOutcome> {
    const chainId = intent.evm!.chainId;
    let rpc: EvmRpc;
    let address: string;
    try {
      rpc = rpcFor(chainId, identity);
      const evm = options.vault.getIdentity(identity).evm;
      if (!evm) throw new WardenError('KEY_NOT_ACTIVE', 'the identity has no EVM key');
      address = evm.address.toLowerCase();
    } catch (err) {
      return failed(err, 'nothing was signed');
    }
    return mutex.run(`${identity}/${chainId}`, async () => {
      // Until the transaction is signed and recorded, any failure leaves nothing behind: release.
      let nonce: number;
      let signed: Hex;
      let result: Record<string, unknown>;
      try {
        // An operator may have reconciled the request while it waited for the lock.
        if (!(await stillExecuting(requestId)))
          return { status: 'failed', code: 'REQUEST_NOT_PENDING', message: 'no longer executing' };
        await rpc.assertChainId(chainId);
        const pending = await rpc.getTransactionCount(address, 'pending');
        const row = await options.store.db
          .selectFrom('evm_nonce')
          .selectAll()
          .where('identity', '=', identity)
          .where('chain_id', '=', chainId)
          .executeTakeFirst();
        nonce = nextNonce(pending, row && row.address === address ? row.next_nonce : null);
        const tx = buildSendTransaction(intent, nonce);
        const signature = signEvmDigest(options.vault, identity, signingHash(tx));
        signed = serializeSigned(tx, signature);
        result = { txHash: transactionHash(signed), nonce, chainId, from: signature.address };
      } catch (err) {
        return failed(err, 'nothing was broadcast');
      }
      // The nonce is spent and the hash on record before the transaction leaves, so a crash after
      // the broadcast can be reconciled by its hash and never reuses the nonce.
      await options.store.transaction(async (tx) => {
        await spendNonce(tx, { identity, chainId, address, nonce });
        await tx
          .updateTable('request')
          .set({ result: JSON.stringify(result) })
          .where('id', '=', requestId)
          .execute();
      });
      try {
        await rpc.sendRawTransaction(signed);
        return { status: 'done', result };
      } catch (err) {
        if (certainlyNotBroadcast(err)) {
          // It will never be mined: the nonce goes back if nothing newer took the next one.
          await returnNonce(options.store.db, { identity, chainId, address, nonce });
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
  }

  return {
    operation: 'evm.send',
    capability: 'evm:send',
    protocol: 'evm',
    action: 'send',
    parse: (body) => parseEvmSendRequest(body),
    idempotencyKey: (p) => p.idempotencyKey,
    digest: digestOf,
    async toIntent(identity, p) {
      // A chain without a node can never be broadcast to: refuse it before anything is reserved.
      const rpc = rpcFor(p.chainId, identity);
      const needsEstimate = p.maxFeePerGas === null || p.maxPriorityFeePerGas === null;
      const estimate = needsEstimate
        ? await rpc.feeEstimate()
        : { maxFeePerGas: p.maxFeePerGas!, maxPriorityFeePerGas: p.maxPriorityFeePerGas! };
      return evmSendIntent(identity, p, resolveFees(p, estimate), digestOf(p), p.idempotencyKey);
    },
    review: (_p, intent) =>
      evmSendReview(intent, options.vault.getIdentity(intent.identity).evm?.address.toLowerCase() ?? 'none'),
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
    execute: (identity, _p, intent, requestId) => execute(identity, intent, requestId),
  };
}
