/**
 * An Esplora REST server (Blockstream's esplora/electrs, mempool.space's API) as a Bitcoin chain
 * backend: GET /blocks/tip/height, /address/:address/utxo, /tx/:txid/hex, /tx/:txid/status,
 * /fee-estimates, /mempool; POST /tx with the transaction's hex. Amounts are whole satoshis in its JSON;
 * fee estimates (sat/vB, decimals) are read from the reply's text, never as floats.
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

export interface EsploraOptions {
  /** The API's base, e.g. https://mempool.space/api/ (a trailing slash is added). */
  url: string;
  network: BitcoinNetwork;
  net: Net;
  identity: string | null;
}

/** Most outputs one address may have before Warden refuses to judge with a partial list. */
const MAX_UTXOS_PER_ADDRESS = 5_000;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw malformedReply(what, 'not JSON');
  }
}

function utxoOf(value: unknown, what: string): ChainUtxo {
  if (!isRecord(value) || !isTxid(value.txid) || !isIndex(value.vout))
    throw malformedReply(what, 'an output');
  if (!isIndex(value.value)) throw malformedReply(what, 'an amount');
  const status = value.status;
  if (!isRecord(status) || typeof status.confirmed !== 'boolean') throw malformedReply(what, 'a status');
  if (status.confirmed && !isIndex(status.block_height)) throw malformedReply(what, 'a block height');
  return {
    txid: value.txid,
    vout: value.vout,
    value: BigInt(value.value),
    height: status.confirmed ? (status.block_height as number) : null,
  };
}

/** `{"count": 1234, "vsize": …}` of GET /mempool: the count, or null when not a count. */
function mempoolCount(text: string | null): number | null {
  if (text === null) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) && isIndex(parsed.count) ? parsed.count : null;
  } catch {
    return null;
  }
}

export function createEsploraChain(options: EsploraOptions): BitcoinChain {
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  const at = (path: string) => new URL(path, base);
  const get = async (path: string, what: string, missingOk = false) => {
    const reply = await backendRequest(options.net, at(path), { method: 'GET' }, options.identity, what);
    if (missingOk && reply.status === 404) return null;
    if (reply.status !== 200)
      throw rejectedBy(what, { httpStatus: reply.status, message: sanitized(reply.text) });
    return reply.text;
  };

  return {
    network: options.network,
    kind: 'esplora',
    async tipHeight() {
      const text = (await get('blocks/tip/height', 'the tip height'))!.trim();
      const height = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
      if (!isIndex(height)) throw malformedReply('the tip height', 'not a height');
      return height;
    },
    async utxos(address) {
      const what = 'an address’s outputs';
      const list = parseJson((await get(`address/${encodeURIComponent(address)}/utxo`, what))!, what);
      if (!Array.isArray(list)) throw malformedReply(what, 'not a list');
      if (list.length > MAX_UTXOS_PER_ADDRESS) throw malformedReply(what, 'too many outputs');
      return list.map((u) => utxoOf(u, what));
    },
    async rawTransaction(txid) {
      if (!isTxid(txid)) return null;
      const text = await get(`tx/${txid}/hex`, 'a transaction', true);
      if (text === null) return null;
      const trimmed = text.trim();
      if (!/^([0-9a-f]{2})+$/.test(trimmed)) throw malformedReply('a transaction', 'not hex');
      return hex.decode(trimmed);
    },
    async status(txid): Promise<TxStatus> {
      if (!isTxid(txid)) return { state: 'unknown' };
      const text = await get(`tx/${txid}/status`, 'a transaction status', true);
      if (text === null) return { state: 'unknown' };
      const status = parseJson(text, 'a transaction status');
      if (!isRecord(status) || typeof status.confirmed !== 'boolean')
        throw malformedReply('a transaction status', 'not a status');
      if (!status.confirmed) return { state: 'mempool' };
      if (!isIndex(status.block_height)) throw malformedReply('a transaction status', 'a block height');
      return { state: 'confirmed', height: status.block_height };
    },
    async broadcast(raw) {
      const what = 'the transaction';
      const reply = await backendRequest(
        options.net,
        at('tx'),
        { method: 'POST', headers: { 'content-type': 'text/plain' }, body: hex.encode(raw) },
        options.identity,
        what,
      );
      if (reply.status !== 200)
        throw rejectedBy(what, { httpStatus: reply.status, message: sanitized(reply.text), sent: true });
    },
    async feeEnvironment(blocks) {
      // Two GETs at once: one round trip. The mempool's size is a monitor's fact, never a reason
      // to refuse: a server that will not tell it (mempool.space rate-limits) leaves it unknown.
      const [text, mempool] = await Promise.all([
        get('fee-estimates', 'the fee estimates'),
        get('mempool', 'the mempool').catch(() => null),
      ]);
      // {"1": 87.882, "2": 87.882, …}: each target's own text.
      const rates = new Map<number, string>();
      for (const m of text!.matchAll(/"(\d{1,4})"\s*:\s*(\d{1,12}(?:\.\d{1,12})?)\s*[,}]/g))
        rates.set(Number(m[1]), m[2]!);
      const targets = [...rates.keys()].sort((a, b) => a - b);
      // The target's estimate, or the nearest faster target's; the fastest is the least target's.
      const within = targets.filter((t) => t <= blocks).at(-1);
      const rate = (t: number | undefined) =>
        t === undefined ? null : decimalToMsatPerVb(rates.get(t)!, 'sat/vB');
      return { estimate: rate(within), fastest: rate(targets[0]), mempoolTx: mempoolCount(mempool) };
    },
  };
}
