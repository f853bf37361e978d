import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { type NostrEvent, verifyEvent } from 'nostr-tools';
import { agentWithPolicy, initCliVault } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';
import { nostrNotesPolicy } from '../helpers/policies.ts';

/**
 * Group commit under kill -9: a server signing with 64 requests in flight is killed at a random
 * moment, again and again. Whatever a client received must be on record (audit log and ledger),
 * the chain must verify, nothing may be left half-booked, and the budget never counts less than
 * what was signed: the cap holds exactly across every crash.
 */
const CAP = 400;
const ROUNDS = 8;
const IN_FLIGHT = 64;
const POLICY = nostrNotesPolicy('crash-count', CAP);

interface Received {
  event: NostrEvent;
}

test(`kill -9 in the middle of group commits, ${ROUNDS} times: every signature received is on record, and the cap holds exactly`, async (t) => {
  const { dir, home, w, start } = await initCliVault('group-commit-crash', TEST_PASSPHRASE);
  assert.equal((await w('identity', 'create', 'poster')).code, 0);
  const token = await agentWithPolicy(w, dir, 'poster', POLICY);
  const received: Received[] = [];
  let refused = 0;
  let note = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const server = await start();
    let killed = false;
    let firstAnswer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      firstAnswer = resolve;
    });
    const worker = async () => {
      while (!killed) {
        const i = note++;
        let r: Response;
        try {
          r = await fetch(`${server.url}/v1/nostr/sign`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ kind: 1, content: `note ${i}` }),
          });
        } catch {
          return; // the server is gone: whatever was in flight never answered
        }
        const body = (await r.json().catch(() => null)) as any;
        if (r.status === 200) received.push({ event: body.request.result.event });
        else if (r.status === 403 && body?.error?.code === 'LIMIT_EXCEEDED') {
          refused++;
          firstAnswer();
          return; // the cap is reached: more would only fill the log with refusals
        } else if (!killed) assert.fail(`unexpected answer ${r.status}: ${JSON.stringify(body)}`);
        firstAnswer();
      }
    };
    const workers = Array.from({ length: IN_FLIGHT }, worker);
    await answered;
    // A random moment while batches are being admitted, signed and committed.
    await new Promise((resolve) => setTimeout(resolve, randomInt(20, 400)));
    killed = true;
    await server.stop('SIGKILL');
    await Promise.all(workers);
  }

  assert.ok(received.length > 0, 'signatures were received before the crashes');
  for (const r of received) assert.equal(verifyEvent(r.event), true);
  assert.equal(new Set(received.map((r) => r.event.id)).size, received.length, 'no signature twice');
  assert.ok(received.length <= CAP, `at most the cap was signed (${received.length})`);

  const verify = await w('audit', 'verify');
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);

  // What the log says was signed, decrypted: every signature a client received is there, as received.
  const show = await w('--json', 'audit', 'show', '--limit', '10000');
  assert.equal(show.code, 0, show.stderr);
  const shown = JSON.parse(show.stdout) as {
    action: string;
    outcome: string;
    details?: { result?: { event?: NostrEvent } };
  }[];
  const logged = new Map<string, string>();
  for (const r of shown)
    if (r.action === 'nostr.sign_event.result' && r.outcome === 'ok' && r.details?.result?.event)
      logged.set(r.details.result.event.id, r.details.result.event.sig);
  for (const r of received)
    assert.equal(logged.get(r.event.id), r.event.sig, `event ${r.event.id} is on record`);

  // The ledger: nothing half-booked, one committed entry per signature on record.
  const db = new Database(join(home, 'warden.db'), { readonly: true });
  try {
    const byStatus = Object.fromEntries(
      (
        db.prepare('SELECT status, count(*) AS n FROM ledger GROUP BY status').all() as {
          status: string;
          n: number;
        }[]
      ).map((r) => [r.status, r.n]),
    );
    assert.deepEqual(
      Object.keys(byStatus),
      ['committed'],
      `only committed entries: ${JSON.stringify(byStatus)}`,
    );
    assert.equal(byStatus.committed, logged.size, 'one committed entry per signature on record');
    const done = db.prepare("SELECT count(*) AS n FROM request WHERE status = 'done'").get() as { n: number };
    assert.equal(done.n, logged.size);
    assert.equal(
      (
        db.prepare("SELECT count(*) AS n FROM request WHERE status NOT IN ('done', 'denied')").get() as {
          n: number;
        }
      ).n,
      0,
      'no request left executing',
    );
  } finally {
    db.close();
  }

  // The budget never under-counts: after all the crashes, exactly the cap can be signed in all.
  const last = await start();
  let more = 0;
  for (;;) {
    const r = await fetch(`${last.url}/v1/nostr/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 1, content: `after ${more}` }),
    });
    const body = (await r.json()) as any;
    if (r.status === 403) {
      assert.equal(body.error.code, 'LIMIT_EXCEEDED');
      break;
    }
    assert.equal(r.status, 200);
    more++;
  }
  assert.equal(await last.stop(), 0);
  t.diagnostic(
    `received ${received.length}, on record ${logged.size} (signed but never answered: ${logged.size - received.length}), refused ${refused}, signed after ${more}`,
  );
  assert.equal(
    logged.size + more,
    CAP,
    `exactly ${CAP} signatures in all (refused during the rounds: ${refused})`,
  );
});
