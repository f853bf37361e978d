/**
 * The worked example of docs/mcp.md, taken from the page and run as written (only the server's
 * address changes): an agent meets a hold, waits with progress, and gets the signature once an
 * operator approves.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestGateway } from '../../helpers/gateway.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function workedExample(): string {
  const page = readFileSync(join(ROOT, 'docs', 'mcp.md'), 'utf8');
  const section = page.slice(page.indexOf('## A worked example'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'docs/mcp.md has the worked example');
  return code;
}

const POLICY = `
version: 1
name: example
risk: { tolerance: high }
rules:
  - id: profile-held
    match: { protocol: nostr, kind: [0] }
    effect: hold
    approvals: 1
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
`;

test('docs/mcp.md: the agent that handles a hold gets its signature after the operator approves', async () => {
  const g = await startTestGateway({ identities: ['bot'], policies: { bot: POLICY } });
  const token = await g.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  const operator = await g.token('operator');
  const code = workedExample();
  assert.ok(code.includes('http://127.0.0.1:7878/mcp'));
  // Inside the project, so that its imports resolve to this project's SDK.
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.warden-doc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent.mts');
  writeFileSync(file, code.replace('http://127.0.0.1:7878/mcp', `${g.url}/mcp`));

  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, WARDEN_TOKEN: token },
  });
  let stdout = '';
  let stderr = '';
  let approved: Promise<{ status: number }> | undefined;
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdout.on('data', (d) => {
    stdout += d;
    // The operator acts once the agent waits (its progress line): the request is in the approvals list.
    if (approved === undefined && /still held/.test(stdout)) {
      approved = (async () => {
        const list = await g.call('GET', '/v1/approvals', { token: operator });
        const id = list.body.approvals[0].requestId as string;
        return g.call('POST', `/v1/approvals/${id}/approve`, { token: operator });
      })();
    }
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(exitCode, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /^held: 1 approval\(s\) by rule profile-held\. A human operator must approve/m);
  assert.ok(approved, `the example reported progress while it waited:\n${stdout}`);
  assert.equal((await approved).status, 200);
  // The signed event it printed is the one the server signed for the request.
  const requests = await g.call('GET', '/v1/requests?status=done', { token });
  const event = requests.body.requests[0].result.event as { id: string; kind: number };
  assert.equal(event.kind, 0);
  assert.ok(stdout.includes(event.id), stdout);
});
