import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ClnFrontChain,
  type ClnFrontInvoice,
  type ClnFrontPayment,
  clnFailure,
  decodeJson,
  getInfoJson,
  invoiceEntry,
  listPaysEntry,
  payJson,
  peerChannelsJson,
} from './cln-front-json.ts';
import { amountOf, descriptionOf, nowSeconds, parseInvoice, serveLoopback } from './ldk-front.ts';
import { hexOf, type LdkPeer, type SentOutcome } from './ldk-peer.ts';
import { startPeer } from './peer.ts';

/**
 * An HTTP server on 127.0.0.1 that speaks the part of Core Lightning's REST API (the clnrest
 * plugin) Warden uses, in CLN's shapes (test/protocols/lightning/cln-rest/cln.schemas.subset.json,
 * CLN's doc/schemas; cln-rest-front.test.ts validates every answer against them), backed by a
 * real LDK node: the payments, fees, failures, preimages and invoices are real; only the REST
 * layer is ours.
 *
 * CLN's behaviour it keeps, because a client must handle it:
 * - `POST /v1/<method>` with the named params as JSON, the rune in the `Rune` header; 201 with the
 *   result; errors as `{code, message}`: no rune 403 (1501), a wrong rune or one whose
 *   restrictions refuse the method 401 (1502), an unknown method 404 (-32601), an RPC error 500;
 * - amounts as JSON numbers of msat;
 * - `pay` answers when the payment is over (complete, or an error with pay's code: 205 no route,
 *   203 refused by the payee, 210 `retry_for` over), and the payment goes on if the client leaves;
 *   paying an invoice already paid answers that payment again, complete (CLN's pay does); one in
 *   progress is error 200;
 * - listpays lists each pay of a hash (pending, complete with its preimage, or failed).
 *
 * What it is not: lightningd (no sendpay parts or MPP, no getroute statistics in the errors), TLS
 * (clnrest serves https with its own certificate; here plain http), rune restrictions other than
 * a list of allowed methods, the fields Warden does not read (left out where the schema allows).
 */

export type ClnMethod =
  | 'getinfo'
  | 'listpeerchannels'
  | 'decode'
  | 'pay'
  | 'listpays'
  | 'invoice'
  | 'listinvoices';
const METHODS = new Set<string>([
  'getinfo',
  'listpeerchannels',
  'decode',
  'pay',
  'listpays',
  'invoice',
  'listinvoices',
]);

export interface ClnFrontOptions {
  node: LdkPeer;
  rune: Uint8Array;
  chain: ClnFrontChain;
  /** The methods the rune allows (its `method=` restrictions); all when absent. */
  allowed?: readonly ClnMethod[];
}

/** An answer that replaces the front's own for a method (fault injection); the LDK node is not asked. */
export interface FaultAnswer {
  status: number;
  body: string;
}

const INVALID_PARAMS = -32602;

export type ClnFront = Awaited<ReturnType<typeof startOnce>>;

