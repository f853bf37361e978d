import assert from 'node:assert/strict';
import type { CliResult, CliVault, ServerProcess } from './cli.ts';

/** `warden --json …` (with the vault passphrase), its output parsed; it must succeed. */
export async function wardenJson(
  w: (...args: string[]) => Promise<CliResult>,
  ...args: string[]
): Promise<any> {
  const r = await w('--json', ...args);
  assert.equal(r.code, 0, `warden ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Polls `check` until it holds, for at most `limitMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs = 20_000,
): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A fault of the backend in front of the node, armed for one send: where it holds the send. */
export interface Hold {
  /** Whether the send is held there yet. */
  reached(): boolean | Promise<boolean>;
  /** Disarms the fault and lets what it held go (after the kill). */
  resume(): void;
}

/**
 * Starts the server, submits a send while `hold()` holds the backend at one point, waits until it
 * is held there, and kills the server with SIGKILL. Returns the id of the request the dead server
 * left `executing`, read with the server down, before any restart could touch it. `inspect` runs
 * while the server is alive and holds the send.
 */
export async function killMidSend(options: {
  vault: CliVault;
  path: string;
  token: string;
  body: unknown;
  hold: () => Hold;
  inspect?: (server: ServerProcess, requestId: string) => Promise<void>;
  /** More `warden start` flags. */
  startArgs?: string[];
}): Promise<string> {
  const { vault } = options;
  const server = await vault.start(...(options.startArgs ?? []));
  const hold = options.hold();
  const answer = fetch(`${server.url}${options.path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(options.body),
  }).then(
    (r) => `answered ${r.status}`,
    () => 'no answer',
  );
  try {
    await until('the backend holds the send', () => hold.reached());
    const executing = await wardenJson(vault.w, 'requests', 'list', '--status', 'executing');
    assert.equal(executing.length, 1, JSON.stringify(executing));
    const requestId = executing[0].requestId as string;
    if (options.inspect) await options.inspect(server, requestId);
    await server.stop('SIGKILL');
    assert.equal(await answer, 'no answer', 'the agent never heard back');
    // Still executing with its process gone (before executors were recorded: for 10 minutes).
    assert.equal((await wardenJson(vault.w, 'requests', 'show', requestId)).status, 'executing');
    return requestId;
  } finally {
    hold.resume();
  }
}

/** Restarts the server; it must say it took the dead one's request over: unknown, still counted. */
export async function restartTakingOver(
  vault: CliVault,
  requestId: string,
  startArgs: string[] = [],
): Promise<ServerProcess> {
  const server = await vault.start(...startArgs);
  assert.match(server.output(), new RegExp(`left executing by a Warden that was stopped.*${requestId}`));
  const view = await wardenJson(vault.w, 'requests', 'show', requestId);
  assert.equal(view.status, 'unknown');
  assert.equal(view.error.code, 'EXECUTOR_GONE');
  return server;
}

/** `warden ledger reconcile --from-chain`: its verdicts. */
export function reconcileFromChain(
  vault: CliVault,
): Promise<{ requestId: string; verdict: string; reason: string }[]> {
  return wardenJson(vault.w, 'ledger', 'reconcile', '--from-chain');
}
