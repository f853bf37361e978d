import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toFunctionSelector } from 'viem';
import { APPROVAL_SELECTORS } from '../../src/protocols/evm/risks.ts';
import { DM_KINDS, IDENTITY_REDIRECTION_KINDS } from '../../src/protocols/nostr/risks.ts';
import { riskCatalogEntry as catalogEntry, RISK_CATALOG } from '../../src/protocols/risk-catalog.ts';
import { assessRisk } from '../../src/risk/assess.ts';
import type { CatalogEntry } from '../../src/risk/catalog.ts';
import { bitcoinSend, evmCall, evmSend, evmSignMessage, lightningPay, nostrSign } from './intents.ts';

/**
 * Guideline 003, every table row, in the guideline's own words. This is the spec: the catalog must
 * hold each row with these numbers. Words → numbers as the guideline's enums; the category tables
 * grade likelihood Low/Medium, read as 1/2 (the guideline's own catalog: hot wallet Medium → UNLIKELY).
 */
type Words = { severity: string; likelihood: string };
interface SpecRow extends Words {
  table: 'financial' | 'operational' | 'security' | 'bitcoin-matrix' | 'lightning-matrix' | 'nostr-matrix';
  protocol: string;
  risk: string;
  id: string;
  mitigation?: string;
}

const SPEC: SpecRow[] = [
  // 1. Financial Risk
  {
    table: 'financial',
    protocol: 'Bitcoin',
    risk: 'Transaction to wrong address',
    severity: 'Critical',
    likelihood: 'Low',
    id: 'btc.wrong-address',
  },
  {
    table: 'financial',
    protocol: 'Bitcoin',
    risk: 'Overpaying fees',
    severity: 'Medium',
    likelihood: 'Medium',
    id: 'btc.fee-overpayment',
  },
  {
    table: 'financial',
    protocol: 'Lightning',
    risk: 'Channel force-close loss',
    severity: 'High',
    likelihood: 'Low',
    id: 'ln.force-close-loss',
  },
  {
    table: 'financial',
    protocol: 'Lightning',
    risk: 'Stuck HTLCs',
    severity: 'Medium',
    likelihood: 'Medium',
    id: 'ln.stuck-htlcs.financial',
  },
  // 2. Operational Risk
  {
    table: 'operational',
    protocol: 'Bitcoin',
    risk: 'Node sync failure',
    severity: 'Medium',
    likelihood: 'Low',
    id: 'btc.node-sync-failure',
  },
  {
    table: 'operational',
    protocol: 'Bitcoin',
    risk: 'API rate limiting',
    severity: 'Low',
    likelihood: 'Medium',
    id: 'btc.api-rate-limit',
  },
  {
    table: 'operational',
    protocol: 'Lightning',
    risk: 'Channel depletion',
    severity: 'High',
    likelihood: 'Medium',
    id: 'ln.channel-depletion',
  },
  {
    table: 'operational',
    protocol: 'Lightning',
    risk: 'Node offline',
    severity: 'High',
    likelihood: 'Low',
    id: 'ln.node-offline',
  },
  {
    table: 'operational',
    protocol: 'Nostr',
    risk: 'Relay unavailability',
    severity: 'Low',
    likelihood: 'Medium',
    id: 'nostr.relay-unavailable',
  },
  {
    table: 'operational',
    protocol: 'Nostr',
    risk: 'Event rejection',
    severity: 'Low',
    likelihood: 'Low',
    id: 'nostr.event-rejection',
  },
  // 3. Security Risk
  {
    table: 'security',
    protocol: 'Bitcoin',
    risk: 'Seed phrase exposure',
    severity: 'Critical',
    likelihood: 'Low',
    id: 'btc.seed-exposure',
  },
  {
    table: 'security',
    protocol: 'Lightning',
    risk: 'Hot wallet compromise',
    severity: 'Critical',
    likelihood: 'Medium',
    id: 'ln.hot-wallet-compromise',
  },
  {
    table: 'security',
    protocol: 'Nostr',
    risk: 'Private key theft',
    severity: 'High',
    likelihood: 'Medium',
    id: 'nostr.key-theft',
  },
  {
    table: 'security',
    protocol: 'All',
    risk: 'Man-in-the-middle',
    severity: 'High',
    likelihood: 'Low',
    id: 'all.mitm',
  },
  // Bitcoin Risk Matrix
  {
    table: 'bitcoin-matrix',
    protocol: 'Bitcoin',
    risk: 'Double-spend (0-conf)',
    severity: 'High',
    likelihood: 'Possible',
    mitigation: 'Wait for confirmations',
    id: 'btc.double-spend-0conf',
  },
  {
    table: 'bitcoin-matrix',
    protocol: 'Bitcoin',
    risk: 'Fee sniping',
    severity: 'Medium',
    likelihood: 'Rare',
    mitigation: 'Use sequence locks',
    id: 'btc.fee-sniping',
  },
  {
    table: 'bitcoin-matrix',
    protocol: 'Bitcoin',
    risk: 'Address reuse',
    severity: 'Medium',
    likelihood: 'Possible',
    mitigation: 'HD wallet, new address per tx',
    id: 'btc.address-reuse',
  },
  {
    table: 'bitcoin-matrix',
    protocol: 'Bitcoin',
    risk: 'UTXO dust',
    severity: 'Low',
    likelihood: 'Likely',
    mitigation: 'Consolidate during low fees',
    id: 'btc.utxo-dust',
  },
  {
    table: 'bitcoin-matrix',
    protocol: 'Bitcoin',
    risk: 'Reorg (1-conf)',
    severity: 'High',
    likelihood: 'Rare',
    mitigation: 'Wait for 2-3 confirmations',
    id: 'btc.reorg-1conf',
  },
  {
    table: 'bitcoin-matrix',
    protocol: 'Bitcoin',
    risk: 'Reorg (6-conf)',
    severity: 'Critical',
    likelihood: 'Very rare',
    mitigation: 'Accept 6-conf as final',
    id: 'btc.reorg-6conf',
  },
  // Lightning Risk Matrix
  {
    table: 'lightning-matrix',
    protocol: 'Lightning',
    risk: 'Counterparty offline',
    severity: 'Medium',
    likelihood: 'Possible',
    mitigation: 'Multiple channels',
    id: 'ln.counterparty-offline',
  },
  {
    table: 'lightning-matrix',
    protocol: 'Lightning',
    risk: 'Force close (high fees)',
    severity: 'High',
    likelihood: 'Unlikely',
    mitigation: 'Anchor outputs, watchtower',
    id: 'ln.force-close-high-fees',
  },
  {
    table: 'lightning-matrix',
    protocol: 'Lightning',
    risk: 'Stuck HTLC',
    severity: 'Medium',
    likelihood: 'Possible',
    mitigation: 'Timeout handling',
    id: 'ln.stuck-htlc.matrix',
  },
  {
    table: 'lightning-matrix',
    protocol: 'Lightning',
    risk: 'Routing failure',
    severity: 'Low',
    likelihood: 'Likely',
    mitigation: 'MPP, fallback to Bitcoin',
    id: 'ln.routing-failure',
  },
  {
    table: 'lightning-matrix',
    protocol: 'Lightning',
    risk: 'Channel exhaustion',
    severity: 'Medium',
    likelihood: 'Possible',
    mitigation: 'Monitor, rebalance',
    id: 'ln.channel-exhaustion',
  },
  {
    table: 'lightning-matrix',
    protocol: 'Lightning',
    risk: 'Payment tracking',
    severity: 'Medium',
    likelihood: 'Unlikely',
    mitigation: 'Multiple nodes, Tor',
    id: 'ln.payment-tracking',
  },
  // Nostr Risk Matrix
  {
    table: 'nostr-matrix',
    protocol: 'Nostr',
    risk: 'Relay censorship',
    severity: 'Low',
    likelihood: 'Possible',
    mitigation: 'Multiple relays',
    id: 'nostr.relay-censorship',
  },
  {
    table: 'nostr-matrix',
    protocol: 'Nostr',
    risk: 'Relay data loss',
    severity: 'Medium',
    likelihood: 'Possible',
    mitigation: 'Publish to 5+ relays',
    id: 'nostr.relay-data-loss',
  },
  {
    table: 'nostr-matrix',
    protocol: 'Nostr',
    risk: 'Identity linking',
    severity: 'Medium',
    likelihood: 'Possible',
    mitigation: 'Separate npubs',
    id: 'nostr.identity-linking',
  },
  {
    table: 'nostr-matrix',
    protocol: 'Nostr',
    risk: 'DM interception',
    severity: 'High',
    likelihood: 'Rare',
    mitigation: 'NIP-44 encryption',
    id: 'nostr.dm-interception',
  },
  {
    table: 'nostr-matrix',
    protocol: 'Nostr',
    risk: 'Impersonation',
    severity: 'Medium',
    likelihood: 'Possible',
    mitigation: 'NIP-05 verification',
    id: 'nostr.impersonation',
  },
];