async function startOnce(options: ClnFrontOptions) {
  const { node } = options;
  const payments: ClnFrontPayment[] = [];
  const invoices = new Map<string, ClnFrontInvoice>();
  const labels = new Set<string>();
  const waiting = new Map<string, (p: ClnFrontPayment, outcome: SentOutcome) => void>();
  let createdIndex = 0;

  const front = {
    url: '',
    fault: null as ((method: ClnMethod) => FaultAnswer | null) | null,
    /** Lose pay's answer: the connection is dropped as soon as the payment started; it goes on. */
    cutPays: false,
    /** Every params object the front received, by method. */
    requests: [] as { method: ClnMethod; params: Record<string, unknown> }[],
    /** Every result the front answered with 201, for the check against CLN's schemas. */
    answers: [] as { method: ClnMethod; status: number; json: unknown }[],
    stop: async () => {},
  };

  node.onSent((outcome) => {
    const p = payments.find((q) => q.paymentId === outcome.paymentId);
    if (p) settle(p, outcome);
  });

  function settle(p: ClnFrontPayment, outcome: SentOutcome) {
    if (p.status !== 'pending') return;
    p.completedAt = Number(nowSeconds());
    if (outcome.state === 'succeeded') {
      p.status = 'complete';
      p.preimage = outcome.preimage;
      p.feeMsat = outcome.feeMsat;
    } else p.status = 'failed';
    waiting.get(p.paymentId)?.(p, outcome);
  }

  function answer(res: ServerResponse, method: ClnMethod, status: number, json: unknown) {
    front.answers.push({ method, status, json });
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  }
  const error = (res: ServerResponse, method: ClnMethod, code: number, message: string, status = 500) =>
    answer(res, method, status, { code, message });

  function pay(res: ServerResponse, params: Record<string, unknown>) {
    const text = typeof params.bolt11 === 'string' ? params.bolt11 : '';
    const invoice = parseInvoice(text);
    if (!invoice) return error(res, 'pay', INVALID_PARAMS, 'bolt11: Invalid bolt11: Bad bech32 string');
    const hash = hexOf(invoice.payment_hash());
    const mine = payments.filter((p) => p.paymentHash === hash);
    const done = mine.find((p) => p.status === 'complete');
    if (done) return answer(res, 'pay', 201, payJson(done));
    if (mine.some((p) => p.status === 'pending'))
      return error(res, 'pay', 200, 'There is already a payment in progress for this invoice');
    const invoiceAmount = amountOf(invoice);
    const asked = params.amount_msat;
    if (asked !== undefined && (typeof asked !== 'number' || !Number.isSafeInteger(asked) || asked <= 0))
      return error(res, 'pay', INVALID_PARAMS, 'amount_msat: should be a millisatoshi amount');
    if (invoiceAmount !== 0n && asked !== undefined)
      return error(res, 'pay', INVALID_PARAMS, 'amount_msat parameter unnecessary');
    if (invoiceAmount === 0n && asked === undefined)
      return error(res, 'pay', INVALID_PARAMS, 'amount_msat parameter required');
    const maxfee = params.maxfee;
    if (maxfee !== undefined && (typeof maxfee !== 'number' || !Number.isSafeInteger(maxfee) || maxfee < 0))
      return error(res, 'pay', INVALID_PARAMS, 'maxfee: should be a millisatoshi amount');
    const retryFor = params.retry_for ?? 60;
    if (typeof retryFor !== 'number' || !Number.isSafeInteger(retryFor) || retryFor < 0 || retryFor > 65535)
      return error(res, 'pay', INVALID_PARAMS, 'retry_for: should be a 16-bit integer');
    // Not given: CLN's default maxfee, 5000 msat or 0.5 % (whichever is more).
    const amountMsat = invoiceAmount || BigInt(asked as number);
    const maxFeeMsat =
      maxfee !== undefined ? BigInt(maxfee) : amountMsat / 200n > 5000n ? amountMsat / 200n : 5000n;
    const paymentId = node.send(invoice, maxFeeMsat, invoiceAmount === 0n ? amountMsat : null);
    if (paymentId === null) return error(res, 'pay', 205, 'Ran out of routes to try');
    const p: ClnFrontPayment = {
      paymentId,
      paymentHash: hash,
      bolt11: text,
      destination: hexOf(invoice.recover_payee_pub_key()),
      amountMsat,
      createdAt: Number(nowSeconds()),
      createdIndex: ++createdIndex,
      status: 'pending',
      preimage: '',
      feeMsat: 0n,
      completedAt: 0,
    };
    const reply = (q: ClnFrontPayment, outcome: SentOutcome) => {
      waiting.delete(q.paymentId);
      if (q.status === 'complete') return answer(res, 'pay', 201, payJson(q));
      const failure = clnFailure(outcome.state === 'failed' ? outcome.reason : null, timedOut);
      error(res, 'pay', failure.code, failure.message);
    };
    let timedOut = false;
    const early = node.outcomeOf(paymentId);
    if (early) {
      // LDK refused to start (no route at all): CLN's getroute found none, no sendpay was made.
      const failure = clnFailure(early.state === 'failed' ? early.reason : null, false);
      if (early.state === 'failed') return error(res, 'pay', failure.code, failure.message);
    }
    payments.push(p);
    waiting.set(paymentId, reply);
    const timer = setTimeout(() => {
      if (p.status !== 'pending') return;
      timedOut = true;
      node.abandon(paymentId);
    }, retryFor * 1000);
    timer.unref();
    if (front.cutPays) res.destroy();
  }

  function listPays(res: ServerResponse, params: Record<string, unknown>) {
    const hash = params.payment_hash;
    if (hash !== undefined && (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)))
      return error(res, 'listpays', INVALID_PARAMS, 'payment_hash: should be a 32 byte hex value');
    const pays = payments.filter((p) => hash === undefined || p.paymentHash === hash).map(listPaysEntry);
    answer(res, 'listpays', 201, { pays });
  }

  function invoice(res: ServerResponse, params: Record<string, unknown>) {
    const { label, description } = params;
    const amount = params.amount_msat;
    const expiry = params.expiry ?? 604_800;
    if (typeof label !== 'string' || label === '')
      return error(res, 'invoice', INVALID_PARAMS, 'label: should be a string');
    if (typeof description !== 'string')
      return error(res, 'invoice', INVALID_PARAMS, 'description: should be a string');
    if (amount !== 'any' && (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0))
      return error(res, 'invoice', INVALID_PARAMS, 'amount_msat: should be positive msat or "any"');
    if (typeof expiry !== 'number' || !Number.isSafeInteger(expiry) || expiry <= 0)
      return error(res, 'invoice', INVALID_PARAMS, 'expiry: should be an unsigned 64 bit integer');
    if (labels.has(label)) return error(res, 'invoice', 900, 'Duplicate label');
    // LDK puts route hints for its private channels in every invoice; CLN only with exposeprivatechannels.
    const made = node.invoice(amount === 'any' ? null : BigInt(amount), description, expiry);
    labels.add(label);
    const entry: ClnFrontInvoice = {
      label,
      description: descriptionOf(made),
      bolt11: made.to_str(),
      invoice: made,
      amountMsat: amount === 'any' ? null : BigInt(amount),
      expiresAt: Number(made.duration_since_epoch()) + expiry,
      createdIndex: ++createdIndex,
    };
    invoices.set(hexOf(made.payment_hash()), entry);
    answer(res, 'invoice', 201, {
      bolt11: entry.bolt11,
      payment_hash: hexOf(made.payment_hash()),
      payment_secret: hexOf(made.payment_secret()),
      expires_at: entry.expiresAt,
      created_index: entry.createdIndex,
    });
  }

  function listInvoices(res: ServerResponse, params: Record<string, unknown>) {
    const hash = params.payment_hash;
    if (hash !== undefined && (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)))
      return error(res, 'listinvoices', INVALID_PARAMS, 'payment_hash: should be a 32 byte hex value');
    const found = [...invoices.entries()]
      .filter(([h]) => hash === undefined || h === hash)
      .map(([, inv]) => inv);
    answer(res, 'listinvoices', 201, { invoices: found.map((inv) => invoiceEntry(node, inv)) });
  }

  function decode(res: ServerResponse, params: Record<string, unknown>) {
    const text = typeof params.string === 'string' ? params.string : '';
    const invoice = parseInvoice(text);
    if (!invoice) return error(res, 'decode', INVALID_PARAMS, 'string: Unparsable invoice');
    answer(res, 'decode', 201, decodeJson(text, invoice));
  }

  /** null: the rune is the front's and allows `method`; else the refusal clnrest writes. */
  function refusal(
    req: IncomingMessage,
    method: ClnMethod,
  ): { status: number; code: number; message: string } | null {
    const header = req.headers.rune;
    if (typeof header !== 'string')
      return { status: 403, code: 1501, message: 'Not authorized: Missing rune' };
    const given = Buffer.from(header, 'utf8');
    const ok = given.length === options.rune.length && timingSafeEqual(given, options.rune);
    if (!ok) return { status: 401, code: 1502, message: 'Rune is not valid' };
    if (options.allowed && !options.allowed.includes(method))
      return {
        status: 401,
        code: 1502,
        message: `Not permitted: method is not equal to ${options.allowed[0]}`,
      };
    return null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://front');
    const match = /^\/v1\/([a-z_-]+)$/.exec(url.pathname);
    if (!match || req.method !== 'POST')
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    const name = match[1] ?? '';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let params: Record<string, unknown> = {};
    try {
      const parsed = text === '' ? {} : JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      params = parsed;
    } catch {
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({ code: null, message: 'Could not parse `application/json` request body' }),
      );
    }
    if (!METHODS.has(name)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ code: -32601, message: `Unknown command '${name}'` }));
    }
    const method = name as ClnMethod;
    front.requests.push({ method, params });
    const refused = refusal(req, method);
    if (refused) return error(res, method, refused.code, refused.message, refused.status);
    const faulty = front.fault?.(method);
    if (faulty)
      return void res.writeHead(faulty.status, { 'content-type': 'application/json' }).end(faulty.body);
    switch (method) {
      case 'getinfo':
        return answer(res, method, 201, getInfoJson(node, options.chain));
      case 'listpeerchannels':
        return answer(res, method, 201, { channels: peerChannelsJson(node) });
      case 'decode':
        return decode(res, params);
      case 'pay':
        return pay(res, params);
      case 'listpays':
        return listPays(res, params);
      case 'invoice':
        return invoice(res, params);
      case 'listinvoices':
        return listInvoices(res, params);
    }
  }

  const served = await serveLoopback(handle);
  front.url = served.url;
  front.stop = served.stop;
  return front;
}

/** Starts the front for `node` and stops it in `after()`. */
export function startClnFront(options: ClnFrontOptions): Promise<ClnFront> {
  return startPeer(() => startOnce(options));
}
