import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { freePort, startPeer } from './peer.ts';

/**
 * A real bcoin 1.0.2 full node on regtest, in this process, for the Bitcoin tests: in memory, no
 * workers, no P2P listener, its JSON-RPC on 127.0.0.1 only (a free port, a random API key).
 *
 * What it differs in from Bitcoin Core is handled here, not in the tests:
 * - regtest addresses are `rb1…` (not `bcrt1…`): blocks are mined to a script, never an address;
 * - `sendrawtransaction` answers a txid even when the transaction was refused: `submit` reports
 *   success only once the transaction is found in the mempool afterwards;
 * - it does not validate taproot spends, and its mempool refuses them as non-standard: the tests
 *   verify them with an independent interpreter and `mineTransaction` puts them in a block.
 */
const require = createRequire(import.meta.url);
// bcoin ships no types; the few calls made here are typed by what they are used for.
const bcoin = require('bcoin') as any;
/** How long a broadcast may take to reach the mempool (script checks run after the RPC answered). */
const SUBMIT_LIMIT_MS = 5_000;

export interface Confirmation {
  blockHash: string;
  height: number;
  confirmations: number;
}

export interface BitcoinNode {
  /** Milliseconds from creating the node until its RPC answered. */
  startupMs: number;
  height(): number;
  /** Mines `blocks` blocks whose coinbase pays `script`; resolves once the chain is at the new tip. */
  mine(blocks: number, script: Uint8Array): Promise<string[]>;
  /** Mines until segwit (BIP-141) is active: bcoin's regtest signals it in BIP-9 windows of 144. */
  activateSegwit(script: Uint8Array): Promise<void>;
  /** The raw bytes of a transaction of a block or the mempool (the node keeps a tx index). */
  rawTransaction(txid: string): Promise<Uint8Array>;
  /**
   * Broadcasts a raw transaction over RPC; resolves with its txid once it is in the mempool,
   * rejects with bcoin's reason when the mempool refused it.
   */
  submit(raw: Uint8Array): Promise<string>;
  /** Mines one block to `script` and reads back the transaction's confirmation from the chain. */
  confirm(txid: string, script: Uint8Array): Promise<Confirmation>;
  /**
   * Mines a block holding `raw` without the mempool: for what bcoin's policy refuses but consensus
   * allows (a taproot spend is "non-standard" to bcoin 1.0.2, which predates taproot).
   */
  mineTransaction(raw: Uint8Array, script: Uint8Array): Promise<Confirmation>;
  /** Where `txid` was mined, read back from the chain; `blockHash` must be the tip. */
  confirmation(txid: string, blockHash: string): Promise<Confirmation>;
  rpc(method: string, params?: unknown[]): Promise<any>;
  /** The bcoin FullNode itself (address-indexed): for the Esplora server of test/helpers/esplora.ts. */
  full: any;
  /** Its JSON-RPC endpoint and the Basic authorization it takes (the API key). */
  rpcUrl: string;
  rpcAuthorization: string;
  stop(): Promise<void>;
}

/** bcoin's Address object for a script: blocks pay it without an address string (and its prefix). */
function addressOf(script: Uint8Array): unknown {
  const address = bcoin.Address.fromScript(bcoin.Script.fromRaw(Buffer.from(script)));
  if (!address) throw new Error('bcoin cannot mine to this script (not a standard output)');
  return address;
}