const SEVERITY: Record<string, number> = { Low: 1, Medium: 2, High: 3, Critical: 4 };
const LIKELIHOOD: Record<string, number> = { Rare: 1, 'Very rare': 1, Unlikely: 2, Possible: 3, Likely: 4 };
/** Category tables (financial, operational, security) grade likelihood Low / Medium. */
const TABLE_LIKELIHOOD: Record<string, number> = { Low: 1, Medium: 2 };
const CATEGORY_OF_TABLE: Record<string, string> = {
  financial: 'financial',
  operational: 'operational',
  security: 'security',
};
const PROTOCOL: Record<string, string> = {
  Bitcoin: 'bitcoin',
  Lightning: 'lightning',
  Nostr: 'nostr',
  All: 'all',
};

function expectedLikelihood(row: SpecRow): number {
  const table = row.table.endsWith('-matrix') ? LIKELIHOOD : TABLE_LIKELIHOOD;
  const n = table[row.likelihood];
  assert.ok(n !== undefined, `no number for likelihood word ${row.likelihood}`);
  return n;
}

test('every row of the guideline tables is in the catalog with its numbers', () => {
  assert.equal(SPEC.length, 31);
  for (const row of SPEC) {
    const entry = catalogEntry(row.id);
    assert.ok(entry, `${row.table}: ${row.risk} missing (${row.id})`);
    assert.equal(entry.name, row.risk, row.id);
    assert.equal(entry.severity, SEVERITY[row.severity], `${row.id} severity`);
    assert.equal(entry.likelihood, expectedLikelihood(row), `${row.id} likelihood`);
    assert.equal(entry.protocol, PROTOCOL[row.protocol], `${row.id} protocol`);
    assert.equal(entry.source, `guideline:${row.table}`, `${row.id} source`);
    const category = CATEGORY_OF_TABLE[row.table];
    if (category !== undefined) assert.equal(entry.category, category, `${row.id} category`);
    if (row.mitigation !== undefined) assert.equal(entry.mitigation, row.mitigation, `${row.id} mitigation`);
  }
});

