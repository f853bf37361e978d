import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyEvent } from 'nostr-tools';
import { initCliVault, writeFileMode } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

const POLICY = `
version: 1
name: nostr-count
risk: { tolerance: high }
rules:
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
    limits:
      - { window: 24h, max_count: 50 }
`;

test('a Nostr count window survives kill -9 and restart: exactly 50 signatures in all', async () => {
  const { dir, w, start } = await initCliVault('nostr-restart', TEST_PASSPHRASE);
  assert.equal((await w('identity', 'create', 'poster')).code, 0);
  assert.equal(
    (await w('policy', 'set', writeFileMode(dir, 'p.yaml', POLICY), '--identity', 'poster')).code,
    0,
  );
  const token = JSON.parse(
    (await w('--json', 'token', 'create', '--role', 'agent', '--identity', 'poster', '--cap', 'nostr:sign'))
      .stdout,
  ).token;
  const sign = (url: string, i: number) =>
    fetch(`${url}/v1/nostr/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 1, content: `note ${i}` }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

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
