import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { isWardenError } from '../../src/core/errors.ts';
import type { Intent } from '../../src/core/intent.ts';
import { BITCOIN_RISKS, SAT_SCALE as BTC_SAT_SCALE } from '../../src/protocols/bitcoin/risks.ts';
import { EVM_RISKS } from '../../src/protocols/evm/risks.ts';
import { LIGHTNING_RISKS, SAT_SCALE as LN_SAT_SCALE } from '../../src/protocols/lightning/risks.ts';
import { DM_KINDS } from '../../src/protocols/nostr/risks.ts';
import { PROTOCOL_RISKS, RISK_CATALOG, riskCatalogEntry } from '../../src/protocols/risk-catalog.ts';
import { conditionHolds } from '../../src/risk/applies.ts';
import { assessRisk } from '../../src/risk/assess.ts';
import {
  buildCatalog,
  type CatalogEntry,
  type Condition,
  type ProtocolRisks,
} from '../../src/risk/catalog.ts';
import { describeCondition, describeEntry, describeOperation } from '../../src/risk/describe.ts';
import { nostrSign } from './intents.ts';

/** Today's catalog, recorded before its rows moved to the modules (conditions in the facet form). */
const RECORDED: unknown[] = JSON.parse(
  readFileSync(new URL('./fixtures/catalog.json', import.meta.url), 'utf8'),
);

const plain = (e: CatalogEntry) =>
  JSON.parse(
    JSON.stringify({
      id: e.id,
      name: e.name,
      category: e.category,
      protocol: e.protocol,
      severity: e.severity,
      likelihood: e.likelihood,
      mitigation: e.mitigation,
      source: e.source,
      signals: (e.raisedBy ?? []).map((r) => r.signal),
      appliesTo: e.appliesTo,
    }),
  );

/** Rows added since the recording, each with the operation that brought it. */
const ADDED_SINCE: Readonly<Record<string, string>> = { 'evm.blind-signature': 'evm.sign_message' };

/**
 * Rows whose operations changed since the recording (issue 9: the Bitcoin matrix rows apply on the
 * facts of the request, not to every send alike), with where they apply now; the rest of each
 * row is still the recorded one.
 */
const APPLIES_SINCE: Readonly<Record<string, string>> = {
  'btc.address-reuse':
    'bitcoin send when signal paysOwnAddress is true (or not known); or bitcoin sign_psbt when at least one destination and signal paysOwnAddress is true; or bitcoin send or sign_psbt when at least one destination and signal paidBefore is true',
  'btc.utxo-dust': 'bitcoin send when signal smallCoins ≥ 1 (or not known); raised by highFees true +1',
  'btc.reorg-1conf': 'bitcoin send when amount > 0 and signal minCoinDepth < 2 (or not known)',
  'btc.reorg-6conf': 'bitcoin send when amount > 0 and signal minCoinDepth < 6 (or not known)',
};

/**
 * Rows raised by more signals since the recording (issue 12: the channel monitor's facts), with
 * their signals now; the rest of each row is still the recorded one.
 */
const SIGNALS_SINCE: Readonly<Record<string, readonly string[]>> = {
  'ln.node-offline': ['nodeOffline', 'recentFailures'],
  'ln.counterparty-offline': ['counterpartyOffline', 'recentFailures'],
};

test('the assembled catalog is the recorded one: rows, order, numbers, sources, operations, signals', () => {
  assert.equal(RECORDED.length, 41);
  const recorded = RISK_CATALOG.entries.filter((e) => !(e.id in ADDED_SINCE));
  const withoutOperations = (row: unknown) => ({ ...(row as object), appliesTo: null });
  const withSignalsNow = (row: unknown) => {
    const id = (row as { id: string }).id;
    return id in SIGNALS_SINCE ? { ...(row as object), signals: SIGNALS_SINCE[id] } : row;
  };
  assert.deepEqual(
    recorded.map((e) => (e.id in APPLIES_SINCE ? withoutOperations(plain(e)) : plain(e))),
    RECORDED.map((r) => withSignalsNow((r as { id: string }).id in APPLIES_SINCE ? withoutOperations(r) : r)),
  );
  for (const [id, words] of Object.entries(APPLIES_SINCE))
    assert.equal(describeEntry(riskCatalogEntry(id)!), words, id);
  for (const id of Object.keys(ADDED_SINCE))
    assert.ok(
      RISK_CATALOG.entries.some((e) => e.id === id),
      id,
    );
  assert.deepEqual(RISK_CATALOG.protocols, ['bitcoin', 'lightning', 'nostr', 'evm']);
  assert.deepEqual(
    PROTOCOL_RISKS.map((m) => m.protocol),
    RISK_CATALOG.protocols,
  );
});

