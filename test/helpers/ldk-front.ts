import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as ldk from 'lightningdevkit';

/**
 * What the REST fronts over a real LDK node (lnd-rest-front.ts, cln-rest-front.ts) share: reading
 * an LDK invoice, and serving a handler on 127.0.0.1 (a handler that throws closes its answer).
 */

export const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

export function parseInvoice(text: string): ldk.Bolt11Invoice | null {
  const parsed = ldk.Bolt11Invoice.constructor_from_str(text);
  return parsed instanceof ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_OK ? parsed.res : null;
}

export function amountOf(invoice: ldk.Bolt11Invoice): bigint {
  const amount = invoice.amount_milli_satoshis();
  return amount instanceof ldk.Option_u64Z_Some ? amount.some : 0n;
}

export function descriptionOf(invoice: ldk.Bolt11Invoice): string {
  const description = invoice.into_signed_raw().raw_invoice().description();
  return description ? description.to_str() : '';
}

/** Serves `handle` on a free loopback port: its `http://127.0.0.1:PORT/` and how to stop it. */
export async function serveLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