async function startOnce(): Promise<BitcoinNode> {
  const port = await freePort();
  const apiKey = randomBytes(24).toString('hex');
  const started = performance.now();
  const node = new bcoin.FullNode({
    network: 'regtest',
    memory: true,
    workers: false,
    listen: false,
    // bcoin's regtest seed is 127.0.0.1:48444: with no seeds the pool dials nobody.
    seeds: [],
    indexTX: true,
    // Coins by address, for the Esplora server over this node (test/helpers/esplora.ts).
    indexAddress: true,
    'http-host': '127.0.0.1',
    'http-port': port,
    'api-key': apiKey,
    // Refusals are reported by submit() with bcoin's reason; the log would only repeat them.
    logLevel: 'none',
  });
  let open = false;
  const stop = async () => {
    if (!open) return;
    open = false;
    await node.close();
  };
  const url = `http://127.0.0.1:${port}/`;
  const authorization = `Basic ${Buffer.from(`x:${apiKey}`).toString('base64')}`;
  async function rpc(method: string, params: unknown[] = []): Promise<any> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ method, params, id: 1 }),
      signal: AbortSignal.timeout(10_000),
    });
    const reply = (await response.json()) as { result?: unknown; error?: { message?: string } | null };
    if (reply.error) throw new Error(`bcoin ${method}: ${reply.error.message ?? 'error'}`);
    return reply.result;
  }

  async function inMempool(txid: string): Promise<boolean> {
    try {
      await rpc('getmempoolentry', [txid]);
      return true;
    } catch {
      return false;
    }
  }

  async function mine(blocks: number, script: Uint8Array): Promise<string[]> {
    const to = addressOf(script);
    const hashes: string[] = [];
    for (let i = 0; i < blocks; i++) {
      const block = await node.miner.mineBlock(node.chain.tip, to);
      await node.chain.add(block);
      hashes.push(block.rhash());
    }
    const tip = hashes.at(-1);
    if (tip !== undefined && (await rpc('getbestblockhash')) !== tip)
      throw new Error('the chain did not reach the mined tip');
    return hashes;
  }

  async function confirmationOf(txid: string, blockHash: string): Promise<Confirmation> {
    const block = await rpc('getblock', [blockHash, true, false]);
    if (!(block.tx as string[]).includes(txid)) throw new Error(`${txid} was not mined into ${blockHash}`);
    const tx = await rpc('getrawtransaction', [txid, 1]);
    if (tx.blockhash !== blockHash) throw new Error(`${txid} is not confirmed in ${blockHash}`);
    if ((await rpc('getbestblockhash')) !== blockHash) throw new Error(`${blockHash} is not the tip`);
    return { blockHash, height: block.height as number, confirmations: tx.confirmations as number };
  }

  try {
    await node.ensure();
    await node.open();
    open = true;
    // The pool is connected (to nobody: no seeds, no listener) so that close() disconnects it:
    // that is what ends the 60 s timers of the broadcasts it was handed by sendrawtransaction.
    await node.connect();
    await rpc('getblockcount');
  } catch (err) {
    await stop();
    throw err;
  }
  const startupMs = Math.round(performance.now() - started);

  return {
    startupMs,
    height: () => node.chain.height,
    mine,
    rpc,
    async activateSegwit(script) {
      // Each window of 144 blocks moves the deployment one state on (defined, started, locked in, active).
      for (let window = 0; window < 5; window++) {
        const info = await rpc('getblockchaininfo');
        if (info.bip9_softforks?.segwit?.status === 'active') return;
        await mine(144 - (node.chain.height % 144) || 144, script);
      }
      throw new Error('segwit did not activate on regtest');
    },
    async rawTransaction(txid) {
      return Buffer.from((await rpc('getrawtransaction', [txid, 0])) as string, 'hex');
    },
    async submit(raw) {
      const tx = bcoin.TX.fromRaw(Buffer.from(raw));
      const txid = tx.txid() as string;
      // bcoin's sendrawtransaction answers the txid before the mempool has judged the transaction,
      // and whatever it decides; a refusal only shows as an 'error' event of the node.
      let refusal: string | null = null;
      const onError = (err: any) => {
        // bcoin 1.0.2 keeps a refused transaction's hash as hex, in internal byte order.
        if (err?.type === 'VerifyError' && err.hash === tx.hash('hex'))
          refusal = `${err.code}: ${err.reason}`;
      };
      node.on('error', onError);
      try {
        const answer = await rpc('sendrawtransaction', [Buffer.from(raw).toString('hex')]);
        const deadline = performance.now() + SUBMIT_LIMIT_MS;
        for (;;) {
          if (refusal !== null) throw new Error(`bcoin refused ${txid} (${refusal})`);
          if (await inMempool(txid)) return txid;
          if (performance.now() > deadline)
            throw new Error(`bcoin answered ${String(answer)} but ${txid} never reached its mempool`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        node.off('error', onError);
      }
    },
    async mineTransaction(raw, script) {
      const tx = bcoin.TX.fromRaw(Buffer.from(raw));
      const job = await node.miner.createJob(node.chain.tip, addressOf(script));
      if (!job.attempt.addTX(tx, await node.chain.getCoinView(tx)))
        throw new Error(`bcoin's block template refused ${tx.txid()} (not final, or too large)`);
      job.refresh();
      const block = await job.mineAsync();
      // The chain checks the block by consensus rules (not policy) before it becomes the tip.
      await node.chain.add(block);
      return confirmationOf(tx.txid(), block.rhash());
    },
    async confirm(txid, script) {
      const blockHash = (await mine(1, script))[0]!;
      return confirmationOf(txid, blockHash);
    },
    confirmation: confirmationOf,
    full: node,
    rpcUrl: url,
    rpcAuthorization: authorization,
    stop,
  };
}

/**
 * Starts a bcoin regtest node (on another port if the first was taken in between) and stops it in
 * `after()`. Await it once at the top of a test file: the node then serves every test of the file.
 */
export function startBitcoinNode(): Promise<BitcoinNode> {
  return startPeer(startOnce);
}