test('every module row has its module protocol; only the rows for all protocols stay in risk/', () => {
  for (const m of PROTOCOL_RISKS) {
    for (const row of m.rows) {
      assert.equal(row.protocol, m.protocol, row.id);
      for (const op of row.appliesTo) assert.equal(op.protocol, m.protocol, row.id);
    }
  }
  const fromModules = new Set(PROTOCOL_RISKS.flatMap((m) => m.rows.map((r) => r.id)));
  const shared = RISK_CATALOG.entries.filter((e) => !fromModules.has(e.id));
  assert.deepEqual(
    shared.map((e) => [e.id, e.protocol]),
    [['all.mitm', 'all']],
  );
});

test('Bitcoin and Lightning price sat alike; the alternatives are the guideline thresholds', () => {
  assert.deepEqual(LN_SAT_SCALE, BTC_SAT_SCALE);
  assert.equal(BITCOIN_RISKS.amountScale?.('btc'), BTC_SAT_SCALE);
  assert.equal(EVM_RISKS.amountScale?.('evm:1'), EVM_RISKS.amountScale?.('evm:137'));
  assert.equal(EVM_RISKS.amountScale?.(`evm:1:0x${'c'.repeat(40)}`), null);
  assert.deepEqual(
    RISK_CATALOG.alternatives.map((a) => [a.operation.protocol, a.alternative.protocol]),
    [
      ['bitcoin', 'lightning'],
      ['bitcoin', 'lightning'],
      ['lightning', 'bitcoin'],
    ],
  );
  assert.equal(LIGHTNING_RISKS.alternatives?.length, 1);
});

const cond = (facet: string, values: (string | number)[]): Condition => ({ type: 'facet-in', facet, values });
const withFacets = (facets: Intent['facets']): Intent => ({ ...nostrSign(1), facets });

test('facet condition: absent holds, null does not, else listed; strings without regard to case', () => {
  const c = cond('kind', [4, 14]);
  assert.equal(conditionHolds(c, withFacets({}), undefined), true);
  assert.equal(conditionHolds(c, withFacets({ kind: null }), undefined), false);
  assert.equal(conditionHolds(c, withFacets({ kind: 4 }), undefined), true);
  assert.equal(conditionHolds(c, withFacets({ kind: 1 }), undefined), false);
  assert.equal(conditionHolds(c, withFacets({ kind: '4' }), undefined), false);
  assert.equal(conditionHolds(c, withFacets({ kind: 4n }), undefined), false);
  const s = cond('function', ['0xa22cb465']);
  assert.equal(conditionHolds(s, withFacets({ function: '0xA22CB465' }), undefined), true);
  assert.equal(conditionHolds(s, withFacets({ function: '0xa9059cbb' }), undefined), false);
  // an inherited name is not a facet the intent carries
  assert.equal(conditionHolds(cond('constructor', [1]), withFacets({}), undefined), true);
  assert.equal(conditionHolds(cond('toString', [1]), withFacets({ kind: 1 }), undefined), true);
});

test('conditions and operations render in words', () => {
  const dm = riskCatalogEntry('nostr.dm-interception');
  assert.ok(dm);
  assert.equal(
    describeOperation(dm.appliesTo[0]!),
    `nostr sign_event when kind is one of ${DM_KINDS.join(', ')} (or not known)`,
  );
  assert.equal(
    describeOperation(riskCatalogEntry('evm.token-approval')!.appliesTo[0]!),
    'evm call when function is one of 0x095ea7b3, 0x39509351, 0xa22cb465, 0xd505accf, 0x8fcbaf0c, 0x87517c45 (or not known)',
  );
  assert.equal(
    describeEntry(riskCatalogEntry('evm.wrong-address')!),
    'evm send when amount > 0 and at least one destination; or evm call when at least one destination',
  );
  assert.equal(
    describeEntry(riskCatalogEntry('nostr.relay-unavailable')!),
    'nostr sign_event; raised by relayHealthyCount ≤ 0 +2, else relayHealthyCount < 3 +1; recentFailures ≥ 3 +1',
  );
  assert.equal(
    describeEntry(riskCatalogEntry('btc.double-spend-0conf')!),
    'bitcoin send when signal spendsUnconfirmed is true; raised by mempoolCongested true +1',
  );
  assert.equal(describeOperation(riskCatalogEntry('all.mitm')!.appliesTo[3]!), 'evm any action');
  assert.equal(describeCondition({ type: 'amount-below', than: 10_000n }), 'amount < 10000');
});

