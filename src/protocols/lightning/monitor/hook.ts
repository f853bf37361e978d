/**
 * The Lightning module's monitor as the gateway drives it (module.ts `ModuleMonitor`), and the
 * one refresh a payment makes with the credential it was lent anyway.
 *
 * Whose credential reads: the node and its channels are shared by every identity that pays
 * through it, and lnd answers ListChannels alike for any macaroon that may read it. A refresh
 * borrows one identity's credential for that one read (the vault's capability, as reconcile
 * does), the one that last read successfully first, then the others in the vault's order; one
 * refused (LIGHTNING_BACKEND_AUTH, KEY_NOT_ACTIVE) passes to the next; an unreachable node ends
 * the round (offline: no other credential would reach it). The reading keeps nothing of that
 * identity: it is node-level data, shown to operators only (the API route is admin), while an
 * agent sees only the facts risk judged its own payment on (classify.ts `paymentSignals`).
 */
import type { Canonical } from '../../../core/canonical.ts';
import { isWardenError, WardenError } from '../../../core/errors.ts';
import type { IntentSignals } from '../../../core/intent.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import type { ModuleMonitor, MonitorContext } from '../../module.ts';
import type { LightningBackend } from '../backend/backend.ts';
import type { LightningModuleBackend } from '../backend/connect.ts';
import { localRatio, type NodeReading, paymentSignals } from './classify.ts';
import { monitorOf } from './monitor.ts';

/** Codes of a credential that cannot read: the next identity's may. */
const CREDENTIAL_REFUSED: ReadonlySet<string> = new Set(['LIGHTNING_BACKEND_AUTH', 'KEY_NOT_ACTIVE']);

/** A reading older than this many periods is not judged on (a missed refresh or two is not news). */
export const STALE_PERIODS = 2;

const lastGood = new WeakMap<object, string>();

async function readChannels(backend: LightningModuleBackend, ctx: MonitorContext) {
  const readers = ctx.identities.filter((i) => i.lightning.configured);
  const preferred = lastGood.get(backend);
  readers.sort((a, b) => Number(b.name === preferred) - Number(a.name === preferred));
  let refused: unknown = new WardenError(
    'KEY_NOT_ACTIVE',
    'no identity has a Lightning credential to read the channels with',
    { protocol: 'lightning', purpose: 'lightning' },
  );
  for (const identity of readers) {
    try {
      const channels = await backend.withBackend(
        identity.name,
        identity.network as BitcoinNetwork,
        ctx.signer(identity.name, 'lightning-credential'),
        (ln) => ln.channels(),
      );
      lastGood.set(backend, identity.name);
      return channels;
    } catch (err) {
      if (!(isWardenError(err) && CREDENTIAL_REFUSED.has(err.code))) throw err;
      refused = err;
    }
  }
  throw refused;
}

/** A reading as JSON (amounts as decimal strings), with the counts an operator looks at first. */
export function readingJson(r: NodeReading): Canonical {
  const count = (test: (c: NodeReading['channels'][number]) => boolean) => r.channels.filter(test).length;
  return {
    at: r.at,
    node: r.node,
    problem: r.problem,
    summary: {
      channels: r.channels.length,
      active: count((c) => c.active),
      depleted: count((c) => c.balance === 'depleted'),
      full: count((c) => c.balance === 'full'),
      peersOffline: count((c) => !c.active),
    },
    channels: r.channels.map((c) => ({
      channelId: c.channelId,
      peerId: c.peerId,
      active: c.active,
      private: c.private,
      capacityMsat: c.capacityMsat.toString(),
      localMsat: c.localMsat.toString(),
      remoteMsat: c.remoteMsat.toString(),
      localPercent: Math.floor(localRatio(c.localMsat, c.capacityMsat) * 100),
      balance: c.balance,
    })),
  };
}

const now = () => new Date();

/**
 * The facts a payment through `backend` is judged on: those of the last reading when it is
 * recent (at most STALE_PERIODS periods old), none otherwise (an old reading is not a fact).
 */
export function monitorSignals(backend: LightningModuleBackend, at: Date = now()): IntentSignals {
  const monitor = monitorOf(backend);
  const reading = monitor.last;
  if (reading === null || monitor.stale(at, STALE_PERIODS * backend.monitorSeconds * 1000)) return {};
  return paymentSignals(reading);
}

/**
 * After a payment, while its credential is still lent: the channels it changed are read again,
 * so the next payment is judged on them. Never changes the payment's outcome: whatever it meets
 * is swallowed (the reading says offline or unknown).
 */
export async function readAfterPayment(backend: LightningModuleBackend, ln: LightningBackend): Promise<void> {
  try {
    await monitorOf(backend).refresh(() => ln.channels(), now);
  } catch {
    // A bug in a reading must not turn a paid payment into an unknown one.
  }
}

export const lightningMonitor: ModuleMonitor<LightningModuleBackend> = {
  path: '/v1/lightning/channels',
  periodMs: (backend) => backend.monitorSeconds * 1000,
  async refresh(backend, ctx) {
    return readingJson(await monitorOf(backend).refresh(() => readChannels(backend, ctx), now));
  },
  last(backend) {
    const reading = monitorOf(backend).last;
    return reading === null ? null : readingJson(reading);
  },
  // The channel, not the peer: a node id looks like key material to the log's redaction, and
  // the operator finds the peer by the channel on the route.
  onAlert: (backend, listener) =>
    monitorOf(backend).onAlert((a) => listener({ kind: a.kind, message: a.message, channelId: a.channelId })),
};
