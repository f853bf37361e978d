import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Decision } from '../../src/core/decision.ts';
import type { Intent } from '../../src/core/intent.ts';
import { loadSnapshot, reserve, restamp, settle, settleFee } from '../../src/gateway/ledger.ts';
import { LedgerCache } from '../../src/gateway/ledger-cache.ts';
import { evaluate, type Policy, snapshotHorizon } from '../../src/policy/index.ts';
import { POLICY_LANGUAGE } from '../../src/protocols/policy-language.ts';
import type { Store, WriteTx } from '../../src/store/store.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/home.ts';
import { btcIntent, risk } from '../policy/helpers.ts';

const HOUR = 3_600_000;
const IDENTITIES = ['alice', 'bob'];
const DESTINATIONS = ['bc1qdest0', 'bc1qdest1', 'bc1qdest2'];
/** Budgets as the checks read them: value and count, rolling and calendar, per destination. */
const POLICIES: Policy[] = [
  ['1m', 'value', false],
  ['1h', 'count', true],
  ['24h', 'value', true],
  ['day', 'count', false],
  ['7d', 'value', false],
  ['week', 'value', true],
  ['month', 'count', true],
].map(([window, measure, perDestination]) =>
  POLICY_LANGUAGE.fromData({
    version: 1,
    name: `${window}-${measure}`,
    rules: [
      {
        id: 'budget',
        effect: 'allow',
        limits: [
          {
            window,
            per_destination: perDestination,
            ...(measure === 'value' ? { max_value: '3000000000000' } : { max_count: 4 }),
          },
        ],
      },
      // A second rule's window, so that several rules and windows are checked at once.
      { id: 'hourly', effect: 'allow', limits: [{ window: '1h', max_value: '2000000000000' }] },
    ],
  }),
);

function intentFor(identity: string, amount = 0n, destination = DESTINATIONS[0]!, maxFee = 0n): Intent {
  return { ...btcIntent(amount, [destination]), identity, maxFee };
}

/** Decisions compare whole, bigints spelled out. */
const json = (d: Decision) => JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

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
  | { kind: 'check'; proc: number; identity: number; policy: number; destination: number; amount: bigint };

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
      fc.constantFrom(...[60_000, HOUR, 24 * HOUR, 7 * 24 * HOUR].flatMap((l) => [l - 1, l, l + 1])),
    ),
  }),
  fc.record({ kind: fc.constant('rollback' as const), proc, identity }),
  fc.record({
    kind: fc.constant('check' as const),
    proc,
    identity,
    policy: fc.integer({ min: 0, max: POLICIES.length - 1 }),
    destination: fc.integer({ min: 0, max: DESTINATIONS.length - 1 }),
    amount: fc.bigInt({ min: 0n, max: 2n * 10n ** 12n }),
  }),
);

test('decisions over the cached windows always equal those over the snapshot read afresh (two processes, rollbacks, horizons)', async () => {
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

      /** What every step does first, as the pipeline does: a decision, compared with the fresh read. */
      const compare = async (
        p: Proc,
        tx: WriteTx,
        who: string,
        policy = 2,
        intent = intentFor(who),
        modelled = true,
      ) => {
        const at = new Date(now);
        const since = snapshotHorizon(POLICIES[policy]!, at);
        const cached = await p.cache.snapshot(tx.sync, intent, since, at);
        const fresh = await loadSnapshot(tx.sync, intent, since, at);
        assert.equal(
          json(evaluate(intent, risk(), cached, POLICIES[policy]!, at)),
          json(evaluate(intent, risk(), fresh, POLICIES[policy]!, at)),
        );
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
            const who = IDENTITIES[op.identity]!;
            const intent = intentFor(who, op.amount, DESTINATIONS[op.destination]!);
            await p.store.transaction(async (tx) => compare(p, tx, who, op.policy, intent));
          } else if (op.kind === 'reserve') {
            const who = IDENTITIES[op.identity]!;
            await p.store.transaction(async (tx) => {
              await compare(p, tx, who);
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
                await compare(p, tx, who, 2, intentFor(who), false);
                throw new Error('abort');
              }),
              /abort/,
            );
          } else if (requests.length > 0) {
            const r = requests[op.pick % requests.length]!;
            const changed = await p.store.transaction(async (tx) => {
              await compare(p, tx, r.identity);
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
        // In the end both processes agree with the database for every identity and policy.
        for (const p of procs) {
          for (const who of IDENTITIES) {
            await p.store.transaction(async (tx) => {
              for (const i of POLICIES.keys()) await compare(p, tx, who, i);
            });
          }
        }
      } finally {
        for (const s of stores) await s.close();
      }
    }),
    { numRuns: 200 },
  );
});

