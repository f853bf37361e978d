/**
 * The requests and ledger states that the compatibility fixtures (test/policy/compat.test.ts)
 * replay against every template and every example of docs/policy.md. They cover each protocol,
 * each tier and cap of the templates, fees, first payments, windows near their caps and risk
 * above and below the caps, so that a change in matching, limits or wording shows up as a diff.
 */
import { readFileSync } from 'node:fs';
import type { Intent } from '../../../src/core/intent.ts';
import {
  type LedgerEntry,
  type LedgerSnapshot,
  ledgerEntryFromIntent,
} from '../../../src/policy/snapshot.ts';
import {
  BTC_ADDR,
  BTC_ADDR2,
  btcIntent,
  EVM_ADDR,
  EVM_ADDR2,
  evmIntent,
  HOUR,
  lnIntent,
  NOW,
  nostrIntent,
} from '../helpers.ts';

const GWEI = 10n ** 9n;
const ETH = 10n ** 18n;
const DEAD = '0x000000000000000000000000000000000000dEaD';
const TOKEN = `0x${'12'.repeat(20)}`;

/** An EVM request with its worst-case fee (21,000 gas × max fee per gas), as the module books it. */
function withGas(intent: Intent, gas = 21_000n): Intent {
  const perGas = intent.facets.max_fee_per_gas;
  return { ...intent, maxFee: typeof perGas === 'bigint' ? gas * perGas : 0n };
}

export interface CompatCase {
  readonly name: string;
  readonly intent: Intent;
  readonly score: number;
}

export const CASES: readonly CompatCase[] = [
  ...[0n, 1n, 999n, 1000n, 50_000n, 100_000n, 100_001n, 5_000_000n, 5_000_001n].map((a) => ({
    name: `bitcoin send ${a} sat`,
    intent: btcIntent(a),
    score: 8,
  })),
  { name: 'bitcoin send to two outputs', intent: btcIntent(500n, [BTC_ADDR, BTC_ADDR2]), score: 8 },
  { name: 'bitcoin send with a fee', intent: { ...btcIntent(4_999_000n), maxFee: 2_000n }, score: 8 },
  { name: 'bitcoin send, risk 13', intent: btcIntent(500n), score: 13 },
  { name: 'bitcoin send, risk 2', intent: btcIntent(500n), score: 2 },
  ...[999n, 1000n, 100_001n].map((a) => ({ name: `lightning pay ${a} sat`, intent: lnIntent(a), score: 8 })),
  ...[0, 1, 3, 4, 5, 7, 14, 9734, 22242, 24133, 30023, 37375].map((k) => ({
    name: `nostr kind ${k}`,
    intent: nostrIntent(k),
    score: 6,
  })),
  { name: 'nostr kind 1, risk 13', intent: nostrIntent(1), score: 13 },
  ...[1, 10, 137, 8453, 42161].map((chainId) => ({
    name: `evm send 0.01 ETH on chain ${chainId}`,
    intent: withGas(evmIntent(ETH / 100n, { chainId })),
    score: 4,
  })),
  ...[1n, 5n * 10n ** 16n, 6n * 10n ** 16n, ETH].map((a) => ({
    name: `evm send ${a} wei on chain 42161 at 200 gwei`,
    intent: withGas(evmIntent(a, { chainId: 42161, maxFeePerGas: 200n * GWEI })),
    score: 4,
  })),
  {
    name: 'evm send above the gas cap',
    intent: withGas(evmIntent(ETH / 100n, { chainId: 1, maxFeePerGas: 200n * GWEI + 1n })),
    score: 4,
  },
  { name: 'evm send without fee', intent: evmIntent(ETH / 10n, { chainId: 42161 }), score: 4 },
  {
    name: 'evm send to the other address',
    intent: withGas(evmIntent(ETH / 100n, { to: EVM_ADDR2 })),
    score: 4,
  },
  { name: 'evm send to 0x…dEaD', intent: withGas(evmIntent(1n, { to: DEAD })), score: 4 },
  {
    name: 'evm token send',
    intent: withGas(evmIntent(5n, { chainId: 1, contract: TOKEN })),
    score: 4,
  },
  {
    name: 'evm contract call (transfer)',
    intent: withGas(evmIntent(0n, { chainId: 1, contract: TOKEN, fn: '0xa9059cbb', to: TOKEN }), 60_000n),
    score: 4,
  },
  {
    name: 'evm call with value',
    intent: withGas(evmIntent(ETH / 1000n, { chainId: 10, contract: TOKEN, fn: '0xA9059CBB', to: TOKEN })),
    score: 4,
  },
  { name: 'evm send, risk 13', intent: withGas(evmIntent(1n, { chainId: 42161 })), score: 13 },
];

const t = NOW.getTime();
const MINUTE = 60_000;

function at(intent: Intent, ago: number, status: LedgerEntry['status'] = 'committed'): LedgerEntry {
  return ledgerEntryFromIntent(intent, t - ago, status);
}

