/**
 * The channel monitor without a node: the classifier against a plain reference over bigints
 * (fast-check), the alerts between readings, the facts a payment is judged on and what risk makes
 * of them (the catalog's Lightning rows), and `protocols.lightning.monitor_seconds` in warden.yaml.
 * The same monitor over real LDK nodes: channel-monitor.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { normalizeAllowedHost, normalizeAllowedOrigin } from '../../../src/api/http/guards.ts';
import { resolveWardenConfig } from '../../../src/config/warden-config.ts';
import { isWardenError, WardenError } from '../../../src/core/errors.ts';
import { CONFIG_SECTIONS } from '../../../src/protocols/config-sections.ts';
import type { ChannelState } from '../../../src/protocols/lightning/backend/backend.ts';
import {
  balanceState,
  classify,
  localRatio,
  type NodeReading,
  paymentSignals,
} from '../../../src/protocols/lightning/monitor/classify.ts';
import { alertsOf, ChannelMonitor } from '../../../src/protocols/lightning/monitor/monitor.ts';
import { RISK_CATALOG } from '../../../src/protocols/risk-catalog.ts';
import { assessRisk } from '../../../src/risk/index.ts';
import { lightningPay } from '../../risk/intents.ts';

const PEER = `02${'ab'.repeat(32)}`;
const channel = (id: string, localSat: bigint, capacitySat: bigint, active = true): ChannelState => ({
  channelId: id,
  peerId: PEER,
  active,
  private: false,
  capacityMsat: capacitySat * 1000n,
  localMsat: localSat * 1000n,
  remoteMsat: 0n,
});
const online = (channels: ChannelState[], at = '2026-12-03T19:00:00.000Z'): NodeReading => ({
  at,
  node: 'online',
  problem: null,
  channels: classify(channels),
});

describe('the classifier', () => {
  // The reference says it otherwise: depleted when local is under a tenth of the capacity rounded
  // up, full when it is over nine tenths rounded down (the same for whole numbers).
  const reference = (local: bigint, capacity: bigint) =>
    local < (capacity + 9n) / 10n ? 'depleted' : local > (capacity * 9n) / 10n ? 'full' : 'ok';
  const msat = fc.bigInt({ min: 0n, max: 2_100_000_000_000_000_000n });

  test('agrees with a plain reference over any bigint amounts (fast-check), and risk’s ratio agrees with it', () => {
    fc.assert(
      fc.property(msat, fc.bigInt({ min: 1n, max: 2_100_000_000_000_000_000n }), (a, capacity) => {
        const local = a % (capacity + 1n);
        const state = balanceState(local, capacity);
        assert.equal(state, reference(local, capacity));
        // risks.ts CHANNEL_DEPLETED: channelLocalRatio < 0.1 exactly when depleted.
        assert.equal(localRatio(local, capacity) < 0.1, state === 'depleted');
      }),
      { numRuns: 2000 },
    );
  });

  test('the edges: exactly 10 % and 90 % are ok, one msat either side is not; no float in the way', () => {
    const cap = 1_000_000_000n;
    assert.deepEqual(
      [99_999_999n, 100_000_000n, 900_000_000n, 900_000_001n].map((l) => balanceState(l, cap)),
      ['depleted', 'ok', 'ok', 'full'],
    );
    // Beyond 2^53 a float ratio would round these together.
    const big = 2n ** 70n;
    assert.equal(balanceState(big / 10n - 1n + (big % 10n === 0n ? 0n : 1n), big), 'depleted');
    assert.equal(balanceState(big / 10n + 1n, big), 'ok');
    assert.equal(localRatio(0n, 0n), 0);
  });
});

describe('alerts and the facts of a payment', () => {
  test('a channel that turns depleted, a peer that goes offline, a node unreachable alert once each', () => {
    const first = online([channel('1', 500_000n, 1_000_000n), channel('2', 50_000n, 1_000_000n)]);
    assert.deepEqual(
      alertsOf(null, first).map((a) => [a.kind, a.channelId]),
      [['channel-depleted', '2']],
    );
    const drained = online([channel('1', 90_000n, 1_000_000n), channel('2', 50_000n, 1_000_000n, false)]);
    assert.deepEqual(
      alertsOf(first, drained).map((a) => [a.kind, a.channelId]),
      [
        ['channel-depleted', '1'],
        ['counterparty-offline', '2'],
      ],
    );
    assert.deepEqual(alertsOf(drained, drained), [], 'a state that stays bad alerts once');
    const offline: NodeReading = {
      at: drained.at,
      node: 'offline',
      problem: 'BACKEND_UNREACHABLE',
      channels: [],
    };
    assert.deepEqual(
      alertsOf(drained, offline).map((a) => a.kind),
      ['node-offline'],
    );
    assert.deepEqual(alertsOf(offline, offline), []);
  });

  test('the signals: the local share of the active channels, a peer offline, the node offline; unknown tells nothing', () => {
    assert.deepEqual(
      paymentSignals(online([channel('1', 50_000n, 1_000_000n), channel('2', 900_000n, 1_000_000n, false)])),
      { nodeOffline: false, counterpartyOffline: true, channelLocalRatio: 0.05 },
    );
    assert.deepEqual(
      paymentSignals(online([channel('1', 95_000n, 500_000n), channel('2', 5_000n, 500_000n)])),
      {
        nodeOffline: false,
        counterpartyOffline: false,
        channelLocalRatio: 0.1,
      },
    );
    assert.deepEqual(paymentSignals(online([])), {
      nodeOffline: false,
      counterpartyOffline: false,
      channelLocalRatio: 0,
    });
    assert.deepEqual(
      paymentSignals({ at: '', node: 'offline', problem: 'BACKEND_UNREACHABLE', channels: [] }),
      {
        nodeOffline: true,
      },
    );
    assert.deepEqual(
      paymentSignals({ at: '', node: 'unknown', problem: 'BACKEND_REJECTED', channels: [] }),
      {},
    );
  });

  test('risk on those facts: depletion raises the channel rows, the peer and node offline their own, each over the plain payment', () => {
    const scoreOf = (signals: Record<string, boolean | number>) => {
      const a = assessRisk(lightningPay(1_000n, { signals }), {
        tolerance: 'high',
        catalog: RISK_CATALOG,
        signals,
      });
      return Object.fromEntries(a.risks.map((r) => [r.id, r.score]));
    };
    const plain = scoreOf({ nodeOffline: false, counterpartyOffline: false, channelLocalRatio: 0.5 });
    const depleted = scoreOf({ nodeOffline: false, counterpartyOffline: false, channelLocalRatio: 0.09 });
    const peerDown = scoreOf({ nodeOffline: false, counterpartyOffline: true, channelLocalRatio: 0.5 });
    const nodeDown = scoreOf({ nodeOffline: true });
    for (const id of ['ln.channel-depletion', 'ln.channel-exhaustion'])
      assert.ok(depleted[id]! > plain[id]!, id);
    // Routing failure is already Likely (4), the cap: raised by depletion, but no higher.
    assert.equal(depleted['ln.routing-failure'], plain['ln.routing-failure']);
    assert.ok(peerDown['ln.counterparty-offline']! > plain['ln.counterparty-offline']!);
    assert.ok(nodeDown['ln.node-offline']! > plain['ln.node-offline']!);
    assert.equal(depleted['ln.node-offline'], plain['ln.node-offline']);
  });

  test('a payment above 10,000,000 sat gets the on-chain alternative; one at it does not', () => {
    const alt = (sat: bigint) =>
      assessRisk(lightningPay(sat), { tolerance: 'high', catalog: RISK_CATALOG }).alternative;
    assert.equal(alt(10_000_000n), null);
    assert.equal(alt(10_000_001n)?.protocol, 'bitcoin');
    assert.match(alt(10_000_001n)!.reason, /on-chain/);
  });

  test('the monitor keeps the last reading with its time; a node unreachable is offline, another refusal unknown; a bug is thrown', async () => {
    const m = new ChannelMonitor();
    const at = new Date('2026-12-03T19:00:00.000Z');
    assert.equal(m.stale(at, 60_000), true);
    const heard: string[] = [];
    m.onAlert((a) => heard.push(a.kind));
    const r = await m.refresh(
      async () => [channel('7', 10n, 1_000_000n)],
      () => at,
    );
    assert.deepEqual([r.node, r.channels[0]?.balance, m.last?.at], ['online', 'depleted', at.toISOString()]);
    assert.equal(m.stale(new Date(at.getTime() + 60_000), 60_000), false);
    assert.equal(m.stale(new Date(at.getTime() + 60_001), 60_000), true);
    const down = await m.refresh(
      async () => {
        throw new WardenError('BACKEND_UNREACHABLE', 'no', { sent: false });
      },
      () => at,
    );
    assert.deepEqual([down.node, down.problem, down.channels], ['offline', 'BACKEND_UNREACHABLE', []]);
    const auth = await m.refresh(
      async () => {
        throw new WardenError('LIGHTNING_BACKEND_AUTH', 'no');
      },
      () => at,
    );
    assert.deepEqual([auth.node, auth.problem], ['unknown', 'LIGHTNING_BACKEND_AUTH']);
    assert.deepEqual(heard, ['channel-depleted', 'node-offline']);
    await assert.rejects(
      m.refresh(
        async () => {
          throw new TypeError('bug');
        },
        () => at,
      ),
      TypeError,
    );
    // A burst of refreshes: the one running, and one more after it for all who asked meanwhile.
    let reads = 0;
    let running = 0;
    const read = async () => {
      reads++;
      running++;
      assert.equal(running, 1, 'one read at a time');
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      return [];
    };
    await Promise.all(Array.from({ length: 20 }, () => m.refresh(read, () => at)));
    assert.equal(reads, 2);
    await m.refresh(read, () => at);
    assert.equal(reads, 3, 'a refresh after the burst reads again');
  });
});

describe('protocols.lightning.monitor_seconds in warden.yaml', () => {
  const load = (extra: string) =>
    resolveWardenConfig(
      `protocols:\n  lightning:\n    backend: lnd\n    url: https://lnd.example/\n${extra}`,
      { path: '/etc/warden/warden.yaml', source: 'home' },
      {
        sections: CONFIG_SECTIONS,
        normalize: { allowedHost: normalizeAllowedHost, allowedOrigin: normalizeAllowedOrigin },
        overrides: {},
      },
    );
  const problem = (extra: string) => {
    try {
      load(extra);
    } catch (err) {
      assert.ok(isWardenError(err));
      assert.equal(err.code, 'CONFIG_INVALID');
      return err;
    }
    assert.fail('expected CONFIG_INVALID');
  };

  test('default 60 s; a whole number of seconds from 10 to 3600', () => {
    const seconds = (extra: string) =>
      (load(extra).protocols.lightning as { monitorSeconds: number }).monitorSeconds;
    assert.equal(seconds(''), 60);
    assert.equal(seconds('    monitor_seconds: 10\n'), 10);
    assert.equal(seconds('    monitor_seconds: 3600\n'), 3600);
    for (const [value, message] of [
      ['9', /at least 10/],
      ['3601', /at most 3600/],
      ['30.5', /whole number/],
      ['"60"', /whole number/],
      ['-1', /at least 10/],
    ] as const) {
      const err = problem(`    monitor_seconds: ${value}\n`);
      assert.equal(err.details.path, 'protocols.lightning.monitor_seconds', err.message);
      assert.match(err.message, message);
    }
    assert.match(problem('    monitor_second: 60\n').message, /monitor_seconds/, 'a typo names the key');
  });
});