test('with thousands of rows: old reservations committed into the middle of the windows, time moving on', async () => {
  const dir = tempDir('ledger-cache');
  let run = 0;
  const step = fc.record({
    commits: fc.array(fc.nat(), { maxLength: 40 }),
    advance: fc.oneof(fc.integer({ min: 0, max: 2 * HOUR }), fc.constantFrom(HOUR, 24 * HOUR, 24 * HOUR + 1)),
    checks: fc.array(
      fc.record({
        policy: fc.integer({ min: 0, max: POLICIES.length - 1 }),
        destination: fc.integer({ min: 0, max: DESTINATIONS.length - 1 }),
        amount: fc.bigInt({ min: 0n, max: 2n * 10n ** 12n }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ age: fc.integer({ min: 0, max: 9 * 24 * HOUR }), destination: fc.nat(3) }), {
        minLength: 2000,
        maxLength: 3000,
      }),
      fc.array(step, { minLength: 3, maxLength: 8 }),
      async (rows, steps) => {
        const raw = await openSqliteStore(join(dir, `bulk-${run++}.db`));
        const cache = new LedgerCache();
        const store = cache.guard(raw);
        let now = Date.parse('2026-03-03T12:00:00Z');
        const open: string[] = [];
        try {
          await store.transaction(async (tx) => {
            for (const [i, r] of rows.entries()) {
              // Destination 3: several outputs, no single destination.
              const dests = r.destination === 3 ? DESTINATIONS : [DESTINATIONS[r.destination]!];
              const intent = { ...btcIntent(10n ** 9n + BigInt(i), dests), identity: 'alice', maxFee: 7n };
              await reserve(tx.sync, `req_${i}`, intent, new Date(now - r.age));
              // Most are committed at once; the others wait, to be committed later at their old time.
              if (i % 3 !== 0) await settle(tx.sync, `req_${i}`, 'committed', new Date(now));
              else open.push(`req_${i}`);
            }
          });
          for (const s of steps) {
            now += s.advance;
            await store.transaction(async (tx) => {
              for (const c of s.commits) {
                if (open.length > 0)
                  await settle(tx.sync, open.splice(c % open.length, 1)[0]!, 'committed', new Date(now));
              }
              for (const c of s.checks) {
                const at = new Date(now);
                const policy = POLICIES[c.policy]!;
                const intent = intentFor('alice', c.amount, DESTINATIONS[c.destination]!);
                const since = snapshotHorizon(policy, at);
                const cached = evaluate(
                  intent,
                  risk(),
                  await cache.snapshot(tx.sync, intent, since, at),
                  policy,
                  at,
                );
                const fresh = evaluate(
                  intent,
                  risk(),
                  await loadSnapshot(tx.sync, intent, since, at),
                  policy,
                  at,
                );
                assert.equal(json(cached), json(fresh));
              }
            });
          }
        } finally {
          await raw.close();
        }
      },
    ),
    { numRuns: 4 },
  );
});

test('a rolled-back transaction takes back what it put in the cache, and only that', async () => {
  const dir = tempDir('ledger-cache');
  const raw = await openSqliteStore(join(dir, 'ledger.db'));
  const cache = new LedgerCache();
  const store = cache.guard(raw);
  const now = new Date('2026-03-01T00:00:00Z');
  const policy = POLICIES[1]!;
  const since = snapshotHorizon(policy, now);
  const intent = intentFor('alice', 7n);
  /** What the 1h count window holds as reserved and as spent, by the cached windows. */
  const counted = async (tx: WriteTx, who = intent) => {
    const decision = evaluate(who, risk(), await cache.snapshot(tx.sync, who, since, now), policy, now);
    const count = decision.trail[0]!.limits.find((l) => l.limit === '1h' && l.measure === 'count')!;
    return { reserved: count.reserved, used: count.used };
  };
  const abort = (fn: (tx: WriteTx) => Promise<void>) =>
    assert.rejects(
      store.transaction(async (tx) => {
        await fn(tx);
        throw new Error('abort');
      }),
      /abort/,
    );
  const bob = intentFor('bob', 3n);
  try {
    await store.transaction(async (tx) => reserve(tx.sync, 'req_kept', intent, now));
    await store.transaction(async (tx) => reserve(tx.sync, 'req_bob', bob, now));
    // Both budgets kept (loaded in transactions that committed).
    await store.transaction(async (tx) => {
      await counted(tx);
      await counted(tx, bob);
    });
    assert.equal(cache.budgetsKept, 2);

    // An insert that vanishes.
    await abort(async (tx) => {
      reserve(tx.sync, 'req_gone', intent, now);
      assert.deepEqual(await counted(tx), { reserved: 2n, used: 0n });
    });
    assert.equal(cache.budgetsKept, 2, 'the other budget is not dropped, nor this one');
    assert.deepEqual(await store.transaction(counted), { reserved: 1n, used: 0n });

    // A change of an existing row that is undone: the row counts as it was, reserved.
    await abort(async (tx) => {
      settle(tx.sync, 'req_kept', 'committed', now);
      assert.deepEqual(await counted(tx), { reserved: 0n, used: 1n });
    });
    assert.deepEqual(await store.transaction(counted), { reserved: 1n, used: 0n });
    assert.deepEqual(await store.transaction((tx) => counted(tx, bob)), { reserved: 1n, used: 0n });

    // A budget first loaded by the transaction that rolls back is dropped (it may hold its rows).
    const carol = intentFor('carol', 1n);
    await abort(async (tx) => {
      reserve(tx.sync, 'req_carol', carol, now);
      assert.deepEqual(await counted(tx, carol), { reserved: 1n, used: 0n });
    });
    assert.equal(cache.budgetsKept, 2);
    assert.deepEqual(await store.transaction((tx) => counted(tx, carol)), { reserved: 0n, used: 0n });
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
