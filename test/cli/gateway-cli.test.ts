import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { verifyEvent } from 'nostr-tools';
import { agentWithPolicy, initCliVault, runWarden, writeFileMode } from '../helpers/cli.ts';
import { tokenParts } from '../helpers/gateway.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

/** The shell recipes of docs/approvals.md that recompute an intent hash, reading the JSON on stdin. */
function intentHashRecipes(): string[] {
  const page = readFileSync(new URL('../../docs/approvals.md', import.meta.url), 'utf8');
  const prefix = 'warden approvals show REQ_ID --json |';
  return [...page.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1]!.trim())
    .filter((block) => block.startsWith(prefix))
    .map((block) => `cat |${block.slice(prefix.length)}`);
}

async function vaultWithIdentity() {
  const v = await initCliVault('gwcli', TEST_PASSPHRASE);
  assert.equal((await v.w('identity', 'create', 'alice')).code, 0);
  return v;
}

describe('warden token / policy / approvals / ledger', () => {
  test('tokens: created once with their secret, listed without it, revoked; bad specs refused', async () => {
    const { w } = await vaultWithIdentity();
    const created = await w(
      '--json',
      'token',
      'create',
      '--role',
      'agent',
      '--identity',
      'alice',
      '--cap',
      'nostr:sign',
      '--ttl',
      '30d',
      '--label',
      'bot',
    );
    assert.equal(created.code, 0, created.stderr);
    const info = JSON.parse(created.stdout);
    assert.match(info.token, /^wdn_tok_/);
    const list = await w('--json', 'token', 'list');
    assert.equal(list.stdout.includes(tokenParts(info.token).secret), false, 'the secret is never listed');
    assert.equal(JSON.parse(list.stdout)[0].id, info.id);
    const revoked = await w('token', 'revoke', info.id);
    assert.equal(revoked.code, 0);
    assert.match(JSON.parse((await w('--json', 'token', 'list')).stdout)[0].revokedAt, /^\d{4}-/);
    const cases: [string[], RegExp][] = [
      [
        ['--role', 'agent', '--cap', 'nostr:sign'],
        /^INVALID_ARGUMENT: an agent token needs exactly one identity/m,
      ],
      [
        ['--role', 'agent', '--identity', 'alice'],
        /^INVALID_ARGUMENT: an agent token needs at least one capability/m,
      ],
      [
        ['--role', 'agent', '--identity', 'alice', '--cap', 'btc:steal'],
        /^INVALID_ARGUMENT: unknown capability/m,
      ],
      [['--role', 'operator', '--identity', 'alice'], /^INVALID_ARGUMENT: only agent tokens/m],
      [['--role', 'agent', '--identity', 'nobody', '--cap', 'nostr:sign'], /^IDENTITY_NOT_FOUND/m],
      [['--role', 'root'], /^INVALID_ARGUMENT: role must be one of/m],
    ];
    for (const [args, pattern] of cases) {
      const r = await w('token', 'create', ...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, pattern);
    }
    assert.equal((await w('token', 'create', '--role', 'viewer', '--ttl', 'forever')).code, 2);
  });

  test('policies: template, set, show, explain, schema, test; an invalid policy is refused and nothing stored', async () => {
    const { dir, w } = await vaultWithIdentity();
    const template = await runWarden(['policy', 'template', 'guidelines-default']);
    assert.equal(template.code, 0);
    const file = writeFileMode(dir, 'policy.yaml', template.stdout);
    const set = await w('policy', 'set', file, '--identity', 'alice');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Anything no rule allows is denied/);
    const show = JSON.parse((await w('--json', 'policy', 'show', '--identity', 'alice')).stdout);
    assert.equal(show.source, 'identity');
    assert.equal(show.document, template.stdout);
    const explained = await runWarden(['policy', 'explain', file]);
    assert.equal(explained.code, 0);
    assert.match(explained.stdout, /5,000,000 sat/);
    const schema = JSON.parse((await runWarden(['policy', 'schema'])).stdout);
    assert.equal(typeof schema, 'object');
    assert.ok(JSON.stringify(schema).includes('max_per_tx'));

    const bad = writeFileMode(
      dir,
      'bad.yaml',
      'version: 1\nname: bad\nrules:\n  - id: x\n    effect: allow\n    limits: [{ window: 2x, max_count: 1 }]\n',
    );
    const refused = await w('policy', 'set', bad, '--identity', 'alice');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^POLICY_INVALID: .*window/m);
    assert.equal(
      JSON.parse((await w('--json', 'policy', 'show', '--identity', 'alice')).stdout).document,
      template.stdout,
    );

    let files = 0;
    const request = (body: unknown) => writeFileMode(dir, `req-${files++}.json`, JSON.stringify(body));
    const auditActions = async () =>
      JSON.parse((await w('--json', 'audit', 'show', '--limit', '1000')).stdout).map(
        (r: { action: string }) => r.action,
      ) as string[];
    const auditBefore = await auditActions();
    const allowed = await w(
      'policy',
      'test',
      request({ operation: 'nostr.sign', identity: 'alice', request: { kind: 1, content: 'hi' } }),
    );
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^ALLOW/);
    const held = await w(
      'policy',
      'test',
      request({ operation: 'nostr.sign', identity: 'alice', request: { kind: 0, content: '{}' } }),
    );
    assert.match(held.stdout, /^HOLD/);
    const ledger = JSON.parse((await w('--json', 'ledger', 'show')).stdout);
    assert.deepEqual(ledger, [], 'policy test changed nothing');
    assert.deepEqual(JSON.parse((await w('--json', 'approvals', 'list')).stdout), [], 'no hold either');
    // Of the evaluations, not a trace: only the unseal of each CLI session since (two policy tests,
    // ledger show, approvals list, audit show) was recorded.
    const auditAfter = await auditActions();
    const besidesUnseals = (actions: string[]) => actions.filter((a) => a !== 'vault.unseal');
    assert.deepEqual(besidesUnseals(auditAfter), besidesUnseals(auditBefore));
    assert.equal(auditAfter.length - auditBefore.length, 5);
  });

  test('approvals from the CLI while the server runs: the held event is signed and the agent gets it', async () => {
    const { dir, w, start } = await vaultWithIdentity();
    const token = await agentWithPolicy(
      w,
      dir,
      'alice',
      'version: 1\nname: p\nrisk: { tolerance: high }\nrules:\n  - { id: profile, match: { protocol: nostr, kind: [0] }, effect: hold, approvals: 1 }\n',
    );
    const server = await start();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const held = await (
      await fetch(`${server.url}/v1/nostr/sign`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ kind: 0, content: '{"name":"a"}' }),
      })
    ).json();
    const id = (held as { request: { requestId: string } }).request.requestId;
    const list = JSON.parse((await w('--json', 'approvals', 'list')).stdout);
    assert.deepEqual(
      list.map((h: { requestId: string }) => h.requestId),
      [id],
    );
    const table = (await w('approvals', 'list')).stdout.split('\n');
    assert.match(table[0]!, /^ID\tIDENTITY\tOPERATION\tAGE\tINTENT\tSTATE\tSUMMARY$/);
    assert.match(
      table[1]!,
      new RegExp(
        `^${id}\talice\tnostr.sign_event\t\\d+s\t[0-9a-f]{12}\tneeds 1 more approval\\(s\\)\tprofile update`,
      ),
    );
    const shown = await w('approvals', 'show', id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /content: "\{\\"name\\":\\"a\\"\}"/);
    const hash = /^intent hash ([0-9a-f]{64})$/m.exec(shown.stdout)![1]!;
    // The operator's recipes of docs/approvals.md, taken from the page and run as written.
    const json = (await w('--json', 'approvals', 'show', id)).stdout;
    const recipes = intentHashRecipes();
    assert.equal(recipes.length, 2);
    for (const recipe of recipes) {
      const run = spawnSync('sh', ['-c', recipe], { input: json, encoding: 'utf8' });
      if (run.status === 0) assert.equal(run.stdout.split(' ')[0], hash, recipe);
      else assert.ok(!process.env.CI, `jq and sha256sum are installed in CI: ${run.stderr}`);
    }
    const approved = await w('approvals', 'approve', id, '--intent-hash', hash, '--wait', '10');
    assert.equal(approved.code, 0, approved.stderr);
    // The CLI records the approval; the running server's scheduler executes it; --wait follows it.
    assert.match(approved.stdout, new RegExp(`^${id}: signed, event [0-9a-f]{64}$`, 'm'));
    const polled = (await (await fetch(`${server.url}/v1/requests/${id}?wait=5`, { headers })).json()) as {
      request: { status: string; result: { event: never } };
    };
    assert.equal(polled.request.status, 'done');
    assert.equal(verifyEvent(polled.request.result.event), true);

    // A second profile change, vetoed from the CLI: never signed, its reservation released.
    const vetoed = (
      (await (
        await fetch(`${server.url}/v1/nostr/sign`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ kind: 0, content: '{"name":"b"}' }),
        })
      ).json()) as { request: { requestId: string } }
    ).request.requestId;
    const denied = await w('approvals', 'deny', vetoed, '--reason', 'not this name');
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, new RegExp(`^${vetoed}: denied \\(REQUEST_VETOED\\)$`, 'm'));
    const after = (await (await fetch(`${server.url}/v1/requests/${vetoed}?wait=5`, { headers })).json()) as {
      request: { status: string; errorCode: string | null; result: unknown };
    };
    assert.equal(after.request.status, 'denied', JSON.stringify(after));
    assert.equal(after.request.result, null, 'nothing signed');
    assert.equal(await server.stop(), 0);
    const totals = JSON.parse((await w('--json', 'ledger', 'show')).stdout);
    assert.deepEqual(
      totals.map((t: { status: string; count: number }) => [t.status, t.count]),
      [
        ['committed', 1],
        ['released', 1],
      ],
    );
    assert.match((await w('ledger', 'reconcile')).stdout, /nothing to reconcile/);
    assert.equal((await w('ledger', 'reconcile', '--from-chain')).code, 2, '--from-chain needs --evm-rpc');
    assert.equal((await w('ledger', 'reconcile', '--from-chain', '--commit', id)).code, 2);
    const audit = JSON.parse((await w('--json', 'audit', 'show', '--identity', 'alice')).stdout).map(
      (r: { action: string }) => r.action,
    );
    for (const action of [
      'policy.set',
      'token.create',
      'nostr.sign_event',
      'approval.approve',
      'nostr.sign_event.result',
    ])
      assert.ok(audit.includes(action), action);
    assert.equal((await w('audit', 'verify')).code, 0);
  });
});
