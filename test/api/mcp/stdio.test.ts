import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { verifyEvent } from 'nostr-tools';
import { runWarden, wardenArgs } from '../../helpers/cli.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { tempDir } from '../../helpers/home.ts';
import { connectClient, dataOf, errorOf } from '../../helpers/mcp.ts';
import { nostrHoldDenyAllowPolicy } from '../../helpers/policies.ts';

const POLICY = nostrHoldDenyAllowPolicy('stdio-test');

const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
const dir = tempDir('mcp-stdio');

function tokenFile(name: string, token: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, `${token}\n`);
  chmodSync(path, mode);
  return path;
}

/** The real `warden mcp`, spawned by the official SDK's stdio client as an MCP client would. */
function bridge(args: string[], env: Record<string, string> = {}) {
  const [command, ...rest] = [process.execPath, ...wardenArgs(['mcp', ...args])];
  const transport = new StdioClientTransport({
    command: command!,
    args: rest,
    env: { PATH: process.env.PATH ?? '', WARDEN_HOME: join(dir, 'home'), ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => {
    stderr += d;
  });
  return { transport, stderr: () => stderr };
}

describe('warden mcp: the stdio bridge to the running server', () => {
  test('lists, signs, is denied and follows a hold to its signature, all through the one server', async () => {
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const { transport } = bridge(['--url', g.url, '--token-file', tokenFile('agent', token)]);
    const client = await connectClient(transport);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('nostr_sign_event'));
    assert.ok(!names.includes('evm_sign_message'), 'only what the token may do');

    const signed = dataOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 1, content: 'via stdio' } }),
    );
    assert.equal(verifyEvent(signed.result.event), true);
    assert.equal(signed.result.event.pubkey, g.warden.showIdentity('alice').nostr!.pubkey);

    const denied = errorOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 4, content: 'x' } }),
    );
    assert.equal(denied.code, 'POLICY_DENIED');
    assert.equal(denied.rule, 'no-dms');

    const held = dataOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 0, content: '{}' } }),
    );
    assert.equal(held.status, 'held');
    const operator = await g.token('operator');
    const approval: { answer?: Promise<{ status: number }> } = {};
    let progressed = 0;
    const done = dataOf(
      await client.callTool(
        { name: 'wait_for_request', arguments: { requestId: held.requestId } },
        undefined,
        {
          onprogress: () => {
            progressed++;
            approval.answer ??= g.call('POST', `/v1/approvals/${held.requestId}/approve`, {
              token: operator,
            });
          },
        },
      ),
    );
    assert.ok(progressed >= 1, 'progress notifications cross the bridge');
    assert.equal((await approval.answer)?.status, 200);
    assert.equal(done.status, 'done');
    assert.equal(verifyEvent(done.result.event), true);

    // The free tools cross the bridge too: a dry run and the budget, nothing signed by either.
    const dry = dataOf(
      await client.callTool({
        name: 'dry_run',
        arguments: { operation: 'nostr.sign_event', request: { kind: 4, content: 'x' } },
      }),
    );
    assert.equal(dry.decision.outcome, 'deny');
    assert.equal(dry.decision.decidingRule, 'no-dms');
    const budget = dataOf(await client.callTool({ name: 'get_budget', arguments: {} }));
    assert.equal(budget.identity, 'alice');
  });

  test('the server address from warden.yaml, the token from $WARDEN_TOKEN', async () => {
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    const config = join(dir, 'warden.yaml');
    writeFileSync(config, `listen:\n  port: ${new URL(g.url).port}\n`);
    const { transport } = bridge([], { WARDEN_TOKEN: token, WARDEN_CONFIG: config });
    const client = await connectClient(transport);
    const identity = dataOf(await client.callTool({ name: 'list_identity', arguments: {} }));
    assert.equal(identity.identity.name, 'alice');
  });

  test("a bad token: the client gets the server's refusal as an error, not a hang", async () => {
    const { transport, stderr } = bridge(['--url', g.url], { WARDEN_TOKEN: 'wdn_tok_nope_nope' });
    await assert.rejects(connectClient(transport), /UNAUTHENTICATED/);
    assert.doesNotMatch(stderr(), /wdn_tok_nope/, 'the token is never printed');
  });

  test('no server: the client is told so, it does not hang', async () => {
    // Port 9 (discard), which nothing here serves: a free ephemeral port may be taken by another
    // test's server before the bridge dials it (and answer 404 instead of refusing).
    const port = 9;
    const { transport } = bridge(['--url', `http://127.0.0.1:${port}`], { WARDEN_TOKEN: 'wdn_tok_x_y' });
    await assert.rejects(connectClient(transport), /cannot reach the warden server/);
  });

  test('a token file others may read is refused; no token at all is a usage error', async () => {
    const token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
    // Readable by the world, or by the group alone: refused either way.
    for (const [label, mode] of [
      ['open', 0o644],
      ['group', 0o640],
    ] as const) {
      const open = await runWarden(['mcp', '--url', g.url, '--token-file', tokenFile(label, token, mode)]);
      assert.equal(open.code, 1, label);
      assert.match(open.stderr, /FILE_PERMISSIONS_TOO_OPEN/);
      assert.doesNotMatch(open.stderr + open.stdout, new RegExp(token));
    }
    // A server elsewhere over plain HTTP would see the token cross the network in clear.
    const clear = await runWarden(['mcp', '--url', 'http://192.0.2.7:7878'], {
      env: { WARDEN_TOKEN: token },
    });
    assert.equal(clear.code, 2);
    assert.match(clear.stderr, /https:\/\//);
    assert.doesNotMatch(clear.stderr, new RegExp(token));
    const none = await runWarden(['mcp', '--url', g.url], { env: { WARDEN_TOKEN: '' } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--token-file/);
  });
});
