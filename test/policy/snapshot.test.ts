import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeDestination } from '../../src/policy/destination.ts';
import { ledgerEntryFromIntent, snapshotHorizon } from '../../src/policy/snapshot.ts';
import { BTC_ADDR, BTC_ADDR2, btcIntent, EVM_ADDR, evmIntent, nostrIntent, policy } from './helpers.ts';

describe('snapshotHorizon', () => {
  const now = new Date('2026-01-07T15:30:00.000Z'); // a Wednesday

  test('the earliest start of any window (rolling: now − d)', () => {
    const p = policy(`rules:
  - { id: a, effect: allow, limits: [{ window: 1h, max_count: 1 }] }
  - { id: b, effect: allow, limits: [{ window: 7d, max_count: 1 }, { window: 24h, max_count: 1 }] }
`);
    assert.equal(snapshotHorizon(p, now).toISOString(), '2025-12-31T15:30:00.000Z');
  });

  test('calendar windows reach back to their period start (exclusive horizon: 1 ms before)', () => {
    const week = policy(
      'rules:\n  - { id: a, effect: allow, limits: [{ window: week, max_count: 1 }, { window: 1h, max_count: 1 }] }\n',
    );
    assert.equal(snapshotHorizon(week, now).toISOString(), '2026-01-04T23:59:59.999Z');
    const month = policy(
      'rules:\n  - { id: a, effect: allow, limits: [{ window: month, max_count: 1 }, { window: 10d, max_count: 1 }] }\n',
    );
    assert.equal(snapshotHorizon(month, now).toISOString(), '2025-12-28T15:30:00.000Z');
    const day = policy('rules:\n  - { id: a, effect: allow, limits: [{ window: day, max_count: 1 }] }\n');
    assert.equal(snapshotHorizon(day, now).toISOString(), '2026-01-06T23:59:59.999Z');
  });

  test('no windows: nothing older than now is needed', () => {
    const p = policy('rules:\n  - { id: a, effect: allow, max_per_tx: 5 }\n');
    assert.equal(snapshotHorizon(p, now).getTime(), now.getTime());
  });
});

describe('ledgerEntryFromIntent', () => {
  test('copies what windows match on', () => {
    const e = ledgerEntryFromIntent(
      evmIntent(5n, { chainId: 10, to: EVM_ADDR.toUpperCase().replace('0X', '0x') }),
      1000,
      'reserved',
    );
    assert.deepEqual(e, {
      protocol: 'evm',
      action: 'send',
      asset: 'evm:10',
      destination: EVM_ADDR,
      // Text and number facets only, keys sorted: nulls and the bigint max_fee_per_gas are left out.
      facets: { chain_id: 10 },
      amount: 5n,
      fee: 0n,
      at: 1000,
      status: 'reserved',
      identity: 'agent-1',
    });
    // The worst-case fee is booked with the amount: value windows count both.
    assert.equal(ledgerEntryFromIntent({ ...evmIntent(5n), maxFee: 42n }, 0, 'reserved').fee, 42n);
    const n = ledgerEntryFromIntent(nostrIntent(7), 5, 'committed');
    assert.deepEqual([n.facets, n.destination, n.asset, n.amount], [{ kind: 7 }, null, 'nostr:event', 0n]);
  });

  test('several destinations: no single destination (it then counts against every per-destination window)', () => {
    assert.equal(
      ledgerEntryFromIntent(btcIntent(1n, [BTC_ADDR, BTC_ADDR2]), 0, 'reserved').destination,
      null,
    );
    assert.equal(
      ledgerEntryFromIntent(btcIntent(1n, [BTC_ADDR, BTC_ADDR.toUpperCase()]), 0, 'reserved').destination,
      BTC_ADDR,
    );
  });
});

describe('normalizeDestination', () => {
  test('folds case only where the encoding is case-insensitive', () => {
    assert.equal(normalizeDestination(EVM_ADDR.toUpperCase().replace('0X', '0x')), EVM_ADDR);
    assert.equal(normalizeDestination(BTC_ADDR.toUpperCase()), BTC_ADDR);
    assert.equal(normalizeDestination(`02${'AB'.repeat(32)}`), `02${'ab'.repeat(32)}`);
    const base58 = '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2';
    assert.equal(normalizeDestination(base58), base58);
    const mixedBech32 = 'bc1QXY2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';
    assert.equal(
      normalizeDestination(mixedBech32),
      mixedBech32,
      'mixed case is not valid bech32: kept as is',
    );
  });
});
