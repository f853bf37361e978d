import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyEvent } from 'nostr-tools';
import { type Hex, verifyMessage } from 'viem';
import { readAudit } from '../../../src/audit/index.ts';
import { fixedClock } from '../../../src/core/clock.ts';
import { createTokenAudited, revokeTokenAudited } from '../../../src/gateway/admin.ts';
import { HOLD_EXPIRY_MS } from '../../../src/gateway/payload.ts';
import { MAX_WAITS_PER_TOKEN } from '../../../src/gateway/services/requests.ts';
import { bitcoinModuleConfig } from '../../../src/protocols/bitcoin/config.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { dataOf, errorOf, httpClient } from '../../helpers/mcp.ts';
import { nostrHoldDenyAllowPolicy } from '../../helpers/policies.ts';

const POLICY = nostrHoldDenyAllowPolicy('mcp-test', 3);

const EVM_POLICY = `
version: 1
name: messages
risk: { tolerance: high }
rules:
  - id: messages
    match: { protocol: evm, action: sign_message }
    effect: allow
`;

const BTC_READS_POLICY = `
version: 1
name: reads
rules:
  - id: reads
    match: { protocol: bitcoin, action: [new_address, balance] }
    effect: allow
`;

const FIXED = ['dry_run', 'get_budget', 'get_request', 'list_identity', 'wait_for_request'];
const IDENTITIES = ['sign', 'deny', 'hold', 'veto', 'dry', 'budget', 'caps', 'res'];

// One server for the file (each test its own identity, so budgets do not mix).
// A Bitcoin node is configured (nothing listens there): its tools are offered; listing them and
// handing out an address never reach it.
const g: TestGateway = await startTestGateway({
  identities: [...IDENTITIES, 'evm', 'btc'],
  policies: {
    ...Object.fromEntries(IDENTITIES.map((i) => [i, POLICY])),
    evm: EVM_POLICY,
    btc: BTC_READS_POLICY,
  },
  protocols: {
    bitcoin: bitcoinModuleConfig(
      { nodes: { regtest: { api: 'esplora', url: 'http://127.0.0.1:9/' } } },
      { tor: null, baseDir: '.' },
    ),
  },
});
const agent = (identity: string, capabilities = ['nostr:sign']) =>
  g.token('agent', { identity, capabilities });
async function tokenWithId(identity: string) {
  const { token, info } = await createTokenAudited(g.warden, {
    role: 'agent',
    identity,
    capabilities: ['nostr:sign'],
    label: 'revocable',
  });
  return { token, id: info.id };
}

