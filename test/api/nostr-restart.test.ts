import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { verifyEvent } from 'nostr-tools';
import { agentWithPolicy, initCliVault } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';
import { nostrNotesPolicy } from '../helpers/policies.ts';

const POLICY = nostrNotesPolicy('nostr-count', 50);

/** Signs note `i` for the token at a server's URL: the HTTP status and the JSON answer. */
function noteSigner(token: string) {
  return (url: string, i: number) =>
    fetch(`${url}/v1/nostr/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 1, content: `note ${i}` }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
}

test('a Nostr count window survives kill -9 and restart: exactly 50 signatures in all', async () => {
  const { dir, w, start } = await initCliVault('nostr-restart', TEST_PASSPHRASE);
  assert.equal((await w('identity', 'create', 'poster')).code, 0);
  const token = await agentWithPolicy(w, dir, 'poster', POLICY);
  const sign = noteSigner(token);

  const first = await start();
  const batch1 = await Promise.all(Array.from({ length: 30 }, (_, i) => sign(first.url, i)));
  assert.equal(batch1.filter((r) => r.status === 200).length, 30);
  await first.stop('SIGKILL');

  const second = await start();
  const batch2 = await Promise.all(Array.from({ length: 100 }, (_, i) => sign(second.url, 30 + i)));
  const ok = batch2.filter((r) => r.status === 200);
  assert.equal(ok.length, 20, 'the 30 signatures before the crash still count');
  assert.equal(batch2.filter((r) => r.status === 403 && r.body.error.code === 'LIMIT_EXCEEDED').length, 80);
  assert.ok(ok.every((r) => verifyEvent(r.body.request.result.event)));
  assert.equal(await second.stop(), 0);
  const totals = JSON.parse((await w('--json', 'ledger', 'show')).stdout);
  assert.deepEqual(
    totals.map((t: { status: string; count: number }) => [t.status, t.count]),
    [['committed', 50]],
  );
});

test('a signature is admitted, signed and settled in one transaction: when settling fails nothing leaves and nothing stays half-booked, across a kill', async () => {
  const { dir, home, w, start } = await initCliVault('nostr-crash', TEST_PASSPHRASE);
  assert.equal((await w('identity', 'create', 'poster')).code, 0);
  const token = await agentWithPolicy(w, dir, 'poster', POLICY);
  const sign = noteSigner(token);
  const counted = async () => {
    const totals = JSON.parse((await w('--json', 'ledger', 'show')).stdout) as {
      status: string;
      count: number;
    }[];
    const of = (status: string) => totals.find((t) => t.status === status)?.count ?? 0;
    return { committed: of('committed'), stillCounting: of('reserved') + of('unknown') };
  };
  // Another connection to the server's database, as a failing disk would be: settlements fail
  // while it is installed, whether a committed entry is written at once (a signature settled in
  // its admission) or moved there. A Nostr signature is admitted, signed and settled in one
  // transaction, so the failure undoes the admission too: the state a crash before that commit leaves.
  const db = new Database(join(home, 'warden.db'));
  const failSettlements = () =>
    db.exec(`CREATE TRIGGER settle_fails BEFORE UPDATE ON ledger WHEN NEW.status = 'committed'
               BEGIN SELECT RAISE(ABORT, 'crash before settlement'); END;
             CREATE TRIGGER settle_fails_at_once BEFORE INSERT ON ledger WHEN NEW.status = 'committed'
               BEGIN SELECT RAISE(ABORT, 'crash before settlement'); END;`);

  const first = await start();
  const settled = await Promise.all(Array.from({ length: 10 }, (_, i) => sign(first.url, i)));
  assert.equal(settled.filter((r) => r.status === 200).length, 10);
  failSettlements();
  const unsettled = await Promise.all(Array.from({ length: 8 }, (_, i) => sign(first.url, 10 + i)));
  assert.equal(unsettled.filter((r) => r.status === 200).length, 0, 'no signature leaves unsettled');
  await first.stop('SIGKILL');
  db.exec('DROP TRIGGER settle_fails; DROP TRIGGER settle_fails_at_once;');
  db.close();
  assert.deepEqual(
    await counted(),
    { committed: 10, stillCounting: 0 },
    'nothing of the failed ones is booked',
  );

  const second = await start();
  const batch2 = await Promise.all(Array.from({ length: 100 }, (_, i) => sign(second.url, 18 + i)));
  const ok = batch2.filter((r) => r.status === 200);
  assert.equal(ok.length, 40, 'the cap of 50 less the 10 settled before the crash');
  assert.ok(ok.every((r) => verifyEvent(r.body.request.result.event)));
  assert.equal(await second.stop(), 0);
  assert.deepEqual(await counted(), { committed: 50, stillCounting: 0 }, 'exactly the cap, across the crash');
});