test('only Warden rows are outside the guideline tables, and they are marked so', () => {
  const specIds = new Set(SPEC.map((r) => r.id));
  const extra = RISK_CATALOG.entries.filter((e) => !specIds.has(e.id));
  assert.ok(extra.length > 0);
  for (const e of extra)
    assert.equal(e.source, 'warden', `${e.id} is not in the guideline and not marked warden`);
  const evm = RISK_CATALOG.entries.filter((e) => e.protocol === 'evm').map((e) => e.id);
  for (const id of [
    'evm.wrong-address',
    'evm.wrong-chain-replay',
    'evm.fee-overpayment',
    'evm.token-approval',
  ]) {
    assert.ok(evm.includes(id), id);
  }
});

test('rows found in two places with different numbers keep both facts', () => {
  const pairs: [string, string][] = [
    ['ln.force-close-loss', 'ln.force-close-high-fees'],
    ['ln.stuck-htlcs.financial', 'ln.stuck-htlc.matrix'],
  ];
  for (const [a, b] of pairs) {
    const ea = catalogEntry(a);
    const eb = catalogEntry(b);
    assert.ok(ea && eb);
    assert.notEqual(ea.severity * ea.likelihood, eb.severity * eb.likelihood, `${a} / ${b}`);
  }
  // Hot wallet: table Critical/Medium and the guideline sketch CRITICAL × UNLIKELY agree on 4 × 2.
  const hot = catalogEntry('ln.hot-wallet-compromise');
  assert.equal(hot?.severity, 4);
  assert.equal(hot?.likelihood, 2);
});

test('catalog is well formed: unique ids, levels 1..4, frozen', () => {
  const ids = RISK_CATALOG.entries.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const e of RISK_CATALOG.entries) {
    assert.ok([1, 2, 3, 4].includes(e.severity), e.id);
    assert.ok([1, 2, 3, 4].includes(e.likelihood), e.id);
    assert.ok(e.mitigation.length > 0, e.id);
    assert.ok(e.appliesTo.length > 0, e.id);
  }
  assert.ok(Object.isFrozen(RISK_CATALOG));
  assert.ok(Object.isFrozen(RISK_CATALOG.entries));
  const first = RISK_CATALOG.entries[0] as CatalogEntry;
  assert.ok(Object.isFrozen(first));
  assert.throws(() => {
    (first as { severity: number }).severity = 1;
  }, TypeError);
});

test('every catalog row applies to some operation Warden performs', () => {
  const samples = [
    { intent: bitcoinSend(50_000n), signals: { spendsUnconfirmed: true } },
    { intent: lightningPay(5_000n), signals: {} },
    { intent: evmSend(10n ** 17n), signals: {} },
    { intent: evmCall('0x095ea7b3'), signals: {} },
    { intent: evmSignMessage(), signals: {} },
    ...[1, ...IDENTITY_REDIRECTION_KINDS, ...DM_KINDS].map((k) => ({ intent: nostrSign(k), signals: {} })),
  ];
  const seen = new Set<string>();
  for (const { intent, signals } of samples) {
    for (const r of assessRisk(intent, { tolerance: 'medium', catalog: RISK_CATALOG, signals }).risks)
      seen.add(r.id);
  }
  for (const e of RISK_CATALOG.entries) assert.ok(seen.has(e.id), `${e.id} never applies`);
});

test('approval selectors are the real function selectors', () => {
  const signatures = [
    'approve(address,uint256)',
    'increaseAllowance(address,uint256)',
    'setApprovalForAll(address,bool)',
    'permit(address,address,uint256,uint256,uint8,bytes32,bytes32)',
    'permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32)',
    'approve(address,address,uint160,uint48)',
  ];
  assert.deepEqual(
    [...APPROVAL_SELECTORS],
    signatures.map((s) => toFunctionSelector(s)),
  );
});
