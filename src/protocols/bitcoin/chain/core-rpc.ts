/**
 * A Bitcoin Core node's JSON-RPC (and what bcoin answers of it) as a chain backend. The node needs
 * `txindex=1` to find confirmed transactions by id. Unspent outputs come from `scantxoutset`
 * (confirmed only: Core scans its UTXO set, no wallet needed). BTC amounts and BTC/kvB fee rates
 * are JSON numbers in Core's replies; they are turned into text before parsing and read exactly
 * (Core writes at most 8 decimals), never through a float.
 */
import { hex } from '@scure/base';
import type { Net } from '../../../net/http.ts';
import type { BitcoinNetwork } from '../networks.ts';
import {
  type BitcoinChain,
  type ChainUtxo,
  decimalToMsatPerVb,
  isIndex,
  isRecord,
  isTxid,
  type TxStatus,
} from './chain.ts';
import { backendRequest, malformedReply, rejectedBy, sanitized } from './request.ts';

export interface CoreRpcOptions {
  url: string;
  network: BitcoinNetwork;
  net: Net;
  identity: string | null;
  /** `Basic …` from the node's cookie file (user:password), read afresh at every call; null: none. */
  authorization: () => string | null;
}

/** Core's "No such mempool or blockchain transaction" (RPC_INVALID_ADDRESS_OR_KEY). */
const NOT_FOUND = -5;

/** `"amount": 0.0001` → `"amount": "0.0001"` for the fields that carry BTC, before JSON.parse. */
function quoteDecimals(text: string, fields: readonly string[]): string {
  const names = fields.join('|');
  return text.replace(
    new RegExp(`"(${names})"\\s*:\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)`, 'g'),
    '"$1":"$2"',
  );
}

/** "0.00012345" BTC → 12345n sat; null when not a plain decimal of at most 8 places. */
export function btcToSat(text: unknown): bigint | null {
  if (typeof text !== 'string') return null;
  const m = /^(\d{1,8})(?:\.(\d{1,8}))?$/.exec(text);
  if (!m) return null;
  return BigInt(m[1]!) * 100_000_000n + BigInt((m[2] ?? '').padEnd(8, '0'));
}

