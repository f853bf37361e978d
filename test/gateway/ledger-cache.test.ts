import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Intent } from '../../src/core/intent.ts';
import { loadSnapshot, reserve, restamp, settle, settleFee } from '../../src/gateway/ledger.ts';
import { LedgerCache } from '../../src/gateway/ledger-cache.ts';
import type { LedgerSnapshot } from '../../src/policy/index.ts';
import type { Store, WriteTx } from '../../src/store/store.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';
import { btcIntent } from '../policy/helpers.ts';

const HOUR = 3_600_000;
const IDENTITIES = ['alice', 'bob'];
const DESTINATIONS = ['bc1qdest0', 'bc1qdest1', 'bc1qdest2'];
const LOOKBACKS = [60_000, HOUR, 24 * HOUR, 7 * 24 * HOUR];

function intentFor(identity: string, amount = 0n, destination = DESTINATIONS[0]!, maxFee = 0n): Intent {
  return { ...btcIntent(amount, [destination]), identity, maxFee };
}

/** Order-free comparison: the policy sums and sorts entries itself. */
function canonical(s: LedgerSnapshot): { entries: string[]; known: string[] } {
  return {
    entries: s.entries.map((e) => JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).sort(),
    known: [...s.knownDestinations].sort(),
  };
}

/** A "process": its own connection to the same database file and its own cache. */
interface Proc {
  store: Store;
  cache: LedgerCache;
}

/** What the network said an operation spent (null: nothing said, the worst case stays). */
type Paid = { fee: bigint | null; valueMoved: boolean } | null;

type Op =
  | { kind: 'reserve'; proc: number; identity: number; destination: number; amount: bigint; fee: bigint }
  | { kind: 'settle'; proc: number; pick: number; status: 'committed' | 'released' | 'unknown'; paid: Paid }
  | { kind: 'fee'; proc: number; pick: number; fee: bigint; valueMoved: boolean }
  | { kind: 'restamp'; proc: number; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'rollback'; proc: number; identity: number }
  | { kind: 'check'; proc: number; identity: number; lookback: number };

const proc = fc.integer({ min: 0, max: 1 });
const identity = fc.integer({ min: 0, max: IDENTITIES.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('reserve' as const),
    proc,
    identity,
    destination: fc.integer({ min: 0, max: DESTINATIONS.length - 1 }),
    amount: fc.bigInt({ min: 1n, max: 10n ** 12n }),
    // Fees are money: a worst case booked beside the amount (0 for what pays none).
    fee: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 10n ** 9n })),
  }),
  fc.record({
    kind: fc.constant('settle' as const),
    proc,
    pick: fc.nat(),
    status: fc.constantFrom('committed' as const, 'released' as const, 'unknown' as const),
    paid: fc.option(
      fc.record({ fee: fc.option(fc.bigInt({ min: 0n, max: 10n ** 9n })), valueMoved: fc.boolean() }),
    ),
  }),
  fc.record({
    kind: fc.constant('fee' as const),
    proc,
    pick: fc.nat(),
    fee: fc.bigInt({ min: 0n, max: 10n ** 9n }),
    valueMoved: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('restamp' as const), proc, pick: fc.nat() }),
  fc.record({
    kind: fc.constant('advance' as const),
    // Window boundaries exactly, and 1 ms either side, as often as anywhere else.
    ms: fc.oneof(
      fc.integer({ min: 0, max: 30 * HOUR }),
      fc.constantFrom(...LOOKBACKS.flatMap((l) => [l - 1, l, l + 1])),
    ),
  }),
  fc.record({ kind: fc.constant('rollback' as const), proc, identity }),
  fc.record({
    kind: fc.constant('check' as const),
    proc,
    identity,
    lookback: fc.integer({ min: 0, max: LOOKBACKS.length - 1 }),
  }),
);

