/**
 * The channel monitor over real LDK nodes (A with channels to B and C, on a bcoin regtest chain),
 * read through the LND REST front (lnd's shapes) by a real gateway: what operators see on
 * GET /v1/lightning/channels, the facts a payment is judged on (its intent's signals, by dry-run),
 * and the alerts. A channel drained by a real payment turns depleted and raises the next
 * payment's risk; a peer stopped is offline; a backend that is not there is a node offline, and
 * the payment still fails closed. Only the REST layer is the front's, not lnd itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { monitorStatus } from '../../../src/cli/actions/monitor-status.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { canonicalJson } from '../../../src/core/canonical.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { Monitors } from '../../../src/gateway/monitors.ts';
import { lightningModuleConfig } from '../../../src/protocols/lightning/config.ts';
import { initCliVault, writeFileMode } from '../../helpers/cli.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { TEST_PASSPHRASE } from '../../helpers/home.ts';
import { startLightningGateway, startLndFrontOver, startNodesABC } from '../../helpers/lightning-setup.ts';
import { freePort } from '../../helpers/peer.ts';

const { ln, A, B, C } = await startNodesABC([
  ['A', 'B', 1_000_000n],
  ['A', 'C', 1_000_000n],
]);
const { macaroon, front } = await startLndFrontOver(ln, A);

const POLICY = `
version: 1
name: lightning-monitor
risk: { tolerance: high }
new_destination: allow
rules:
  - id: large
    match: { protocol: lightning, action: pay, asset: btc, amount: { min: 500000 } }
    effect: hold
  - id: payments
    match: { protocol: lightning, action: pay, asset: btc }
    effect: allow
    limits:
      - { window: 24h, max_value: 2000000 }
`;

/** A gateway paying through `url` as alice (her macaroon sealed), with an operator and an agent token. */
async function gateway(url: string) {
  const g = await startLightningGateway({
    identities: ['alice'],
    policies: { alice: POLICY },
    lightning: lightningModuleConfig({ backend: 'lnd', url, timeout_seconds: 30 }, { tor: null }),
    credential: { kind: 'macaroon', bytes: macaroon },
  });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['lightning:pay_invoice'] });
  const operator = await g.token('operator');
  // The gateway's own alert log, as a running server writes it.
  const logged: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'warn',
    stream: new Writable({
      write(chunk, _enc, done) {
        logged.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  });
  new Monitors(g.warden.vault, logger, g.gateway.operations);
  const channels = async (fresh = true) => {
    const r = await g.call('GET', `/v1/lightning/channels${fresh ? '?fresh=1' : ''}`, { token: operator });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.lightning;
  };
  const invoice = (payee: typeof B, sat: bigint) => payee.invoice(sat * 1000n, 'monitor test', 600).to_str();
  /** The next payment as risk would judge it: its intent's signals and the assessment. */
  const judged = async (bolt11: string) => {
    const r = await g.call('POST', '/v1/dry-run', {
      token: agent,
      body: { operation: 'lightning.pay_invoice', request: { invoice: bolt11 } },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const risk = r.body.decision.risk;
    const score = (id: string) => risk.risks.find((x: { id: string }) => x.id === id)?.score as number;
    return { signals: r.body.intent.signals, score: risk.score as number, row: score };
  };
  const pay = (bolt11: string) =>
    g.call('POST', '/v1/lightning/pay-invoice', { token: agent, body: { invoice: bolt11 } });
  return { g, agent, operator, logged, channels, invoice, judged, pay };
}

const main = await gateway(front.url);
const peerOf = (reading: { channels: { peerId: string }[] }, peer: typeof B) =>
  reading.channels.find((c) => c.peerId === peer.idHex) as Record<string, unknown>;

describe('the channel monitor over real LDK nodes, through the LND REST front', () => {
  test('operators read the node’s channels (GET /v1/lightning/channels); an agent may not', async () => {
    const denied = await main.g.call('GET', '/v1/lightning/channels', { token: main.agent });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'FORBIDDEN');
    const r = await main.channels();
    assert.deepEqual(
      [r.node, r.problem, r.summary],
      ['online', null, { channels: 2, active: 2, depleted: 0, full: 2, peersOffline: 0 }],
    );
    const ab = peerOf(r, B);
    assert.deepEqual([ab.active, ab.capacityMsat, ab.balance], [true, '1000000000', 'full']);
    assert.ok((ab.localPercent as number) > 90);
    // The last reading is served without asking the node again.
    const before = front.requests.filter((x) => x.route === 'channels').length;
    assert.equal((await main.channels(false)).at, r.at);
    assert.equal(front.requests.filter((x) => x.route === 'channels').length, before);
  });

  test('a payment above 10,000,000 sat is judged with the on-chain alternative; one of exactly that is not', async () => {
    const judge = async (sat: bigint) => {
      const r = await main.g.call('POST', '/v1/dry-run', {
        token: main.agent,
        body: { operation: 'lightning.pay_invoice', request: { invoice: main.invoice(B, sat) } },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
      return r.body.decision.risk.alternative;
    };
    assert.equal(await judge(10_000_000n), null);
    const alternative = await judge(10_000_001n);
    assert.equal(alternative.protocol, 'bitcoin');
    assert.match(alternative.reason, /on-chain/);
  });

  test('whose credential reads: one refused passes to the next identity’s, none at all is unknown; the reading names nobody', async () => {
    const g = await startTestGateway({
      identities: ['amy', 'bob', 'cat'],
      protocols: { lightning: lightningModuleConfig({ backend: 'lnd', url: front.url }, { tor: null }) },
    });
    const operator = await g.token('operator');
    const read = async () =>
      (await g.call('GET', '/v1/lightning/channels?fresh=1', { token: operator })).body.lightning;
    assert.deepEqual([(await read()).node, (await read()).problem], ['unknown', 'KEY_NOT_ACTIVE']);
    // amy's macaroon is not the node's; cat has none; bob's is.
    await g.warden.setCredential('amy', 'macaroon', new Uint8Array(randomBytes(32)));
    assert.deepEqual([(await read()).node, (await read()).problem], ['unknown', 'LIGHTNING_BACKEND_AUTH']);
    await g.warden.setCredential('bob', 'macaroon', Uint8Array.from(macaroon));
    const asked = () => front.requests.filter((x) => x.route === 'channels').length;
    let before = asked();
    const r = await read();
    assert.deepEqual(
      [r.node, r.summary.channels, asked() - before],
      ['online', 2, 2],
      'amy refused, then bob',
    );
    assert.doesNotMatch(JSON.stringify(r), /amy|bob|cat/);
    // bob read last: his is tried first.
    before = asked();
    assert.equal((await read()).node, 'online');
    assert.equal(asked() - before, 1);
  });

  test('the running server’s tick reads the node when its period is over', async () => {
    const g = await gateway(front.url);
    const before = front.requests.filter((x) => x.route === 'channels').length;
    await g.g.gateway.monitors.tick();
    assert.equal(front.requests.filter((x) => x.route === 'channels').length, before + 1);
    await g.g.gateway.monitors.tick();
    assert.equal(front.requests.filter((x) => x.route === 'channels').length, before + 1, 'not before 60 s');
    assert.equal((await g.channels(false)).node, 'online');
  });

  test('a peer stopped: its channel shows the counterparty offline, an alert is logged, and the next payment is judged on it', async () => {
    const plain = await main.judged(main.invoice(B, 1_000n));
    assert.deepEqual([plain.signals.nodeOffline, plain.signals.counterpartyOffline], [false, false]);
    assert.ok(plain.signals.channelLocalRatio > 0.9, JSON.stringify(plain.signals));
    C.stop();
    let r = await main.channels();
    for (let i = 0; i < 50 && r.summary.peersOffline === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await main.channels();
    }
    assert.equal(r.summary.peersOffline, 1);
    assert.equal(peerOf(r, C).active, false);
    assert.equal(peerOf(r, B).active, true);
    const alert = main.logged.find((l) => l.kind === 'counterparty-offline');
    assert.ok(alert, JSON.stringify(main.logged));
    assert.deepEqual(
      [alert.module, alert.channelId, alert.level],
      ['lightning', peerOf(r, C).channelId, 'warn'],
    );
    const judged = await main.judged(main.invoice(B, 1_000n));
    assert.equal(judged.signals.counterpartyOffline, true);
    assert.ok(judged.row('ln.counterparty-offline') > plain.row('ln.counterparty-offline'));
  });

  test('a channel drained below 10 % by real payments shows depleted, alerts, and raises the risk score of the next payment', async () => {
    const before = await main.judged(main.invoice(B, 1_000n));
    // A–B is the one active channel (C is offline): 950,000 of its 1,000,000 sat go to B, in payments of 95,000 (LDK lets a peer have at
    // most 10 % of a channel in flight at once).
    for (let i = 0; i < 10; i++) {
      const r = await main.pay(main.invoice(B, 95_000n));
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.request.status, 'done');
    }
    // The last payment's own execution read the channels again, with the credential it was lent.
    const reading = await main.channels(false);
    const ab = peerOf(reading, B);
    assert.equal(ab.balance, 'depleted', JSON.stringify(ab));
    assert.ok((ab.localPercent as number) < 10);
    assert.equal(reading.summary.depleted, 1);
    assert.ok(main.logged.some((l) => l.kind === 'channel-depleted' && l.channelId === ab.channelId));
    const after = await main.judged(main.invoice(B, 1_000n));
    assert.ok(after.signals.channelLocalRatio < 0.1, JSON.stringify(after.signals));
    assert.ok(after.row('ln.channel-depletion') > before.row('ln.channel-depletion'));
    assert.ok(after.score > before.score, `${before.score} → ${after.score}`);
    // A payment held for an operator: the approver sees the facts it was judged on, under the hash.
    const held = await main.pay(main.invoice(B, 600_000n));
    assert.equal(held.status, 202, JSON.stringify(held.body).slice(0, 300));
    const id = held.body.request.requestId;
    const shown = await main.g.call('GET', `/v1/approvals/${id}`, { token: main.operator });
    const { approval } = shown.body;
    assert.ok(approval.review.intent.signals.channelLocalRatio < 0.1, JSON.stringify(approval.review.intent));
    assert.equal(approval.intentHash, bytesToHex(sha256(utf8(canonicalJson(approval.review)))));
    const denied = await main.g.call('POST', `/v1/approvals/${id}/deny`, {
      token: main.operator,
      body: { reason: 'test' },
    });
    assert.equal(denied.status, 200, JSON.stringify(denied.body).slice(0, 300));
  });

  test('`warden status` reads the node afresh and names what needs an eye: the depleted channel, the peer offline', async () => {
    const { lines, readings } = await monitorStatus(main.g.gateway, main.g.warden);
    const reading = readings.lightning as { channels: { channelId: string; peerId: string }[] };
    const ab = reading.channels.find((c) => c.peerId === B.idHex)!;
    const ac = reading.channels.find((c) => c.peerId === C.idHex)!;
    assert.match(lines[0]!, /^lightning: {3}node online, 2 channels \(1 depleted, 1 full, 1 peers offline\)/);
    assert.ok(
      lines.some((l) => l.includes(`channel ${ab.channelId} `) && /depleted, local [0-9] %/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes(`channel ${ac.channelId} `) && l.endsWith('peer offline')),
      lines.join('\n'),
    );
  });

  test('`warden status` itself (the real command, warden.yaml naming the node): the node’s line and the channels that need an eye', async () => {
    const v = await initCliVault('lnmon-status', TEST_PASSPHRASE);
    writeFileMode(
      v.home,
      'warden.yaml',
      `protocols:\n  lightning:\n    backend: lnd\n    url: ${front.url}\nunsafe:\n  allow_loopback_rpc: true\n`,
    );
    const macaroonFile = join(v.dir, 'warden.macaroon');
    writeFileSync(macaroonFile, macaroon, { mode: 0o600 });
    for (const args of [
      ['identity', 'create', 'bot', '--network', 'regtest'],
      ['identity', 'lightning', 'bot', '--kind', 'macaroon', '--credential-file', macaroonFile],
    ]) {
      const r = await v.w(...args);
      assert.equal(r.code, 0, r.stderr);
    }
    const status = await v.w('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^lightning: {3}node online, 2 channels \(1 depleted, 1 full, 1 peers offline\)/m,
    );
    assert.match(status.stdout, /^ {2}channel \d+ to [0-9a-f]{16}…: depleted, local \d %/m);
    assert.doesNotMatch(status.stdout + status.stderr, new RegExp(Buffer.from(macaroon).toString('hex')));
  });

  test('a backend that is not there: the node offline, alerted; the payment fails closed as before and the next is judged on it', async () => {
    const down = await gateway(`http://127.0.0.1:${await freePort()}/`);
    const r = await down.channels();
    assert.deepEqual([r.node, r.problem, r.channels], ['offline', 'BACKEND_UNREACHABLE', []]);
    assert.ok(down.logged.some((l) => l.kind === 'node-offline'));
    const paid = await down.pay(down.invoice(B, 1_000n));
    assert.equal(paid.status, 502, JSON.stringify(paid.body).slice(0, 300));
    assert.equal(paid.body.error.code, 'BACKEND_UNREACHABLE');
    assert.equal(paid.body.error.details.request.status, 'failed');
    const totals = (await down.g.call('GET', '/v1/ledger', { token: down.agent })).body.totals as {
      status: string;
    }[];
    assert.ok(
      totals.every((t) => t.status !== 'reserved' && t.status !== 'committed'),
      JSON.stringify(totals),
    );
    const judged = await down.judged(down.invoice(B, 1_000n));
    assert.deepEqual(judged.signals, { nodeOffline: true });
  });
});
