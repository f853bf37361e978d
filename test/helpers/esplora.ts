import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { after } from 'node:test';
import { Address, OutScript } from '@scure/btc-signer';
import { prefixesOf } from '../../src/protocols/bitcoin/networks.ts';
import type { BitcoinNode } from './bitcoin-node.ts';

/**
 * An Esplora REST server (the routes Warden uses, in Blockstream's API.md shapes) over a real bcoin
 * regtest node: every answer is read from the node's chain, mempool and address index at the time
 * of the request. No Esplora (electrs) can be had here; this is the API's surface over a real node,
 * not a recording. It answers like esplora does: 404 for an unknown transaction, 400 with the
 * node's reason when the mempool refuses a broadcast (esplora passes Core's refusal on).
 *
 * `faults` lets a test make the server lie or stall (a lying amount, a dropped broadcast).
 */
const require = createRequire(import.meta.url);
const bcoin = require('bcoin') as any;

export interface EsploraFaults {
  /** Added to every UTXO value listed: a backend lying about amounts. */
  utxoValueLie?: bigint;
  /** Answer a broadcast 200 with the txid but drop the transaction (a lost broadcast). */
  dropBroadcasts?: boolean;
  /** Hold every broadcast unanswered (and untaken) until this resolves: a crash mid-broadcast. */
  stallBroadcasts?: Promise<void>;
  /**
   * Take every broadcast into the mempool, then hold its answer until this resolves: a crash after
   * the transaction reached the node, before its answer reached Warden.
   */
  stallAfterTaking?: Promise<void>;
  /** Hold every `GET /tx/:txid/hex` (a send proving its coins, before it signs) until this resolves. */
  stallLookups?: Promise<void>;
  /** `GET /tx/:txid/hex` requests received (held or not). */
  lookups?: number;
  /** Broadcasts received (taken or not). */
  broadcasts?: number;
  /** Fee estimates to serve (sat/vB text by target); default: none, as bcoin's regtest has none. */
  feeEstimates?: Record<string, string>;
  /**
   * The mempool's size to report instead of the node's own (a congested network cannot be made
   * on regtest); `null`: answer GET /mempool 404, as a server that does not tell.
   */
  mempoolCount?: number | null;
}

export interface EsploraServer {
  url: string;
  faults: EsploraFaults;
  requests: number;
  /** GET /fee-estimates answered. */
  feeReads: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** bcoin's Address of a regtest `bcrt1…` address (bcoin spells regtest addresses `rb1…`). */
function bcoinAddress(address: string): unknown {
  const script = OutScript.encode(Address(prefixesOf('regtest')).decode(address));
  return bcoin.Address.fromScript(bcoin.Script.fromRaw(Buffer.from(script)));
}

// bcoin 1.0.2 keeps hashes as hex in internal byte order; txids are written the other way round.
const reversed = (hex: string) => Buffer.from(hex, 'hex').reverse().toString('hex');
const rhash = (hash: string | Buffer) => reversed(Buffer.isBuffer(hash) ? hash.toString('hex') : hash);
const hashOf = reversed;

/** Starts the server on a free loopback port; it is closed in `after()` (or by `close()`). */
export async function startEsplora(node: BitcoinNode, faults: EsploraFaults = {}): Promise<EsploraServer> {
  const full = node.full;
  const state = { requests: 0, feeReads: 0 };
  const server: Server = createServer(async (req, res) => {
    state.requests++;
    const send = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const utxoOf = /^\/address\/([A-Za-z0-9]+)\/utxo$/.exec(path);
      const hexOf = /^\/tx\/([0-9a-f]{64})\/hex$/.exec(path);
      const statusOf = /^\/tx\/([0-9a-f]{64})\/status$/.exec(path);
      if (req.method === 'GET' && path === '/blocks/tip/height') return send(200, String(full.chain.height));
      if (req.method === 'GET' && path === '/fee-estimates') {
        state.feeReads++;
        return send(
          200,
          JSON.stringify(faults.feeEstimates ?? {}).replace(/:"([\d.]+)"/g, ':$1'),
          'application/json',
        );
      }
      if (req.method === 'GET' && path === '/mempool') {
        if (faults.mempoolCount === null) return send(404, 'not found');
        const count = faults.mempoolCount ?? full.mempool.getSnapshot().length;
        return send(200, `{"count":${count},"vsize":0,"total_fee":0,"fee_histogram":[]}`, 'application/json');
      }
      if (req.method === 'GET' && utxoOf) {
        const coins = await full.getCoinsByAddress([bcoinAddress(utxoOf[1]!)]);
        const lie = faults.utxoValueLie ?? 0n;
        const list = coins.map((c: any) => {
          const confirmed = c.height !== -1;
          return `{"txid":"${rhash(c.hash)}","vout":${c.index},"status":${
            confirmed ? `{"confirmed":true,"block_height":${c.height}}` : '{"confirmed":false}'
          },"value":${BigInt(c.value) + lie}}`;
        });
        return send(200, `[${list.join(',')}]`, 'application/json');
      }
      if (req.method === 'GET' && hexOf) {
        faults.lookups = (faults.lookups ?? 0) + 1;
        if (faults.stallLookups) {
          await faults.stallLookups;
          return res.destroy();
        }
        const meta = await full.getMeta(hashOf(hexOf[1]!));
        return meta ? send(200, meta.tx.toRaw().toString('hex')) : send(404, 'Transaction not found');
      }
      if (req.method === 'GET' && statusOf) {
        const meta = await full.getMeta(hashOf(statusOf[1]!));
        if (!meta) return send(404, 'Transaction not found');
        return send(
          200,
          meta.height === -1 ? '{"confirmed":false}' : `{"confirmed":true,"block_height":${meta.height}}`,
          'application/json',
        );
      }
      if (req.method === 'POST' && path === '/tx') {
        const hex = (await readBody(req)).trim();
        const tx = bcoin.TX.fromRaw(Buffer.from(hex, 'hex'));
        faults.broadcasts = (faults.broadcasts ?? 0) + 1;
        if (faults.stallBroadcasts) {
          await faults.stallBroadcasts;
          return res.destroy();
        }
        if (faults.dropBroadcasts) return send(200, tx.txid());
        try {
          await full.mempool.addTX(tx);
        } catch (err: any) {
          return send(
            400,
            `sendrawtransaction RPC error: {"code":-26,"message":"${err.reason ?? err.message}"}`,
          );
        }
        if (faults.stallAfterTaking) {
          await faults.stallAfterTaking;
          return res.destroy();
        }
        return send(200, tx.txid());
      }
      return send(404, 'not found');
    } catch (err) {
      return send(500, String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const close = () =>
    new Promise<void>((resolve) => {
      // Warden's client keeps its connections alive: they would hold the file's process open.
      server.closeAllConnections();
      server.close(() => resolve());
    });
  after(close);
  return {
    url: `http://127.0.0.1:${port}/`,
    faults,
    get requests() {
      return state.requests;
    },
    get feeReads() {
      return state.feeReads;
    },
    close,
  };
}
