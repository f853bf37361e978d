import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * One HTTP request with exactly the headers given: fetch adds Content-Type to a string body and
 * always sets Host itself, so tests of what the server does without them, or with the forged Host
 * and Origin a browser tricked by DNS rebinding or a hostile page would send, go through node:http.
 */
export function rawRequest(
  url: string,
  options: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
    /** Send no Host header at all. */
    noHost?: boolean;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method,
        headers: options.headers ?? {},
        setHost: options.noHost !== true,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    // A body the server refuses early may reset the connection while we still write.
    req.on('error', reject);
    req.end(options.body);
  });
}