describe('MCP over Streamable HTTP, official SDK client', () => {
  test('tools follow the token: only the operations its capabilities name, with their schemas', async () => {
    const nostr = await httpClient(g.url, await agent('caps'));
    const names = (await nostr.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['nostr_sign_event', ...FIXED].sort());
    const evm = await httpClient(g.url, await agent('caps', ['evm:sign_message']));
    const evmTools = (await evm.listTools()).tools;
    assert.deepEqual(evmTools.map((t) => t.name).sort(), ['evm_sign_message', ...FIXED].sort());
    const sign = evmTools.find((t) => t.name === 'evm_sign_message')!;
    assert.equal(sign.inputSchema.type, 'object');
    assert.ok(sign.outputSchema, 'an output schema for structuredContent');
    assert.match(sign.description ?? '', /budget/);
    assert.match(sign.description ?? '', /human operator/);
    const btc = await httpClient(g.url, await agent('caps', ['bitcoin:sign_psbt', 'nostr:sign']));
    assert.deepEqual(
      (await btc.listTools()).tools.map((t) => t.name).sort(),
      ['bitcoin_sign_psbt', 'nostr_sign_event', ...FIXED].sort(),
    );
    // The wallet operations, with the node configured: a read is marked so, nothing destructive.
    const wallet = await httpClient(
      g.url,
      await agent('btc', ['bitcoin:new_address', 'bitcoin:balance', 'bitcoin:send']),
    );
    const walletTools = (await wallet.listTools()).tools;
    assert.deepEqual(
      walletTools.map((t) => t.name).sort(),
      ['bitcoin_balance', 'bitcoin_new_address', 'bitcoin_send', ...FIXED].sort(),
    );
    const hints = Object.fromEntries(
      walletTools.map((t) => [t.name, [t.annotations?.readOnlyHint, t.annotations?.destructiveHint]]),
    );
    assert.deepEqual(hints.bitcoin_balance, [true, false]);
    assert.deepEqual(hints.bitcoin_new_address, [false, false]);
    assert.deepEqual(hints.bitcoin_send, [false, true]);
    const address = dataOf(await wallet.callTool({ name: 'bitcoin_new_address', arguments: {} }));
    assert.match(address.result.address, /^bcrt1q/);
    assert.equal(address.result.path, "m/84'/1'/0'/0/0");
    // evm.send needs an EVM node: none is configured, so no token sees it.
    const send = await httpClient(g.url, await agent('caps', ['evm:send']));
    assert.deepEqual((await send.listTools()).tools.map((t) => t.name).sort(), FIXED);
  });

  test('no input schema has anyOf, oneOf or allOf at its top (model APIs drop such tools); one of a kind is said in words', async () => {
    const all = await httpClient(
      g.url,
      await agent('caps', [
        'nostr:sign',
        'evm:sign_message',
        'bitcoin:sign_psbt',
        'bitcoin:new_address',
        'bitcoin:balance',
        'bitcoin:send',
      ]),
    );
    const tools = (await all.listTools()).tools;
    assert.ok(tools.length >= 11);
    for (const t of tools) {
      const top = t.inputSchema as Record<string, unknown>;
      assert.equal(top.type, 'object', t.name);
      for (const key of ['anyOf', 'oneOf', 'allOf']) assert.equal(key in top, false, `${t.name}: ${key}`);
    }
    const sign = tools.find((t) => t.name === 'evm_sign_message')!.inputSchema as Record<string, any>;
    assert.ok(sign.properties.message && sign.properties.messageHex, 'both ways are properties');
    assert.equal(sign.required, undefined, 'neither is required on its own');
    assert.match(sign.description, /exactly one of: message; or messageHex/);
    // The parser still decides: both, or neither, are refused as before.
    const client = await httpClient(g.url, await agent('evm', ['evm:sign_message']));
    for (const args of [{ message: 'a', messageHex: '0x01' }, {}]) {
      const refused = errorOf(await client.callTool({ name: 'evm_sign_message', arguments: args }));
      assert.equal(refused.code, 'INVALID_REQUEST', JSON.stringify(args));
    }
  });

  test('signs a Nostr event (nostr-tools verifies it); the audit record says it came through MCP', async () => {
    const client = await httpClient(g.url, await agent('sign'));
    const result = await client.callTool({
      name: 'nostr_sign_event',
      arguments: { kind: 1, content: 'hello over MCP', tags: [['t', 'warden']] },
    });
    const data = dataOf(result);
    assert.equal(data.status, 'done');
    assert.equal(verifyEvent(data.result.event), true);
    assert.equal(data.result.event.pubkey, g.warden.showIdentity('sign').nostr!.pubkey);
    const records = await readAudit(g.warden.store, g.warden.vault.auditKeys(), { identity: 'sign' });
    const admitted = records.find(
      (r) => r.summary.operationId === data.requestId && r.action === 'nostr.sign_event',
    );
    assert.ok(admitted, 'the request has an audit record');
    assert.equal((admitted.details as { frontDoor?: string }).frontDoor, 'mcp');
    // The same operation over the HTTP API is not marked.
    const token = await agent('sign');
    const viaHttp = await g.call('POST', '/v1/nostr/sign', {
      token,
      body: { kind: 1, content: 'over HTTP' },
    });
    const again = await readAudit(g.warden.store, g.warden.vault.auditKeys(), { identity: 'sign' });
    const httpRecord = again.find((r) => r.summary.operationId === viaHttp.body.request.requestId);
    assert.ok(httpRecord, 'the HTTP request has an audit record');
    assert.equal((httpRecord.details as { frontDoor?: string }).frontDoor, undefined);
  });

  test('a denial is an isError result with the code and the rule, not a protocol error', async () => {
    const client = await httpClient(g.url, await agent('deny'));
    const error = errorOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 4, content: 'psst' } }),
    );
    assert.equal(error.code, 'POLICY_DENIED');
    assert.equal(error.rule, 'no-dms');
    assert.match(error.requestId ?? '', /^req_/);
    // Over the count window: LIMIT_EXCEEDED with the numbers of the window.
    for (let i = 0; i < 3; i++)
      dataOf(
        await client.callTool({
          name: 'nostr_sign_event',
          arguments: { kind: 1, content: `n${i}` },
        }),
      );
    const over = errorOf(
      await client.callTool({
        name: 'nostr_sign_event',
        arguments: { kind: 1, content: 'one too many' },
      }),
    );
    assert.equal(over.code, 'LIMIT_EXCEEDED');
    assert.equal(over.rule, 'notes');
    assert.match(over.remedy ?? '', /\S/, 'what would pass');
    assert.deepEqual(
      over.limits?.map((l) => [l.rule, l.cap, l.used]),
      [['notes', '3', '3']],
    );
    // Bad input is refused as a result too, with the gateway's code.
    const bad = errorOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: -1, content: 'x' } }),
    );
    assert.equal(bad.code, 'INVALID_EVENT');
  });

  test('a hold returns its id; wait_for_request reports progress and ends with the signature once an operator approves', async () => {
    const client = await httpClient(g.url, await agent('hold'));
    const held = dataOf(
      await client.callTool({
        name: 'nostr_sign_event',
        arguments: { kind: 0, content: '{"name":"bot"}' },
      }),
    );
    assert.equal(held.status, 'held');
    assert.equal(held.result, null);
    assert.equal(held.hold.approvals, 1);
    assert.equal(held.hold.rule, 'profile-held');
    assert.ok(held.hold.reasons.length > 0, 'why it is held');
    // No delay in this rule: the agent is not told to wait one out.
    assert.doesNotMatch(held.next, /delay/);
    const expires = Date.parse(held.hold.expiresAt) - Date.now();
    assert.ok(expires > 6.9 * 86_400_000 && expires <= 7 * 86_400_000, held.hold.expiresAt);
    assert.match(held.next, /wait_for_request/);
    assert.ok(held.next.includes(`warden approvals approve ${held.requestId}`), 'who acts, and how');
    const operator = await g.token('operator');
    const progress: string[] = [];
    const approval: { answer?: Promise<{ status: number }> } = {};
    const waited = await client.callTool(
      { name: 'wait_for_request', arguments: { requestId: held.requestId, timeoutSeconds: 60 } },
      undefined,
      {
        onprogress: (p) => {
          progress.push(p.message ?? '');
          // A human approves after the agent has started waiting (the operator's own door).
          approval.answer ??= g.call('POST', `/v1/approvals/${held.requestId}/approve`, { token: operator });
        },
        resetTimeoutOnProgress: true,
      },
    );
    assert.ok(progress.length >= 1, 'progress while waiting');
    assert.match(progress[0]!, /still held/);
    assert.equal((await approval.answer)?.status, 200);
    const done = dataOf(waited);
    assert.equal(done.status, 'done');
    assert.equal(done.result.event.kind, 0);
    assert.equal(verifyEvent(done.result.event), true);
    const now = dataOf(
      await client.callTool({ name: 'get_request', arguments: { requestId: held.requestId } }),
    );
    assert.equal(now.result.event.id, done.result.event.id);
  });

  test('a wait ends when its token is revoked: the long wait does not outlive the token', async () => {
    const { token, id } = await tokenWithId('hold');
    const client = await httpClient(g.url, token);
    const held = dataOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 0, content: '{"r":1}' } }),
    );
    assert.equal(held.status, 'held');
    const started = Date.now();
    const waiting = client.callTool(
      { name: 'wait_for_request', arguments: { requestId: held.requestId, timeoutSeconds: 120 } },
      undefined,
      { timeout: 30_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await revokeTokenAudited(g.warden, id);
    const error = errorOf(await waiting);
    assert.equal(error.code, 'UNAUTHENTICATED');
    assert.ok(Date.now() - started < 20_000, 'within a poll or two, not at the timeout');
  });

  test('a hold nobody approves expires: the agent is told so, and what to do', async () => {
    const clock = fixedClock(new Date());
    const aged = await startTestGateway({ identities: ['aged'], policies: { aged: POLICY }, clock });
    const client = await httpClient(
      aged.url,
      await aged.token('agent', { identity: 'aged', capabilities: ['nostr:sign'] }),
    );
    const held = dataOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 0, content: '{}' } }),
    );
    assert.equal(Date.parse(held.hold.expiresAt), clock.now().getTime() + HOLD_EXPIRY_MS);
    clock.advance(HOLD_EXPIRY_MS + 1_000);
    await aged.gateway.tick();
    const error = errorOf(
      await client.callTool({ name: 'get_request', arguments: { requestId: held.requestId } }),
    );
    assert.equal(error.code, 'HOLD_EXPIRED');
    assert.match(error.message, /no operator approved this request within 7 days/);
    assert.match(error.remedy ?? '', /submit it again/);
  });

  test('a hold an operator denies ends the wait as an isError result', async () => {
    const client = await httpClient(g.url, await agent('veto'));
    const held = dataOf(
      await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 0, content: '{}' } }),
    );
    const operator = await g.token('operator');
    const vetoed = await g.call('POST', `/v1/approvals/${held.requestId}/deny`, {
      token: operator,
      body: { reason: 'not this profile' },
    });
    assert.equal(vetoed.status, 200);
    const error = errorOf(
      await client.callTool({
        name: 'wait_for_request',
        arguments: { requestId: held.requestId, timeoutSeconds: 5 },
      }),
    );
    assert.equal(error.requestId, held.requestId);
    assert.equal(error.code, 'REQUEST_VETOED');
    assert.match(error.message, /an operator denied this request/);
    assert.match(error.remedy ?? '', /ask your user/);
    // Another identity's request is not this token's to follow.
    const other = await httpClient(g.url, await agent('dry'));
    const foreign = errorOf(
      await other.callTool({ name: 'get_request', arguments: { requestId: held.requestId } }),
    );
    assert.equal(foreign.code, 'FORBIDDEN');
  });

  test('a client that goes away ends its waits: their slots (8 per token) are free again', async () => {
    const token = await agent('veto');
    const waiter = await httpClient(g.url, token);
    const held = dataOf(
      await waiter.callTool({ name: 'nostr_sign_event', arguments: { kind: 0, content: '{"w":1}' } }),
    );
    const started: Promise<void>[] = [];
    const waits: Promise<unknown>[] = [];
    for (let i = 0; i < MAX_WAITS_PER_TOKEN; i++) {
      let onFirst!: () => void;
      started.push(new Promise<void>((resolve) => (onFirst = resolve)));
      const call = waiter.callTool(
        { name: 'wait_for_request', arguments: { requestId: held.requestId, timeoutSeconds: 120 } },
        undefined,
        { onprogress: () => onFirst(), timeout: 150_000 },
      );
      waits.push(call.catch(() => undefined));
    }
    await Promise.all(started);
    const other = await httpClient(g.url, token);
    const full = errorOf(
      await other.callTool({
        name: 'wait_for_request',
        arguments: { requestId: held.requestId, timeoutSeconds: 1 },
      }),
    );
    assert.equal(full.code, 'RATE_LIMITED', 'eight waits hold every slot');
    await waiter.close();
    await Promise.all(waits);
    // Within a poll or two the server notices and lets go.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await other.callTool({
        name: 'wait_for_request',
        arguments: { requestId: held.requestId, timeoutSeconds: 1 },
      });
      if (!r.isError) break;
      assert.ok(Date.now() < deadline, 'the slots were never freed');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });

  test('evm_sign_message: another protocol from the same registry, signature checked by viem', async () => {
    const client = await httpClient(g.url, await agent('evm', ['evm:sign_message']));
    const message = 'sign in to example.com';
    const done = dataOf(await client.callTool({ name: 'evm_sign_message', arguments: { message } }));
    const address = g.warden.vault.getIdentity('evm').evm!.address as Hex;
    assert.equal(await verifyMessage({ address, message, signature: done.result.signature }), true);
  });

  test('hostile arguments to the fixed tools are refused as INVALID_REQUEST results', async () => {
    const client = await httpClient(g.url, await agent('dry'));
    const bad: [string, Record<string, unknown>][] = [
      ['get_request', {}],
      ['get_request', { requestId: 'req_../../etc' }],
      ['get_request', { requestId: 'req_abc', timeoutSeconds: 5 }],
      ['get_request', { requestId: 7 }],
      ['wait_for_request', { requestId: 'req_abc', timeoutSeconds: 0 }],
      ['wait_for_request', { requestId: 'req_abc', timeoutSeconds: 601 }],
      ['wait_for_request', { requestId: 'req_abc', timeoutSeconds: 1.5 }],
      ['wait_for_request', { requestId: 'req_abc', timeoutSeconds: '5' }],
      ['dry_run', { operation: 'nostr.sign_event' }],
      ['dry_run', { operation: 'nostr.sign_event', request: [] }],
      ['dry_run', { operation: 42, request: {} }],
      ['dry_run', { operation: 'nostr.sign_event', request: {}, identity: 'other' }],
      ['get_budget', { operation: 'nostr.sign_event' }],
      ['get_budget', { request: { kind: 1 } }],
      ['list_identity', { identity: 'other' }],
    ];
    for (const [name, args] of bad) {
      const error = errorOf(await client.callTool({ name, arguments: args }));
      assert.equal(error.code, 'INVALID_REQUEST', `${name} ${JSON.stringify(args)}`);
    }
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /no tool named/);
  });

  test('dry_run says why without recording anything', async () => {
    const client = await httpClient(g.url, await agent('dry'));
    const dry = dataOf(
      await client.callTool({
        name: 'dry_run',
        arguments: { operation: 'nostr.sign_event', request: { kind: 4, content: 'x' } },
      }),
    );
    assert.equal(dry.decision.outcome, 'deny');
    assert.equal(dry.decision.decidingRule, 'no-dms');
    const token = await agent('dry');
    assert.deepEqual((await g.call('GET', '/v1/requests', { token })).body.requests, []);
    const wrong = errorOf(
      await client.callTool({
        name: 'dry_run',
        arguments: { operation: 'evm.sign_message', request: { message: 'hi' } },
      }),
    );
    assert.equal(wrong.code, 'FORBIDDEN', 'an operation the token may not use');
  });

  test('get_budget: used, reserved, remaining and the window of a request', async () => {
    const client = await httpClient(g.url, await agent('budget'));
    for (const content of ['a', 'b'])
      dataOf(await client.callTool({ name: 'nostr_sign_event', arguments: { kind: 1, content } }));
    const budget = dataOf(
      await client.callTool({
        name: 'get_budget',
        arguments: { operation: 'nostr.sign_event', request: { kind: 1, content: 'next' } },
      }),
    );
    assert.equal(budget.identity, 'budget');
    const window = budget.forRequest.windows.find((w: { rule: string }) => w.rule === 'notes');
    assert.equal(window.limit, '1h');
    assert.equal(window.cap, '3');
    assert.equal(window.used, '2');
    assert.equal(window.remaining, '1');
    assert.equal(window.passes, true);
    const committed = budget.ledger.find((l: { status: string }) => l.status === 'committed');
    assert.equal(committed.count, 2);
    const plain = dataOf(await client.callTool({ name: 'get_budget', arguments: {} }));
    assert.equal(plain.forRequest, null);
  });

  test('resources: identity, policy in plain words, budget; list_identity has public keys only', async () => {
    const client = await httpClient(g.url, await agent('res'));
    const uris = (await client.listResources()).resources.map((r) => r.uri).sort();
    assert.deepEqual(uris, ['warden://budget', 'warden://identity', 'warden://policy']);
    const policy = await client.readResource({ uri: 'warden://policy' });
    assert.match((policy.contents[0] as { text: string }).text, /Policy mcp-test/);
    const identity = JSON.parse(
      ((await client.readResource({ uri: 'warden://identity' })).contents[0] as { text: string }).text,
    );
    assert.equal(identity.identity.name, 'res');
    await assert.rejects(client.readResource({ uri: 'warden://identity/other' }), /no such resource/);
    const listed = dataOf(await client.callTool({ name: 'list_identity', arguments: {} }));
    assert.equal(listed.identity.nostr.pubkey, g.warden.showIdentity('res').nostr!.pubkey);
    assert.doesNotMatch(JSON.stringify(listed), /nsec|xprv|mnemonic/);
  });
});

