/**
 * `warden nwc connect|list|revoke` through the real executable, and `warden start` answering the
 * connection over a real relay on loopback with an unmodified client (@getalby/sdk): the door is
 * wired into the server, a revocation by the CLI beside the running server ends the connection.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { initCliVault } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';
import { startTestRelay } from '../helpers/nostr-relay.ts';
import { NWCClient } from '../helpers/nwc-clients.ts';

const relay = await startTestRelay();
after(() => relay.close());

describe('warden nwc', () => {
  test('connect prints the URI once, list never shows its secret, start answers it, revoke ends it', async () => {
    const v = await initCliVault('nwccli', TEST_PASSPHRASE);
    assert.equal((await v.w('identity', 'create', 'bot')).code, 0);
    // Without an nwc section there is no relay to put in a URI: refused before the vault opens.
    const early = await v.w('nwc', 'connect', '--identity', 'bot', '--budget', '1000sat/day');
    assert.equal(early.code, 1, early.stderr);
    assert.match(early.stderr, /^CONFIG_INVALID: no relay/m);
    writeFileSync(
      join(v.home, 'warden.yaml'),
      `nwc:\n  relays: ["${relay.url}"]\nunsafe:\n  allow_loopback_rpc: true\n`,
      { mode: 0o600 },
    );
    const bad: [string[], RegExp][] = [
      [['--budget', 'lots'], /^USAGE: --budget is like 10000sat\/day/m],
      [['--budget', '1000sat/day', '--methods', 'pay_invoice,steal'], /^USAGE: unknown NWC method "steal"/m],
      [['--budget', '1000sat/day', '--hold-wait', '600'], /^USAGE: --hold-wait is 0 to 50 seconds/m],
      [['--budget', '1000sat/day', '--expires', 'forever'], /^USAGE: --expires takes a duration/m],
    ];
    for (const [args, pattern] of bad) {
      const r = await v.w('nwc', 'connect', '--identity', 'bot', ...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, pattern, args.join(' '));
    }
    const nobody = await v.w('nwc', 'connect', '--identity', 'nobody', '--budget', '1000sat/day');
    assert.match(nobody.stderr, /^IDENTITY_NOT_FOUND/m);

    const made = await v.w(
      '--json',
      'nwc',
      'connect',
      '--identity',
      'bot',
      '--budget',
      '2500sat/week',
      '--methods',
      'get_info,get_budget',
      '--expires',
      '7d',
    );
    assert.equal(made.code, 0, made.stderr);
    const connection = JSON.parse(made.stdout);
    assert.match(
      connection.uri,
      /^nostr\+walletconnect:\/\/[0-9a-f]{64}\?relay=ws%3A%2F%2F127\.0\.0\.1%3A\d+%2F&secret=[0-9a-f]{64}$/,
    );
    const secret = /secret=([0-9a-f]{64})/.exec(connection.uri)![1]!;
    assert.equal(connection.budget, '2500sat/week');
    const listed = await v.w('--json', 'nwc', 'list');
    assert.equal(listed.stdout.includes(secret), false, 'the secret is never listed');
    assert.deepEqual(
      JSON.parse(listed.stdout).connections.map((c: { id: string; methods: string[] }) => [c.id, c.methods]),
      [[connection.id, ['get_info', 'get_budget']]],
    );

    const server = await v.start();
    const client = new NWCClient({ nostrWalletConnectUrl: connection.uri });
    try {
      assert.match(server.output(), /Nostr Wallet Connect answers on ws:\/\/127\.0\.0\.1/);
      const info = await client.getInfo();
      assert.deepEqual(info.methods, ['get_info', 'get_budget']);
      const budget = (await client.getBudget()) as {
        total_budget: number;
        used_budget: number;
        renewal_period: string;
      };
      assert.deepEqual(
        [budget.total_budget, budget.used_budget, budget.renewal_period],
        [2_500_000, 0, 'weekly'],
      );
      const revoked = await v.w('nwc', 'revoke', connection.id);
      assert.equal(revoked.code, 0, revoked.stderr);
      await assert.rejects(client.getInfo(), (err: { code?: string }) => err.code === 'UNAUTHORIZED');
      const after = JSON.parse((await v.w('--json', 'nwc', 'list')).stdout).connections[0];
      assert.match(after.revokedAt, /^\d{4}-/);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
