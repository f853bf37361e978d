import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256 } from '@noble/hashes/sha2.js';
import { amountOf, nowSeconds, parseInvoice, serveLoopback } from './ldk-front.ts';
import { hexOf, type LdkPeer, type SentOutcome } from './ldk-peer.ts';
import {
  b64,
  balanceJson,
  channelsJson,
  type FrontInvoice,
  type FrontPayment,
  getInfoJson,
  invoiceJson,
  type LndFrontChain,
  lndFailureReason,
  paymentJson,
  payReqJson,
  ZERO_PREIMAGE,
} from './lnd-front-json.ts';
import { startPeer } from './peer.ts';

/**
 * An HTTP server on 127.0.0.1 that speaks the part of lnd's REST API Warden uses, in lnd's own
 * shapes (test/protocols/lightning/lnd-rest/*.swagger.subset.json, taken from lnd's swagger; the
 * front's answers are validated against them by lnd-rest-front.test.ts), backed by a real LDK node:
 * the payments, fees, failures, preimages and invoices are real; only the REST layer is ours.
 *
 * lnd's behaviour it keeps, because a client must handle it:
 * - JSON as lnd writes it (protojson, proto names, every int64 as a decimal string, bytes as
 *   base64, the Payment's hashes and preimage as hex, a preimage of zeros until it is known);
 * - errors as gRPC statuses `{code, message, details}` with grpc-gateway's HTTP status (a bad or
 *   missing macaroon is code 2, HTTP 500: lnd has no distinct code for it);
 * - /v2/router/send and /v2/router/track stream newline-delimited `{"result": Payment}` lines
 *   (`{"error": Status}` when the call fails), IN_FLIGHT then SUCCEEDED or FAILED;
 * - keysend (no invoice: `dest`, the amount, `payment_hash` and the preimage in custom record
 *   5482373484), sent as LDK's spontaneous payment;
 * - one payment per payment hash: paying it again while in flight or after success is refused
 *   (AlreadyExists), after a failure it may be tried again;
 * - the payment keeps going when the client goes away, and `timeout_seconds` stops new attempts
 *   (FAILURE_REASON_TIMEOUT), not an HTLC already in flight.
 *
 * What it is not: TLS (lnd serves https with its own certificate; here plain http on loopback),
 * macaroon caveats and permissions (one macaroon, compared byte for byte), the fields Warden does
 * not read (HTLC attempts and routes, feature maps, most channel counters are left empty or zero).
 */

export type LndRoute =
  | 'getinfo'
  | 'balance'
  | 'channels'
  | 'decode'
  | 'send'
  | 'track'
  | 'addinvoice'
  | 'lookupinvoice';

/** An answer that replaces the front's own for a route (fault injection); the LDK node is not asked. */
export interface FaultAnswer {
  status: number;
  body: string;
}

export interface LndFrontOptions {
  node: LdkPeer;
  macaroon: Uint8Array;
  chain: LndFrontChain;
}

const GRPC = { UNKNOWN: 2, INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6 } as const;
/** grpc-gateway's HTTP status of a gRPC code. */
const HTTP_OF_GRPC: Record<number, number> = { 2: 500, 3: 400, 5: 404, 6: 409 };
const DEFAULT_INVOICE_EXPIRY = 86_400n;
/** bLIP-0003: the TLV record of a keysend's preimage. */
const KEYSEND_RECORD = '5482373484';

function status(code: number, message: string) {
  return { code, message, details: [] };
}

/** A JSON int64 as lnd's REST accepts it: a decimal string or a number; absent is zero. */
function int64Of(value: unknown): bigint | null {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return null;
}

export type LndFront = Awaited<ReturnType<typeof startOnce>>;