test('the cached snapshot always equals the snapshot read afresh (two processes, rollbacks, horizons)', async () => {
  const dir = tempDir('ledger-cache');
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
      const path = join(dir, `ledger-${run++}.db`);
      const stores = [await openSqliteStore(path), await openSqliteStore(path)];
      const procs: Proc[] = stores.map((store, i) => {
        // The second process keeps one budget only: eviction must not change a single answer.
        const cache = new LedgerCache(i === 0 ? 1024 : 1);
        return { store: cache.guard(store), cache };
      });
      let now = Date.parse('2026-03-01T00:00:00Z');
      /** The model: what each request books, as the ledger rules say it should. */
      const requests: {
        id: string;
        identity: string;
        amount: bigint;
        fee: bigint;
        final: boolean;
        status: 'reserved' | 'committed' | 'released' | 'unknown';
      }[] = [];
      /** Reserved and unknown entries count whatever their age: their totals must match the model. */
      const openTotals = (who: string) => {
        let total = 0n;
        for (const r of requests)
          if (r.identity === who && (r.status === 'reserved' || r.status === 'unknown'))
            total += r.amount + r.fee;
        return total;
      };

      /** What every step does first, as the pipeline does: snapshot, compared with the fresh read. */
      const compare = async (p: Proc, tx: WriteTx, who: string, lookback: number, modelled = true) => {
        const intent = intentFor(who);
        const since = new Date(now - lookback);
        const at = new Date(now);
        const cached = await p.cache.snapshot(tx.sync, intent, since, at);
        const fresh = await loadSnapshot(tx.sync, intent, since, at);
        assert.deepEqual(canonical(cached), canonical(fresh));
        const open = fresh.entries
          .filter((e) => e.status !== 'committed')
          .reduce((sum, e) => sum + e.amount + e.fee, 0n);
        if (modelled)
          assert.equal(open, openTotals(who), 'reserved amounts and fees, as the model books them');
      };

      try {
        for (const op of ops) {
          if (op.kind === 'advance') {
            now += op.ms;
            continue;
          }
          const p = procs[op.proc]!;
          if (op.kind === 'check') {
            await p.store.transaction((tx) =>
              compare(p, tx, IDENTITIES[op.identity]!, LOOKBACKS[op.lookback]!),
            );
          } else if (op.kind === 'reserve') {
            const who = IDENTITIES[op.identity]!;
            await p.store.transaction(async (tx) => {
              await compare(p, tx, who, 24 * HOUR);
              const id = `req_${requests.length}`;
              const intent = intentFor(who, op.amount, DESTINATIONS[op.destination]!, op.fee);
              await reserve(tx.sync, id, intent, new Date(now));
              requests.push({
                id,
                identity: who,
                amount: op.amount,
                fee: op.fee,
                final: op.fee === 0n,
                status: 'reserved',
              });
            });
          } else if (op.kind === 'rollback') {
            const who = IDENTITIES[op.identity]!;
            await assert.rejects(
              p.store.transaction(async (tx) => {
                await reserve(tx.sync, 'req_rolled_back', intentFor(who, 5n), new Date(now));
                // The cache now holds a row that is about to vanish (and the model never had).
                await compare(p, tx, who, 24 * HOUR, false);
                throw new Error('abort');
              }),
              /abort/,
            );
          } else if (requests.length > 0) {
            const r = requests[op.pick % requests.length]!;
            const changed = await p.store.transaction(async (tx) => {
              await compare(p, tx, r.identity, 24 * HOUR);
              if (op.kind === 'settle')
                return settle(tx.sync, r.id, op.status, new Date(now), op.paid ?? undefined);
              if (op.kind === 'fee') {
                const spent = { fee: op.fee, valueMoved: op.valueMoved };
                return settleFee(tx, r.id, spent, new Date(now));
              }
              await restamp(tx, r.id, new Date(now));
              return 0;
            });
            // The model: a settle moves only open entries; the paid fee replaces the worst case
            // on a commit, and once only; a value that never moved books 0.
            const spend = (paid: { fee: bigint | null; valueMoved: boolean }) => {
              if (paid.fee !== null) [r.fee, r.final] = [paid.fee, true];
              if (!paid.valueMoved) r.amount = 0n;
            };
            if (op.kind === 'settle' && (r.status === 'reserved' || r.status === 'unknown')) {
              assert.equal(changed, 1);
              r.status = op.status;
              if (op.status === 'committed' && op.paid) spend(op.paid);
            } else if (op.kind === 'fee') {
              const open = r.status === 'committed' && !r.final;
              assert.equal(changed, open ? 1 : 0);
              if (open) spend({ fee: op.fee, valueMoved: op.valueMoved });
            } else if (op.kind === 'settle') {
              assert.equal(changed, 0, 'a settled entry never moves again');
            }
          }
        }
        // Every row books what the model says: amount, fee (worst case or paid) and status.
        const rows = await stores[0]!.db
          .selectFrom('ledger')
          .select(['request_id', 'amount', 'fee', 'fee_final', 'status'])
          .orderBy('request_id')
          .execute();
        assert.deepEqual(
          rows
            .map((r) => [r.request_id, BigInt(r.amount), BigInt(r.fee), r.fee_final === 1, r.status])
            .sort(),
          requests.map((r) => [r.id, r.amount, r.fee, r.final, r.status]).sort(),
        );
        // In the end both processes agree with the database for every identity and horizon.
        for (const p of procs) {
          for (const who of IDENTITIES) {
            for (const lookback of LOOKBACKS)
              await p.store.transaction(async (tx) => compare(p, tx, who, lookback));
          }
        }
      } finally {
        for (const s of stores) await s.close();
      }
    }),
    { numRuns: 200 },
  );
});

test('a rolled-back transaction empties the cache: the vanished reservation is never counted', async () => {
  const dir = tempDir('ledger-cache');
  const raw = await openSqliteStore(join(dir, 'ledger.db'));
  const cache = new LedgerCache();
  const store = cache.guard(raw);
  const now = new Date('2026-03-01T00:00:00Z');
  const since = new Date(now.getTime() - HOUR);
  const intent = intentFor('alice', 7n);
  try {
    await store.transaction(async (tx) => reserve(tx.sync, 'req_kept', intent, now));
    await assert.rejects(
      store.transaction(async (tx) => {
        await reserve(tx.sync, 'req_gone', intent, now);
        assert.equal((await cache.snapshot(tx.sync, intent, since, now)).entries.length, 2);
        throw new Error('abort');
      }),
      /abort/,
    );
    const after = await store.transaction(async (tx) => cache.snapshot(tx.sync, intent, since, now));
    assert.deepEqual(
      after.entries.map((e) => e.amount),
      [7n],
    );
  } finally {
    await raw.close();
  }
});

test('the database refuses a ledger change without a newer version, and any deletion', async () => {
  const raw = await openSqliteStore(join(tempDir('ledger-cache'), 'ledger.db'));
  try {
    await raw.transaction(async (tx) => reserve(tx.sync, 'req_1', intentFor('alice', 7n), new Date()));
    // What a hand edit or an older build would do: the cache would never hear of it.
    await assert.rejects(
      raw.db.updateTable('ledger').set({ status: 'committed' }).execute(),
      /newer version/,
    );
    await assert.rejects(raw.db.deleteFrom('ledger').execute(), /never deleted/);
    assert.equal(await raw.transaction(async (tx) => settle(tx.sync, 'req_1', 'committed', new Date())), 1);
  } finally {
    await raw.close();
  }
});
