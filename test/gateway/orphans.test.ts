/**
 * Taking over what a process that is gone left `executing` (gateway/orphans.ts), with real
 * executor locks held by real processes: only rows of an executor whose lock nobody holds are
 * taken; a live one's, this process's own, and rows with no executor or no lock file stay as they
 * are. Then reconcile: a request taken over with nothing on record is released as never sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyAudit } from '../../src/audit/verify.ts';
import { randomId } from '../../src/core/ids.ts';
import { nullLogger } from '../../src/core/logger.ts';
import { Gateway } from '../../src/gateway/gateway.ts';
import { recoverOrphans } from '../../src/gateway/orphans.ts';
import { stuckRequests } from '../../src/gateway/reconcile.ts';
import { reconcileFromBackends } from '../../src/gateway/reconcile-backends.ts';
import { Warden } from '../../src/gateway/warden.ts';
import { acquireExecutorLock } from '../../src/store/executor-lock.ts';
import { executorProcess, kill9 } from '../helpers/executor-process.ts';
import { passphrase, TEST_KDF, tempHome } from '../helpers/home.ts';

async function openWarden(): Promise<Warden> {
  const layout = tempHome('orphans');
  return Warden.init(
    { home: layout.dir, actor: 'cli:test', logger: nullLogger(), kdf: TEST_KDF },
    passphrase(),
  );
}

/** An `executing` row with its reservation, as admission leaves it, run by `executor`. */
async function executingRow(
  warden: Warden,
  executor: string | null,
  options: { protocol?: string; result?: string | null } = {},
): Promise<string> {
  const id = randomId('req');
  const protocol = options.protocol ?? 'evm';
  const now = new Date().toISOString();
  await warden.store.transaction(async (tx) => {
    tx.sync.run(
      `INSERT INTO request (id, identity, token_id, protocol, action, operation, intent, intent_hash, payload,
         status, decision, result, executor, created_at, updated_at)
       VALUES (?, 'alice', 'tok', ?, 'send', ?, '{}', 'h', X'00', 'executing', '{}', ?, ?, ?, ?)`,
      [id, protocol, `${protocol}.send`, options.result ?? null, executor, now, now],
    );
    tx.sync.run(
      `INSERT INTO ledger (id, request_id, identity, protocol, action, asset, facets, amount, fee, fee_final, at,
         status, updated_at, version)
       VALUES (?, ?, 'alice', ?, 'send', 'eth', '{}', '1000', '21', 0, ?, 'reserved', ?,
         (SELECT coalesce(max(version), 0) + 1 FROM ledger))`,
      [randomId('led'), id, protocol, Date.now(), now],
    );
  });
  return id;
}

async function rowOf(warden: Warden, id: string) {
  const request = await warden.store.db
    .selectFrom('request')
    .select(['status', 'error_code', 'payload', 'executor'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const ledger = await warden.store.db
    .selectFrom('ledger')
    .select('status')
    .where('request_id', '=', id)
    .executeTakeFirstOrThrow();
  return {
    status: request.status,
    code: request.error_code,
    payload: request.payload,
    ledger: ledger.status,
  };
}

test('only an executor that is gone loses its rows: alive elsewhere, alive here, unnamed or without a lock file, they stay executing', async () => {
  const warden = await openWarden();
  const dir = warden.layout.executors;
  const elsewhere = randomId('exe');
  const child = await executorProcess(dir, elsewhere);
  const here = acquireExecutorLock(dir, randomId('exe'));
  const live = await executingRow(warden, elsewhere);
  const ours = await executingRow(warden, here.id);
  const unnamed = await executingRow(warden, null);
  const fileless = await executingRow(warden, randomId('exe'));
  try {
    assert.deepEqual(await recoverOrphans(warden), []);
    for (const id of [live, ours, unnamed, fileless])
      assert.equal((await rowOf(warden, id)).status, 'executing', id);
    // Listed as stuck only by the old 10-minute rule, not before.
    assert.deepEqual(await stuckRequests(warden), []);
  } finally {
    await kill9(child);
  }
  const taken = await recoverOrphans(warden);
  assert.deepEqual(taken, [{ requestId: live, executor: elsewhere, recorded: false }]);
  assert.deepEqual(await rowOf(warden, live), {
    status: 'unknown',
    code: 'EXECUTOR_GONE',
    payload: null,
    ledger: 'unknown',
  });
  assert.deepEqual(
    (await stuckRequests(warden)).map((s) => s.requestId),
    [live],
    'reconcile sees it at once, still counted',
  );
  for (const id of [ours, unnamed, fileless]) assert.equal((await rowOf(warden, id)).status, 'executing');
  assert.deepEqual(await recoverOrphans(warden), [], 'taken over once');
  const records = await warden.showAudit({ limit: 10 });
  const orphaned = records.filter((r) => r.action === 'request.orphaned');
  assert.equal(orphaned.length, 1);
  assert.equal(orphaned[0]!.outcome, 'error');
  assert.deepEqual(
    [(orphaned[0]!.details as any).executor, (orphaned[0]!.details as any).code],
    [elsewhere, 'EXECUTOR_GONE'],
  );
  const verified = await verifyAudit(
    warden.store,
    warden.vault.auditKeys().publicKey,
    warden.layout.auditHead,
    {
      keyring: warden.vault.auditKeys(),
      requireDetails: true,
    },
  );
  assert.equal(verified.ok, true);
  here.release();
  await warden.close();
});

test('reconcile: taken over with nothing on record → released as never sent; with a txid on record and no node → left unknown', async () => {
  const warden = await openWarden();
  const gateway = new Gateway(warden, { logger: nullLogger() });
  const dir = warden.layout.executors;
  const dead = randomId('exe');
  const child = await executorProcess(dir, dead);
  const unsent = await executingRow(warden, dead);
  const sent = await executingRow(warden, dead, {
    result: JSON.stringify({
      txHash: `0x${'ab'.repeat(32)}`,
      nonce: 0,
      chainId: 1,
      from: `0x${'11'.repeat(20)}`,
    }),
  });
  await kill9(child);
  // reconcile takes the orphans over itself: no restart needed before it.
  const verdicts = await reconcileFromBackends(warden, gateway.operations);
  assert.deepEqual(
    verdicts.map((v) => [v.requestId, v.verdict]).sort(),
    [
      [sent, 'unresolved'],
      [unsent, 'release'],
    ].sort(),
  );
  assert.deepEqual(await rowOf(warden, unsent), {
    status: 'failed',
    code: 'RECONCILED_NOT_EXECUTED',
    payload: null,
    ledger: 'released',
  });
  assert.deepEqual(await rowOf(warden, sent), {
    status: 'unknown',
    code: 'EXECUTOR_GONE',
    payload: null,
    ledger: 'unknown',
  });
  await gateway.drain();
  await warden.close();
});