export function createCoreRpcChain(options: CoreRpcOptions): BitcoinChain {
  const url = new URL(options.url);
  let nextId = 1;

  /** The reply's result, or the node's error as `{ rpcError }`; transport failures throw. */
  async function call(
    method: string,
    params: unknown[],
    decimals: readonly string[] = [],
  ): Promise<{ result: unknown } | { rpcError: { code: number | null; message: string } }> {
    const id = nextId++;
    const authorization = options.authorization();
    const reply = await backendRequest(
      options.net,
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ jsonrpc: '1.0', id, method, params }),
      },
      options.identity,
      method,
    );
    let parsed: unknown;
    try {
      parsed = JSON.parse(decimals.length > 0 ? quoteDecimals(reply.text, decimals) : reply.text);
    } catch {
      throw rejectedBy(method, {
        httpStatus: reply.status,
        reason: reply.status === 401 ? 'auth' : 'not_json',
      });
    }
    if (!isRecord(parsed)) throw malformedReply(method, 'not an object');
    const error = parsed.error;
    if (error !== null && error !== undefined) {
      const e = isRecord(error) ? error : {};
      return {
        rpcError: {
          code: Number.isSafeInteger(e.code) ? (e.code as number) : null,
          message: typeof e.message === 'string' ? sanitized(e.message) : '',
        },
      };
    }
    if (reply.status !== 200) throw rejectedBy(method, { httpStatus: reply.status });
    if (parsed.id !== id) throw malformedReply(method, 'a reply to another request');
    return { result: parsed.result };
  }

  async function result(method: string, params: unknown[], decimals: readonly string[] = []) {
    const reply = await call(method, params, decimals);
    if ('rpcError' in reply)
      throw rejectedBy(method, { rpcCode: reply.rpcError.code, message: reply.rpcError.message });
    return reply.result;
  }

  /** estimatesmartfee's rate in msat/vB; null when the node has none (an error, or no feerate). */
  async function smartFee(blocks: number): Promise<bigint | null> {
    const reply = await call('estimatesmartfee', [blocks], ['feerate']);
    if ('rpcError' in reply || !isRecord(reply.result)) return null;
    const rate = reply.result.feerate;
    return typeof rate === 'string' ? decimalToMsatPerVb(rate, 'BTC/kvB') : null;
  }

  return {
    network: options.network,
    kind: 'core',
    async tipHeight() {
      const height = await result('getblockcount', []);
      if (!isIndex(height)) throw malformedReply('getblockcount', 'not a height');
      return height;
    },
    async utxos(address) {
      const scan = await result('scantxoutset', ['start', [`addr(${address})`]], ['amount', 'total_amount']);
      if (!isRecord(scan) || scan.success !== true || !Array.isArray(scan.unspents))
        throw malformedReply('scantxoutset', 'no unspents');
      return scan.unspents.map((u): ChainUtxo => {
        const value = isRecord(u) ? btcToSat(u.amount) : null;
        if (!isRecord(u) || !isTxid(u.txid) || !isIndex(u.vout) || value === null || !isIndex(u.height))
          throw malformedReply('scantxoutset', 'an output');
        return { txid: u.txid, vout: u.vout, value, height: u.height };
      });
    },
    async rawTransaction(txid) {
      if (!isTxid(txid)) return null;
      const reply = await call('getrawtransaction', [txid, false]);
      if ('rpcError' in reply) {
        if (reply.rpcError.code === NOT_FOUND) return null;
        throw rejectedBy('getrawtransaction', {
          rpcCode: reply.rpcError.code,
          message: reply.rpcError.message,
        });
      }
      if (typeof reply.result !== 'string' || !/^([0-9a-f]{2})+$/.test(reply.result))
        throw malformedReply('getrawtransaction', 'not hex');
      return hex.decode(reply.result);
    },
    async status(txid): Promise<TxStatus> {
      if (!isTxid(txid)) return { state: 'unknown' };
      const reply = await call('getrawtransaction', [txid, true]);
      if ('rpcError' in reply) {
        if (reply.rpcError.code === NOT_FOUND) return { state: 'unknown' };
        throw rejectedBy('getrawtransaction', {
          rpcCode: reply.rpcError.code,
          message: reply.rpcError.message,
        });
      }
      const tx = reply.result;
      if (!isRecord(tx) || tx.txid !== txid) throw malformedReply('getrawtransaction', 'another transaction');
      const confirmations = tx.confirmations;
      if (confirmations === undefined || confirmations === 0 || typeof tx.blockhash !== 'string')
        return { state: 'mempool' };
      if (!isIndex(confirmations)) throw malformedReply('getrawtransaction', 'confirmations');
      const tip = await this.tipHeight();
      return { state: 'confirmed', height: tip - confirmations + 1 };
    },
    async broadcast(raw) {
      const reply = await call('sendrawtransaction', [hex.encode(raw)]);
      if ('rpcError' in reply)
        throw rejectedBy('sendrawtransaction', {
          rpcCode: reply.rpcError.code,
          message: reply.rpcError.message,
          sent: true,
        });
    },
    async feeEnvironment(blocks) {
      // Sent together: one round trip. Core answers target 1 as 2, its fastest.
      const [estimate, fastest, mempool] = await Promise.all([
        smartFee(blocks),
        smartFee(1),
        call('getmempoolinfo', []).catch(() => null),
      ]);
      const size =
        mempool !== null && 'result' in mempool && isRecord(mempool.result) ? mempool.result.size : null;
      return { estimate, fastest, mempoolTx: isIndex(size) ? size : null };
    },
  };
}