describe("the /mcp door is the HTTP API's: token, Host, Origin", () => {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
  };
  const post = (headers: Record<string, string>) =>
    fetch(`${g.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(initialize),
    });

  test('no token, a bad token, a non-agent token are refused; a session id is no credential', async () => {
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ authorization: 'Bearer wdn_nope' })).status, 401);
    assert.equal((await post({ authorization: `Bearer ${await g.token('operator')}` })).status, 403);
    const ok = await post({ authorization: `Bearer ${await agent('caps')}` });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('mcp-session-id'), null, 'stateless: no session is issued');
    const withSession = await post({ 'mcp-session-id': 'anything' });
    assert.equal(withSession.status, 401);
    // No standalone stream to hold open, no session to end.
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(`${g.url}/mcp`, {
        method,
        headers: { authorization: `Bearer ${await agent('caps')}`, accept: 'text/event-stream' },
      });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'POST');
    }
  });

  test('a foreign Host (DNS rebinding) and a web page Origin are refused before the token is read', async () => {
    const token = await agent('caps');
    // fetch cannot set Host: a raw request does.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(g.url);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: '/mcp',
          method: 'POST',
          headers: { host: 'attacker.example', authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(initialize));
    });
    assert.equal(status, 421);
    assert.equal(
      (await post({ authorization: `Bearer ${token}`, origin: 'https://evil.example' })).status,
      403,
    );
  });
});

test("the token's rate limit counts MCP requests: over it, 429 and RATE_LIMITED", async () => {
  const limited = await startTestGateway({
    identities: ['alice'],
    rateLimits: (op) =>
      op === 'mcp.request' ? { max: 2, windowMs: 60_000 } : { max: 1000, windowMs: 60_000 },
  });
  const token = await limited.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const ping = () =>
    fetch(`${limited.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
  assert.equal((await ping()).status, 200);
  assert.equal((await ping()).status, 200);
  const refused = await ping();
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
});
