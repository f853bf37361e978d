import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPeer } from './peer.ts';

/**
 * A real Hardhat 2 node (`hardhat node`) on 127.0.0.1, chain id 42161, for the EVM tests. The
 * project folder is test/fixtures/hardhat; its cache goes to a temp dir. Telemetry prompts are off
 * (CI=true, HARDHAT_DISABLE_TELEMETRY_PROMPT=true) and stdin is closed so it never waits for input.
 */
export const HARDHAT_CHAIN_ID = 42161;
const FIXTURE = fileURLToPath(new URL('../fixtures/hardhat/', import.meta.url));
const HARDHAT_CLI = fileURLToPath(
  new URL('../../node_modules/hardhat/internal/cli/bootstrap.js', import.meta.url),
);
const STARTUP_LIMIT_MS = 60_000;

export interface HardhatNode {
  rpcUrl: string;
  /** Milliseconds from spawn until the node answered eth_chainId. */
  startupMs: number;
  stop(): Promise<void>;
}

/**
 * A raw JSON-RPC call (test-side only; the code under test uses src/net), on a connection of its
 * own: a kept-alive one left idle past the node's keep-alive timeout (5 s, e.g. while a test file
 * sets up its other peers) is closed by the node just as it is reused ("other side closed").
 */
export function rpcCall(rpcUrl: string, method: string, params: unknown[] = []): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      rpcUrl,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 5_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('error', reject);
        res.on('end', () => {
          try {
            const reply = JSON.parse(text) as { result?: unknown; error?: { message?: string } };
            if (reply.error) reject(new Error(`${method}: ${reply.error.message ?? 'error'}`));
            else resolve(reply.result);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sets the balance of any address (wei) with hardhat_setBalance. */
export async function fund(rpcUrl: string, address: string, wei: bigint): Promise<void> {
  await rpcCall(rpcUrl, 'hardhat_setBalance', [address, `0x${wei.toString(16)}`]);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startOnce(): Promise<HardhatNode> {
  const port = await freePort();
  const tmp = mkdtempSync(join(tmpdir(), 'warden-hardhat-'));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [HARDHAT_CLI, 'node', '--hostname', '127.0.0.1', '--port', String(port)],
    {
      cwd: FIXTURE,
      env: {
        ...process.env,
        CI: 'true',
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        WARDEN_HARDHAT_TMP: tmp,
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Keep the tail of both streams for error messages; reading them also keeps the pipes from filling.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  child.once('error', (err) => {
    exited = `failed to start: ${err.message}`;
  });

  const rpcUrl = `http://127.0.0.1:${port}`;
  // Should the test process die without running after(), the node must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopChild(child);
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    for (;;) {
      if (exited !== null) throw new Error(`hardhat node ${exited}:\n${output}`);
      if (performance.now() - started > STARTUP_LIMIT_MS) {
        throw new Error(`hardhat node did not answer within ${STARTUP_LIMIT_MS} ms:\n${output}`);
      }
      try {
        const id = await rpcCall(rpcUrl, 'eth_chainId');
        if (id !== `0x${HARDHAT_CHAIN_ID.toString(16)}`) {
          throw new Error(`hardhat node on port ${port} serves chain ${String(id)}, not ${HARDHAT_CHAIN_ID}`);
        }
        break;
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('hardhat node')) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { rpcUrl, startupMs: Math.round(performance.now() - started), stop };
}

/**
 * Starts a hardhat node (retrying on another port if the first one was taken in between) and stops
 * it in `after()`. Await it at the top level of a test file: the node then lives until the file ends.
 */
export function startHardhat(): Promise<HardhatNode> {
  return startPeer(startOnce);
}