/** Entries near the templates' caps: the 1 h and 24 h windows of each protocol. */
const BUSY_ENTRIES: LedgerEntry[] = [
  at(btcIntent(99_000n), 30 * MINUTE),
  ...Array.from({ length: 8 }, (_, i) => at(btcIntent(100n), (i + 1) * 6 * MINUTE)),
  at(lnIntent(400n, [`02${'cd'.repeat(32)}`]), 10 * MINUTE, 'reserved'),
  at(btcIntent(4_900_000n, [BTC_ADDR2]), 20 * HOUR),
  at(btcIntent(4_000_000n, [BTC_ADDR, BTC_ADDR2]), 5 * HOUR, 'unknown'),
  ...Array.from({ length: 99 }, (_, i) => at(nostrIntent(1), (i + 1) * 30_000)),
  ...Array.from({ length: 5 }, (_, i) => at(nostrIntent(7), (i + 1) * 60_000)),
  at(nostrIntent(0), 2 * HOUR),
  at(withGas(evmIntent(19n * 10n ** 16n, { chainId: 1 })), 2 * HOUR),
  at(withGas(evmIntent(5n * 10n ** 15n, { chainId: 42161 })), 5 * MINUTE, 'reserved'),
  ...Array.from({ length: 9 }, (_, i) => at(withGas(evmIntent(1n, { chainId: 10 })), (i + 1) * 5 * MINUTE)),
  at(withGas(evmIntent(0n, { chainId: 1, contract: TOKEN, fn: '0xa9059cbb', to: TOKEN })), HOUR / 2),
];

export const SNAPSHOTS: Readonly<Record<string, LedgerSnapshot>> = {
  empty: { entries: [], knownDestinations: new Set() },
  known: { entries: [], knownDestinations: new Set([BTC_ADDR, EVM_ADDR, `02${'ab'.repeat(32)}`]) },
  busy: { entries: BUSY_ENTRIES, knownDestinations: new Set([BTC_ADDR, EVM_ADDR]) },
};

export interface DocsBlock {
  /** The YAML as tested: a rules-only snippet gets a `version` and `name` put in front. */
  readonly yaml: string;
  /** Why it is tested as it is (completed, or skipped). */
  readonly note: string;
}

/**
 * Every ```yaml block of docs/policy.md. A block whose first line starts with `# fragment` is
 * skipped (it shows a piece of a document the real language may not have, e.g. a facet a module
 * could declare); a block without `version:` is a list of rules and is tested with a header put in
 * front.
 */
export function docsYamlBlocks(): { tested: DocsBlock[]; skipped: string[] } {
  const text = readFileSync(new URL('../../../docs/policy.md', import.meta.url), 'utf8');
  const tested: DocsBlock[] = [];
  const skipped: string[] = [];
  let n = 0;
  for (const m of text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) {
    const body = m[1] ?? '';
    n += 1;
    if (/^# fragment/.test(body)) {
      skipped.push(body.split('\n')[0] ?? '');
      continue;
    }
    if (/^version:/m.test(body)) tested.push({ yaml: body, note: `block ${n}: a whole document` });
    else
      tested.push({
        yaml: `version: 1\nname: docs-block-${n}\n${body}`,
        note: `block ${n}: rules only, header added`,
      });
  }
  return { tested, skipped };
}

/**
 * Policies beyond the templates and docs that use every facet, cap, unit and noun on its own, so
 * that each declared label, message and phrase shows in the fixtures (recorded with the code of
 * before the facets, a470ed6, like the rest).
 */
export const EXTRA_POLICIES: readonly string[] = [
  `version: 1
name: facets-one-by-one
rules:
  - { id: r-kind, match: { kind: [1, 7] }, effect: allow, limits: [{ window: 1h, max_count: 50 }] }
  - id: r-chain
    match: { chain_id: [1, 137] }
    effect: hold
    approvals: 2
    max_fee_per_gas: "100000000000"
    limits: [{ window: 24h, max_value: "100000000000000000" }]
  - id: r-contract
    match: { contract: "0x1212121212121212121212121212121212121212" }
    effect: allow
    limits: [{ window: 1h, max_count: 1 }]
  - { id: r-function, match: { function: ["0xA9059CBB", "0x095ea7b3"] }, effect: deny }
`,
  `version: 1
name: nouns-and-units
new_destination: hold
rules:
  - { id: a, match: { protocol: [nostr, bitcoin] }, effect: allow, limits: [{ window: day, max_count: 5 }] }
  - id: b
    match: { protocol: [evm, bitcoin], action: send }
    effect: allow
    max_per_tx: 1000
    limits: [{ window: week, max_value: 5000, per_destination: true }]
  - { id: c, match: { action: [call, pay] }, effect: hold, delay: 1h }
  - { id: d, match: { protocol: evm, action: pay }, effect: deny }
  - { id: e, match: { asset: ["evm:1", "evm:10"] }, effect: allow, max_per_tx: "1000000000000000000" }
  - { id: f, match: { asset: ["evm:1", "evm:137"] }, effect: allow, max_per_tx: 5 }
  - id: g
    match: { protocol: evm, chain_id: 31337, asset: "evm:31337" }
    effect: allow
    max_fee_per_gas: 1
  - id: h
    match: { protocol: lightning, destination: ["02${'ab'.repeat(32)}"] }
    effect: allow
    new_destination: hold
    risk: { max_score: 5 }
  - { id: i, match: { protocol: nostr, kind: 1, amount: { min: 1 } }, effect: allow }
  - { id: j, match: { asset: ["evm:1:${TOKEN}", "evm:1:0x${'34'.repeat(20)}"] }, effect: allow, max_per_tx: 9 }
  - { id: k, match: { amount: { max: 999 } }, effect: allow, max_fee_per_gas: "1000000000000" }
`,
];

/** Requests the extra policies need besides CASES: another function, a cap of 1 wei. */
export const EXTRA_CASES: readonly CompatCase[] = [
  {
    name: 'evm call of another function',
    intent: withGas(
      evmIntent(0n, { chainId: 137, contract: `0x${'34'.repeat(20)}`, fn: '0x23b872dd', to: TOKEN }),
      60_000n,
    ),
    score: 4,
  },
  ...[1n, 2n].map((perGas) => ({
    name: `evm send on chain 31337 at ${perGas} wei per gas`,
    intent: withGas(evmIntent(1n, { chainId: 31337, maxFeePerGas: perGas })),
    score: 4,
  })),
];