const row = (over: Partial<CatalogEntry> = {}): CatalogEntry => ({
  id: 'x.row',
  name: 'A risk',
  category: 'security',
  protocol: 'x',
  severity: 2,
  likelihood: 2,
  mitigation: 'Mitigate',
  source: 'warden',
  appliesTo: [{ protocol: 'x' }],
  ...over,
});
const refused = (fn: () => unknown) => assert.throws(fn, (e) => isWardenError(e, 'INVALID_ARGUMENT'));

test('buildCatalog refuses duplicates, foreign protocols and bad levels', () => {
  const x: ProtocolRisks = { protocol: 'x', rows: [row()] };
  assert.equal(buildCatalog([x], []).entries.length, 1);
  refused(() => buildCatalog([x, x], []));
  refused(() => buildCatalog([{ protocol: 'all', rows: [] }], []));
  refused(() => buildCatalog([{ protocol: 'x', rows: [row(), row()] }], []));
  refused(() => buildCatalog([{ protocol: 'x', rows: [row({ protocol: 'y' })] }], []));
  refused(() => buildCatalog([{ protocol: 'x', rows: [row({ appliesTo: [{ protocol: 'y' }] })] }], []));
  refused(() => buildCatalog([{ protocol: 'x', rows: [row({ appliesTo: [] })] }], []));
  refused(() => buildCatalog([{ protocol: 'x', rows: [row({ severity: 5 as 4 })] }], []));
  refused(() => buildCatalog([x], [row({ id: 'all.x' })]));
  refused(() =>
    buildCatalog(
      [
        {
          protocol: 'x',
          rows: [],
          alternatives: [{ operation: { protocol: 'y' }, alternative: { protocol: 'z', reason: 'r' } }],
        },
      ],
      [],
    ),
  );
});

test('rows for all protocols apply to every module the catalog is built from, and only to those', () => {
  const mitm = riskCatalogEntry('all.mitm');
  assert.deepEqual(
    mitm?.appliesTo.map((op) => op.protocol),
    ['bitcoin', 'lightning', 'nostr', 'evm'],
  );
  const withNew = buildCatalog([
    ...PROTOCOL_RISKS,
    {
      protocol: 'cashu',
      rows: [row({ id: 'cashu.x', protocol: 'cashu', appliesTo: [{ protocol: 'cashu' }] })],
    },
  ]);
  const intent: Intent = { ...nostrSign(1), protocol: 'cashu', action: 'melt' };
  assert.deepEqual(
    assessRisk(intent, { tolerance: 'medium', catalog: withNew }).risks.map((r) => r.id),
    ['cashu.x', 'all.mitm'],
  );
  // an unknown protocol gets nothing from the full catalog
  assert.deepEqual(assessRisk(intent, { tolerance: 'medium', catalog: RISK_CATALOG }).risks, []);
  // a row's place: the guideline's category tables, then the matrices, then Warden's own
  const sources = RISK_CATALOG.entries.map((e) => e.source);
  const firstWarden = sources.indexOf('warden');
  assert.ok(sources.slice(firstWarden).every((s) => s === 'warden'));
});

/** risk/ never names a protocol (outside comments) and imports only core/. */
const RISK_DIR = fileURLToPath(new URL('../../src/risk/', import.meta.url));
const PROTOCOL_WORDS = /nostr|evm|bitcoin|lightning|ethereum|zap|selector/i;

test('src/risk names no protocol outside comments and imports only core/', () => {
  const offenders: string[] = [];
  for (const name of readdirSync(RISK_DIR)) {
    const text = readFileSync(join(RISK_DIR, name), 'utf8');
    const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
    for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
      if (kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia)
        continue;
      if (kind === ts.SyntaxKind.NewLineTrivia || kind === ts.SyntaxKind.WhitespaceTrivia) continue;
      if (PROTOCOL_WORDS.test(scanner.getTokenText())) offenders.push(`${name}: ${scanner.getTokenText()}`);
    }
    for (const m of text.matchAll(/from '(\.[^']*)'/g)) {
      if (!/^\.\/|^\.\.\/core\//.test(m[1]!)) offenders.push(`${name} imports ${m[1]}`);
    }
  }
  assert.deepEqual(offenders, []);
});