async function startOnce(options: LndFrontOptions) {
  const { node } = options;
  const payments = new Map<string, FrontPayment>();
  const invoices = new Map<string, FrontInvoice>();
  const watchers = new Map<string, Set<(p: FrontPayment) => void>>();
  let paymentIndex = 0n;
  let addIndex = 0n;

  const front = {
    url: '',
    /** Fault injection: when it answers for a route, that answer is sent verbatim instead. */
    fault: null as ((route: LndRoute) => FaultAnswer | null) | null,
    /**
     * Lose the answer: the send stream's connection is dropped after its first update, while the
     * payment goes on in the node (as when a proxy or the network cuts a long stream).
     */
    cutSendStreams: false,
    /** Every request body the front received, by route (what the client asked for). */
    requests: [] as { route: LndRoute; body: unknown }[],
    /** Every keysend handed to the node (a payment hash must never appear twice). */
    keysends: [] as { paymentHash: string; destination: string; amountMsat: bigint }[],
    /** Every JSON value the front answered, for the check against lnd's swagger. */
    answers: [] as { route: LndRoute; status: number; json: unknown }[],
    stop: async () => {},
  };

  node.onSent((outcome: SentOutcome) => {
    const p = [...payments.values()].find((q) => q.paymentId === outcome.paymentId);
    if (!p) return;
    if (outcome.state === 'succeeded') {
      p.status = 'SUCCEEDED';
      p.preimage = outcome.preimage;
      p.feeMsat = outcome.feeMsat;
    } else {
      p.status = 'FAILED';
      p.failureReason = lndFailureReason(outcome.reason, p.timedOut);
    }
    for (const watch of watchers.get(p.paymentHash) ?? []) watch(p);
  });

  function answer(res: ServerResponse, route: LndRoute, code: number, json: unknown) {
    front.answers.push({ route, status: code, json });
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  }
  /**
   * A gRPC error as grpc-gateway writes it: the Status itself, or for a streaming call (its
   * error arrives on the stream, even the macaroon's) `{"error": Status}`; the HTTP status from
   * the code either way. `bare`: refused by the gateway before the call (a body that is not JSON).
   */
  function fail(res: ServerResponse, route: LndRoute, grpcCode: number, message: string, bare = false) {
    const streaming = !bare && (route === 'send' || route === 'track');
    const st = status(grpcCode, message);
    answer(res, route, HTTP_OF_GRPC[grpcCode] ?? 500, streaming ? { error: st } : st);
  }

  /** A payment's updates as lnd streams them, until it is final (or the client leaves). */
  function stream(res: ServerResponse, route: LndRoute, p: FrontPayment, noInflight: boolean) {
    res.writeHead(200, { 'content-type': 'application/json' });
    const line = (q: FrontPayment) => {
      const json = { result: paymentJson(q) };
      front.answers.push({ route, status: 200, json });
      res.write(`${JSON.stringify(json)}\n`);
    };
    if (!noInflight || p.status !== 'IN_FLIGHT') line(p);
    if (route === 'send' && front.cutSendStreams) return void res.destroy();
    if (p.status !== 'IN_FLIGHT') return void res.end();
    const set = watchers.get(p.paymentHash) ?? new Set();
    watchers.set(p.paymentHash, set);
    const watch = (q: FrontPayment) => {
      line(q);
      set.delete(watch);
      res.end();
    };
    set.add(watch);
    res.once('close', () => set.delete(watch));
  }

  function send(res: ServerResponse, body: Record<string, unknown>) {
    const route = 'send';
    const request = typeof body.payment_request === 'string' ? body.payment_request : '';
    // Not given: routing's DefaultPayAttemptTimeout (60 s, routing/router.go).
    const timeout =
      typeof body.timeout_seconds === 'number' &&
      Number.isSafeInteger(body.timeout_seconds) &&
      body.timeout_seconds > 0
        ? body.timeout_seconds
        : 60;
    const feeSat = int64Of(body.fee_limit_sat);
    const feeMsat = int64Of(body.fee_limit_msat);
    const amtSat = int64Of(body.amt);
    const amtMsat = int64Of(body.amt_msat);
    if (feeSat === null || feeMsat === null || amtSat === null || amtMsat === null)
      return fail(res, route, GRPC.INVALID_ARGUMENT, 'invalid int64 value', true);
    if (request === '' && body.dest !== undefined)
      return keysend(res, body, { timeout, feeSat, feeMsat, amtSat, amtMsat });
    if (request === '') return fail(res, route, GRPC.UNKNOWN, 'payment request must be specified');
    if (feeSat !== 0n && feeMsat !== 0n)
      return fail(res, route, GRPC.UNKNOWN, 'sat and msat arguments are mutually exclusive');
    const invoice = parseInvoice(request);
    if (!invoice) return fail(res, route, GRPC.UNKNOWN, 'invalid payment request');
    const hash = hexOf(invoice.payment_hash());
    const existing = payments.get(hash);
    if (existing?.status === 'SUCCEEDED')
      return fail(res, route, GRPC.ALREADY_EXISTS, 'invoice is already paid');
    if (existing?.status === 'IN_FLIGHT')
      return fail(res, route, GRPC.ALREADY_EXISTS, 'payment is in transition');
    const invoiceAmount = amountOf(invoice);
    const asked = amtMsat !== 0n ? amtMsat : amtSat * 1000n;
    if (invoiceAmount !== 0n && asked !== 0n)
      return fail(
        res,
        route,
        GRPC.UNKNOWN,
        'amount must not be specified when paying a non-zero amount invoice',
      );
    if (invoiceAmount === 0n && asked === 0n)
      return fail(res, route, GRPC.UNKNOWN, 'amount must be specified when paying a zero amount invoice');
    const maxFee = feeMsat !== 0n ? feeMsat : feeSat * 1000n;
    const paymentId = node.send(invoice, maxFee, invoiceAmount === 0n ? asked : null);
    if (paymentId === null) return fail(res, route, GRPC.UNKNOWN, 'unable to send payment');
    started(res, body, { paymentId, hash, request, valueMsat: invoiceAmount || asked, timeout });
  }

  /** A payment LDK started: followed as lnd does, until final, its timeout stopping new attempts. */
  function started(
    res: ServerResponse,
    body: Record<string, unknown>,
    s: { paymentId: string; hash: string; request: string; valueMsat: bigint; timeout: number },
  ) {
    const { paymentId, hash, timeout } = s;
    const route = 'send';
    const p: FrontPayment = {
      paymentId,
      paymentHash: hash,
      paymentRequest: s.request,
      valueMsat: s.valueMsat,
      creationNs: BigInt(Date.now()) * 1_000_000n,
      index: ++paymentIndex,
      status: 'IN_FLIGHT',
      preimage: ZERO_PREIMAGE,
      feeMsat: 0n,
      failureReason: 'FAILURE_REASON_NONE',
      timedOut: false,
    };
    payments.set(hash, p);
    // LDK may have ended it already (it refused to start: no route at all).
    const early = node.outcomeOf(paymentId);
    if (early) {
      p.status = early.state === 'succeeded' ? 'SUCCEEDED' : 'FAILED';
      if (early.state === 'failed') p.failureReason = lndFailureReason(early.reason, false);
    }
    const timer = setTimeout(() => {
      if (p.status !== 'IN_FLIGHT') return;
      p.timedOut = true;
      node.abandon(paymentId);
    }, timeout * 1000);
    timer.unref();
    stream(res, route, p, body.no_inflight_updates === true);
  }

  /**
   * A keysend as lnd takes it in SendPaymentV2: no invoice, `dest` (33 bytes, base64), the amount,
   * `payment_hash` and the preimage in custom record 5482373484 (lnd sends the hash it is given;
   * LDK derives it from the preimage, so the front refuses a pair that does not match).
   */
  function keysend(
    res: ServerResponse,
    body: Record<string, unknown>,
    a: { timeout: number; feeSat: bigint; feeMsat: bigint; amtSat: bigint; amtMsat: bigint },
  ) {
    const route = 'send';
    const bytes = (value: unknown) =>
      typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    const dest = bytes(body.dest);
    if (dest.length !== 33) return fail(res, route, GRPC.UNKNOWN, 'dest must be 33 bytes');
    const hash = bytes(body.payment_hash);
    if (hash.length !== 32) return fail(res, route, GRPC.UNKNOWN, 'payment hash must be 32 bytes');
    const records = body.dest_custom_records;
    const preimage =
      typeof records === 'object' && records !== null
        ? bytes((records as Record<string, unknown>)[KEYSEND_RECORD])
        : null;
    if (preimage?.length !== 32)
      return fail(res, route, GRPC.UNKNOWN, 'keysend needs a 32-byte preimage in record 5482373484');
    if (!Buffer.from(sha256(preimage)).equals(hash))
      return fail(res, route, GRPC.INVALID_ARGUMENT, 'payment hash does not match the keysend preimage');
    if (a.feeSat !== 0n && a.feeMsat !== 0n)
      return fail(res, route, GRPC.UNKNOWN, 'sat and msat arguments are mutually exclusive');
    const amount = a.amtMsat !== 0n ? a.amtMsat : a.amtSat * 1000n;
    if (amount <= 0n) return fail(res, route, GRPC.UNKNOWN, 'amount must be greater than 0');
    const hashHex = hexOf(hash);
    const existing = payments.get(hashHex);
    if (existing?.status === 'SUCCEEDED')
      return fail(res, route, GRPC.ALREADY_EXISTS, 'invoice is already paid');
    if (existing?.status === 'IN_FLIGHT')
      return fail(res, route, GRPC.ALREADY_EXISTS, 'payment is in transition');
    const maxFee = a.feeMsat !== 0n ? a.feeMsat : a.feeSat * 1000n;
    const paymentId = node.keysend(new Uint8Array(dest), new Uint8Array(preimage), amount, maxFee);
    front.keysends.push({ paymentHash: hashHex, destination: hexOf(dest), amountMsat: amount });
    started(res, body, { paymentId, hash: hashHex, request: '', valueMsat: amount, timeout: a.timeout });
  }

  function track(res: ServerResponse, rawHash: string, query: URLSearchParams) {
    // grpc-gateway reads a bytes path parameter as base64, standard or URL-safe.
    const bytes = Buffer.from(decodeURIComponent(rawHash).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length !== 32) return fail(res, 'track', GRPC.INVALID_ARGUMENT, 'invalid hash length');
    const p = payments.get(hexOf(bytes));
    if (!p) return fail(res, 'track', GRPC.NOT_FOUND, "payment isn't initiated");
    stream(res, 'track', p, query.get('no_inflight_updates') === 'true');
  }

  function addInvoice(res: ServerResponse, body: Record<string, unknown>) {
    const value = int64Of(body.value);
    const valueMsat = int64Of(body.value_msat);
    const expiry = int64Of(body.expiry);
    if (
      value === null ||
      valueMsat === null ||
      expiry === null ||
      value < 0n ||
      valueMsat < 0n ||
      expiry < 0n
    )
      return fail(res, 'addinvoice', GRPC.INVALID_ARGUMENT, 'invalid int64 value');
    if (value !== 0n && valueMsat !== 0n)
      return fail(res, 'addinvoice', GRPC.UNKNOWN, 'value and value_msat are mutually exclusive');
    const amount = valueMsat !== 0n ? valueMsat : value * 1000n;
    const seconds = expiry === 0n ? DEFAULT_INVOICE_EXPIRY : expiry;
    const memo = typeof body.memo === 'string' ? body.memo : '';
    // LDK puts route hints for its private channels in every invoice; lnd only when `private`.
    const invoice = node.invoice(amount === 0n ? null : amount, memo, Number(seconds));
    const hash = hexOf(invoice.payment_hash());
    const made: FrontInvoice = {
      memo,
      paymentRequest: invoice.to_str(),
      invoice,
      valueMsat: amount,
      creationDate: nowSeconds(),
      expiry: seconds,
      isPrivate: body.private === true,
      addIndex: ++addIndex,
    };
    invoices.set(hash, made);
    answer(res, 'addinvoice', 200, {
      r_hash: b64(invoice.payment_hash()),
      payment_request: made.paymentRequest,
      add_index: made.addIndex.toString(),
      payment_addr: b64(invoice.payment_secret()),
    });
  }

  function lookupInvoice(res: ServerResponse, hashHex: string) {
    if (!/^[0-9a-f]{64}$/.test(hashHex))
      return fail(res, 'lookupinvoice', GRPC.UNKNOWN, 'payment hash must be exactly 32 bytes');
    const inv = invoices.get(hashHex);
    if (!inv) return fail(res, 'lookupinvoice', GRPC.NOT_FOUND, 'unable to locate invoice');
    const paid = node.claimed.get(hashHex);
    const state =
      paid !== undefined
        ? 'SETTLED'
        : node.isHeld(hashHex)
          ? 'ACCEPTED'
          : nowSeconds() >= inv.creationDate + inv.expiry
            ? 'CANCELED'
            : 'OPEN';
    answer(res, 'lookupinvoice', 200, invoiceJson(node, inv, state));
  }

  function decode(res: ServerResponse, text: string) {
    const invoice = parseInvoice(text);
    if (!invoice) return fail(res, 'decode', GRPC.UNKNOWN, 'invalid payment request');
    answer(res, 'decode', 200, payReqJson(invoice));
  }

  function routeOf(method: string, path: string): { route: LndRoute; param: string } | null {
    const table: [string, RegExp, LndRoute][] = [
      ['GET', /^\/v1\/getinfo$/, 'getinfo'],
      ['GET', /^\/v1\/balance\/channels$/, 'balance'],
      ['GET', /^\/v1\/channels$/, 'channels'],
      ['GET', /^\/v1\/payreq\/([^/]+)$/, 'decode'],
      ['POST', /^\/v2\/router\/send$/, 'send'],
      ['GET', /^\/v2\/router\/track\/([^/]+)$/, 'track'],
      ['POST', /^\/v1\/invoices$/, 'addinvoice'],
      ['GET', /^\/v1\/invoice\/([^/]+)$/, 'lookupinvoice'],
    ];
    for (const [m, re, route] of table) {
      const match = re.exec(path);
      if (m === method && match) return { route, param: match[1] ?? '' };
    }
    return null;
  }

  function authorized(req: IncomingMessage): string | null {
    const header = req.headers['grpc-metadata-macaroon'];
    if (typeof header !== 'string') return 'expected 1 macaroon, got 0';
    const given = /^([0-9a-fA-F]{2})+$/.test(header) ? Buffer.from(header, 'hex') : null;
    if (!given) return 'encoding/hex: invalid byte';
    const ok = given.length === options.macaroon.length && timingSafeEqual(given, options.macaroon);
    return ok ? null : 'verification failed: signature mismatch after caveat verification';
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://front');
    const found = routeOf(req.method ?? 'GET', url.pathname);
    if (!found) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> = {};
    if (req.method === 'POST') {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(res, found.route, GRPC.INVALID_ARGUMENT, 'unexpected end of JSON input', true);
      }
    }
    front.requests.push({ route: found.route, body });
    const refused = authorized(req);
    if (refused !== null) return fail(res, found.route, GRPC.UNKNOWN, refused);
    const faulty = front.fault?.(found.route);
    if (faulty)
      return void res.writeHead(faulty.status, { 'content-type': 'application/json' }).end(faulty.body);
    switch (found.route) {
      case 'getinfo':
        return answer(res, 'getinfo', 200, getInfoJson(node, options.chain));
      case 'balance':
        return answer(res, 'balance', 200, balanceJson(node));
      case 'channels':
        return answer(res, 'channels', 200, { channels: channelsJson(node) });
      case 'decode':
        return decode(res, decodeURIComponent(found.param));
      case 'send':
        return send(res, body);
      case 'track':
        return track(res, found.param, url.searchParams);
      case 'addinvoice':
        return addInvoice(res, body);
      case 'lookupinvoice':
        return lookupInvoice(res, found.param);
    }
  }

  const served = await serveLoopback(handle);
  front.url = served.url;
  front.stop = served.stop;
  return front;
}

/** Starts the front for `node` and stops it in `after()`. */
export function startLndFront(options: LndFrontOptions): Promise<LndFront> {
  return startPeer(() => startOnce(options));
}
