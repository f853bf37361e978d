import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { evmSendIntent, resolveFees } from '../../chains/evm/intent.ts';
import { nextNonce } from '../../chains/evm/nonce.ts';
import { type EvmSendRequest, parseEvmSendRequest } from '../../chains/evm/request.ts';
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
import { toJsonValue } from '../../core/json.ts';
import { KeyedMutex } from '../../core/mutex.ts';
import { signEvmDigest } from '../../keys/evm-signer.ts';
import type { Vault } from '../../keys/vault.ts';
import type { Net } from '../../net/http.ts';
import type { Store } from '../../store/store.ts';
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

  async function execute(
    identity: string,
    intent: Parameters<ProtocolHandler<EvmSendRequest>['execute']>[2],
    requestId: string,
  ): Promise<ExecutionOutcome> {
    const chainId = intent.evm!.chainId;
    const rpc = rpcFor(chainId, identity);
    const address = options.vault.getIdentity(identity).evm?.address;
    if (!address) return { status: 'failed', code: 'KEY_NOT_ACTIVE', message: 'the identity has no EVM key' };
    return mutex.run(`${identity}/${chainId}`, async () => {
      let nonce: number;
      try {
        const pending = await rpc.getTransactionCount(address, 'pending');
        const row = await options.store.db
          .selectFrom('evm_nonce')
          .select('next_nonce')
          .where('identity', '=', identity)
          .where('chain_id', '=', chainId)
          .executeTakeFirst();
        nonce = nextNonce(pending, row?.next_nonce ?? null);
      } catch (err) {
        // Nothing was signed: the reservation can be released.
        return {
          status: 'failed',
          code: isWardenError(err) ? err.code : 'RPC_UNREACHABLE',
          message: 'could not read the nonce',
        };
      }
      const tx = buildSendTransaction(intent, nonce);
      const signature = signEvmDigest(options.vault, identity, signingHash(tx));
      const signed = serializeSigned(tx, signature);
      const hash = transactionHash(signed);
      // The nonce is spent from here on, even if we crash before the broadcast returns.
      await setNextNonce(identity, chainId, nonce + 1);
      const result = { txHash: hash, nonce, chainId, from: signature.address };
      try {
        await rpc.sendRawTransaction(signed);
        return { status: 'done', result };
      } catch (err) {
        const code = isWardenError(err) ? err.code : 'BROADCAST_FAILED';
        if (code === 'RPC_ERROR' || code === 'CHAIN_MISMATCH') {
          // The node refused it: it will never be mined, so the nonce goes back if still the last.
          await options.store.db
            .updateTable('evm_nonce')
            .set({ next_nonce: nonce })
            .where('identity', '=', identity)
            .where('chain_id', '=', chainId)
            .where('next_nonce', '=', nonce + 1)
            .execute();
          return {
            status: 'failed',
            code: 'BROADCAST_FAILED',
            message: `the node refused the transaction (${requestId})`,
          };
        }
        return {
          status: 'unknown',
          code,
          message: 'the broadcast outcome is unknown; reconcile by its hash',
          result,
        };
      }
    });
  }

  async function setNextNonce(identity: string, chainId: number, next: number): Promise<void> {
    await options.store.db
      .insertInto('evm_nonce')
      .values({ identity, chain_id: chainId, next_nonce: next })
      .onConflict((oc) => oc.columns(['identity', 'chain_id']).doUpdateSet({ next_nonce: next }))
      .execute();
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
      const needsEstimate = p.maxFeePerGas === null || p.maxPriorityFeePerGas === null;
      const estimate = needsEstimate
        ? await rpcFor(p.chainId, identity).feeEstimate()
        : { maxFeePerGas: p.maxFeePerGas!, maxPriorityFeePerGas: p.maxPriorityFeePerGas! };
      return evmSendIntent(identity, p, resolveFees(p, estimate), digestOf(p), p.idempotencyKey);
    },
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
