import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hold } from './kill-mid-send.ts';

/**
 * A JSON-RPC hop in front of a real node that can hold one method's calls: `before` holds them
 * unforwarded (the node never sees them), `after-forward` forwards them, then holds the answer
 * (the node acted; its answer is lost). A held call's connection is dropped once resumed.
 */
export interface RpcHop {
  url: string;
  hold(method: string, mode: 'before' | 'after-forward'): Hold;
  close(): Promise<void>;
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (d) => {
      text += d;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export async function startRpcHop(nodeUrl: string): Promise<RpcHop> {
  let armed: { method: string; mode: 'before' | 'after-forward'; held: number; stall: Promise<void> } | null =
    null;
  const server = createServer(async (req, res) => {
    const text = await bodyOf(req);
    const method = (JSON.parse(text) as { method?: string }).method;
    const fault = armed && armed.method === method ? armed : null;
    if (fault?.mode === 'before') {
      fault.held++;
      await fault.stall;
      return req.socket.destroy();
    }
    const answer = await fetch(nodeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
    });
    const reply = await answer.text();
    if (fault) {
      fault.held++;
      await fault.stall;
      return req.socket.destroy();
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold(method, mode) {
      let release = () => {};
      const stall = new Promise<void>((resolve) => {
        release = resolve;
      });
      const fault = { method, mode, held: 0, stall };
      armed = fault;
      return {
        reached: () => fault.held > 0,
        resume() {
          if (armed === fault) armed = null;
          release();
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
