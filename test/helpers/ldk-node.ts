import { after } from 'node:test';
import { Bolt11Invoice, Result_Bolt11InvoiceParseOrSemanticErrorZ_OK } from 'lightningdevkit';
import { type BitcoinNode, startBitcoinNode } from './bitcoin-node.ts';
import { createLdkPeer, type LdkPeer, loadLdk, type SentOutcome } from './ldk-peer.ts';
import { freePort } from './peer.ts';
import { createRegtestFunder } from './regtest-funder.ts';

/**
 * Real Lightning nodes for a test file: a bcoin regtest chain (test/helpers/bitcoin-node.ts, one
 * per file) and LDK nodes (test/helpers/ldk-peer.ts) that follow it, connected over TCP on
 * 127.0.0.1, with channels funded by real transactions, confirmed and usable before this resolves.
 * Await it once at the top of a test file; everything stops in `after()`.
 *
 *   const ln = await startLightningNodes(['A', 'B', 'C'], [['A', 'B', 1_000_000n], ['B', 'C', 1_000_000n]]);
 *
 * Channels are private (LDK's default): a payee's invoice carries the route hint that lets a payer
 * two hops away find it, as with a real wallet behind a routing node.
 */

/** LDK's default for a channel to be used: six confirmations of its funding. */
const FUNDING_CONFIRMATIONS = 6;
/** One round of every node's work every STEP_MS; their timers every TICK_EVERY rounds (~1 s). */
const STEP_MS = 20;
const TICK_EVERY = 50;
const READY_LIMIT_MS = 30_000;

export type ChannelPlan = readonly [from: string, to: string, sat: bigint];

export interface StartupTimes {
  bitcoinMs: number;
  segwitMs: number;
  channelsMs: number;
  totalMs: number;
}

export interface LightningNodes {
  bitcoin: BitcoinNode;
  node(name: string): LdkPeer;
  startup: StartupTimes;
  /** Mines blocks (to the funder; nothing a test watches). */
  mine(blocks: number): Promise<void>;
  /** Pays `bolt11` from `from` directly through LDK (no Warden in between), to its end. */
  pay(from: string, bolt11: string, maxFeeMsat: bigint, limitMs?: number): Promise<SentOutcome>;
  /** What went wrong inside LDK or a broadcast, for a failing test's message. */
  problems(): string[];
  stop(): Promise<void>;
}

export async function waitFor(condition: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, STEP_MS));
  }
}

/** Resolves the outcome of `paymentId` once LDK reports it. */
export function outcomeOf(peer: LdkPeer, paymentId: string, limitMs: number): Promise<SentOutcome> {
  return new Promise((resolve, reject) => {
    const known = peer.outcomeOf(paymentId);
    if (known) return resolve(known);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`payment ${paymentId} did not end within ${limitMs} ms`));
    }, limitMs);
    const off = peer.onSent((outcome) => {
      if (outcome.paymentId !== paymentId) return;
      clearTimeout(timer);
      off();
      resolve(outcome);
    });
  });
}

export async function startLightningNodes(
  names: readonly string[],
  channels: readonly ChannelPlan[],
): Promise<LightningNodes> {
  const started = performance.now();
  const [bitcoin] = await Promise.all([startBitcoinNode(), loadLdk()]);
  const funder = createRegtestFunder(bitcoin);
  const segwitStarted = performance.now();
  await bitcoin.activateSegwit(funder.script);
  const channelsStarted = performance.now();
  await funder.load(channels.length);

  const broadcastProblems: string[] = [];
  const tip = bitcoin.full.chain.tip;
  const peers = new Map<string, LdkPeer>();
  for (const name of names) {
    peers.set(
      name,
      createLdkPeer({
        name,
        port: await freePort(),
        // bcoin 1.0.2 keeps a block hash as hex in internal byte order, as LDK takes it.
        tip: { hash: tip.hash as string, height: tip.height as number },
        funding: funder,
        broadcast(raw) {
          // LDK broadcasts again what it already did (on restarts of its timers): bcoin then says so.
          bitcoin.submit(raw).catch((err: Error) => {
            if (!/already|duplicate/i.test(err.message)) broadcastProblems.push(err.message);
          });
        },
      }),
    );
  }
  const node = (name: string) => {
    const peer = peers.get(name);
    if (!peer) throw new Error(`no Lightning node ${name}`);
    return peer;
  };
  const all = [...peers.values()];

  const onBlock = (entry: { height: number }, block: { toRaw(): Buffer }) => {
    const raw = new Uint8Array(block.toRaw());
    for (const peer of all) peer.blockConnected(raw, entry.height);
  };
  bitcoin.full.chain.on('connect', onBlock);
  let round = 0;
  const loop = setInterval(() => {
    round++;
    for (const peer of all) peer.step(round % TICK_EVERY === 0);
  }, STEP_MS);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    clearInterval(loop);
    bitcoin.full.chain.removeListener('connect', onBlock);
    for (const peer of all) peer.stop();
  };
  after(stop);

  const mine = async (blocks: number) => {
    await bitcoin.mine(blocks, funder.script);
  };

  try {
    for (const peer of all) await peer.listen();
    for (const [from, to] of channels) await node(from).connect(node(to));
    await waitFor(
      () => channels.every(([from, to]) => node(from).hasPeer(node(to)) && node(to).hasPeer(node(from))),
      READY_LIMIT_MS,
      'the nodes are connected',
    );
    const mempoolBefore = bitcoin.full.mempool.map.size as number;
    for (const [from, to, sat] of channels) node(from).openChannel(node(to), sat);
    await waitFor(
      () => (bitcoin.full.mempool.map.size as number) >= mempoolBefore + channels.length,
      READY_LIMIT_MS,
      'every funding transaction is in the mempool',
    );
    await mine(FUNDING_CONFIRMATIONS);
    // Usable at both ends; then each payee's invoices carry a route hint for every channel it was
    // opened to (LDK adds one only once it has the channel's forwarding fees from the other end,
    // a moment after the channel is usable): without it nobody two hops away can find the payee.
    await waitFor(
      () =>
        all.every((peer) => peer.cm.list_channels().every((c) => c.get_is_usable())) &&
        all.every(
          (peer) =>
            peer.invoice(1_000n, 'readiness probe', 60).route_hints().length >=
            channels.filter(([, to]) => to === peer.name).length,
        ),
      READY_LIMIT_MS,
      "every channel is usable and hinted in its payee's invoices",
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; LDK: ${[...broadcastProblems, ...all.flatMap((p) => p.problems)].join(' | ')}`,
    );
  }
  const done = performance.now();

  return {
    bitcoin,
    node,
    mine,
    startup: {
      bitcoinMs: Math.round(segwitStarted - started),
      segwitMs: Math.round(channelsStarted - segwitStarted),
      channelsMs: Math.round(done - channelsStarted),
      totalMs: Math.round(done - started),
    },
    async pay(from, bolt11, maxFeeMsat, limitMs = 20_000) {
      const payer = node(from);
      const parsed = Bolt11Invoice.constructor_from_str(bolt11);
      if (!(parsed instanceof Result_Bolt11InvoiceParseOrSemanticErrorZ_OK))
        throw new Error('LDK cannot read the invoice');
      const paymentId = payer.send(parsed.res, maxFeeMsat);
      if (paymentId === null) throw new Error(`${from} refused to start the payment`);
      return outcomeOf(payer, paymentId, limitMs);
    },
    problems: () => [...broadcastProblems, ...all.flatMap((p) => p.problems)],
    stop,
  };
}
