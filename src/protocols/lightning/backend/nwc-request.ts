/**
 * One NIP-47 request to an upstream wallet over one relay socket from net/: the request is a kind
 * 23194 event to the wallet's key (`p`), NIP-44 v2 (`encryption nip44_v2`), expiring with the wait
 * (`expiration`, NIP-40), so a wallet that sees it late must not act on it; the response is the
 * kind 23195 event of the wallet's key naming the request (`e`), subscribed to before the request
 * is published. Everything from the relay is hostile: a response counts only when its id and
 * signature verify, it comes from the wallet's key, names this request, decrypts, and is JSON of
 * the method asked (`result_type`) with either a result object or an error `{code, message}`.
 *
 * What a failure means for money: BACKEND_UNREACHABLE with `sent: false` when the request never
 * reached the relay (or the relay refused it): nothing can have been paid. Once published, a
 * missing or unacceptable answer is BACKEND_UNREACHABLE (`reason: 'timeout'`) or BACKEND_REJECTED
 * `malformed`: the caller of a payment makes it OUTCOME_UNKNOWN (pay-checks.ts afterSending).
 */
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { type Event, verifyEvent } from 'nostr-tools';
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import type { NwcWalletClient } from '../../../keys/capabilities.ts';
import type { Net } from '../../../net/http.ts';
import type { NetWebSocket } from '../../../net/websocket.ts';
import { isRecord, malformedAnswer, rejectedBy, sanitized } from './answers.ts';

export const REQUEST_KIND = 23194;
export const RESPONSE_KIND = 23195;
/** How long the relay may take to say OK to the request before it is taken as not sent. */
const PUBLISH_ACK_MS = 10_000;

export const malformed = (what: string, why: string): WardenError =>
  malformedAnswer('the NWC wallet', what, why);
export const rejected = (what: string, details: ErrorDetails): WardenError =>
  rejectedBy('the NWC wallet', what, details);

/** A NIP-47 error as the wallet wrote it (code as is: the caller maps the ones it knows). */
export interface Nip47WalletError {
  code: string;
  message: string;
}
export type NwcReply = { ok: true; result: Record<string, unknown> } | { ok: false; error: Nip47WalletError };

export interface NwcConnection {
  relay: string;
  net: Net;
  identity: string | null;
  client: NwcWalletClient;
}

function unreachable(what: string, reason: string, sent: boolean): WardenError {
  return new WardenError('BACKEND_UNREACHABLE', `the NWC wallet did not answer ${what}`, {
    protocol: 'lightning',
    what,
    reason,
    ...(sent ? {} : { sent: false }),
  });
}

/** The wallet's answer to one request, checked; anything else from the relay is ignored. */
export function replyOf(
  c: NwcConnection,
  request: Event,
  method: string,
  event: unknown,
  what: string,
): NwcReply | null {
  if (!isRecord(event) || event.kind !== RESPONSE_KIND || event.pubkey !== c.client.walletPubkey) return null;
  const tags = event.tags;
  if (!Array.isArray(tags) || !tags.some((t) => Array.isArray(t) && t[0] === 'e' && t[1] === request.id))
    return null;
  // A forged or altered event is not the wallet's: ignored, as if another's. Verified as a fresh
  // object: nostr-tools caches a verdict on the event object (a symbol a copy carries along).
  const { id, pubkey, created_at, kind, content, sig } = event;
  try {
    if (!verifyEvent({ id, pubkey, created_at, kind, tags, content, sig } as Event)) return null;
  } catch {
    return null;
  }
  let text: string;
  try {
    // keys/ refuses any payload NIP-44 v2 does not open (NIP44_REFUSED); net/ bounds its size.
    if (typeof content !== 'string') throw new Error('not text');
    text = c.client.decrypt(content);
  } catch {
    throw malformed(what, 'the response does not decrypt (NIP-44 v2)');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed(what, 'the response is not JSON');
  }
  if (!isRecord(body)) throw malformed(what, 'the response is not an object');
  if (body.result_type !== method) throw malformed(what, 'the response is of another method');
  const error = body.error;
  if (error !== undefined && error !== null) {
    if (!isRecord(error) || typeof error.code !== 'string' || !/^[A-Z_]{1,40}$/.test(error.code))
      throw malformed(what, 'an error without a NIP-47 code');
    const message = typeof error.message === 'string' ? sanitized(error.message) : '';
    return { ok: false, error: { code: error.code, message } };
  }
  if (!isRecord(body.result)) throw malformed(what, 'a response with neither result nor error');
  return { ok: true, result: body.result };
}

/** A socket to the relay, opened on first use; `close` ends it (connect.ts, when the call chain ends). */
export function createNwcChannel(c: NwcConnection) {
  let socket: Promise<NetWebSocket> | null = null;
  const listeners = new Set<(message: unknown[]) => void>();
  let closed = false;

  function open(what: string): Promise<NetWebSocket> {
    socket ??= c.net.webSocket(c.relay, { identity: c.identity }).then(
      (ws) => {
        ws.onMessage((text) => {
          let message: unknown;
          try {
            message = JSON.parse(text);
          } catch {
            return;
          }
          if (Array.isArray(message)) for (const l of [...listeners]) l(message);
        });
        ws.onClose(() => {
          closed = true;
          for (const l of [...listeners]) l(['CLOSED-SOCKET']);
        });
        return ws;
      },
      (err: unknown) => {
        socket = null;
        throw new WardenError(
          'BACKEND_UNREACHABLE',
          `the NWC wallet's relay could not be reached for ${what}`,
          { protocol: 'lightning', what, reason: 'relay', sent: false },
          { cause: err },
        );
      },
    );
    return socket;
  }

  /**
   * Publishes `method` with `params` and waits at most `waitMs` for the wallet's answer. Throws
   * BACKEND_UNREACHABLE (`sent: false` when the request was never accepted by the relay).
   */
  async function call(
    method: string,
    params: Record<string, unknown>,
    what: string,
    waitMs: number,
  ): Promise<NwcReply> {
    const ws = await open(what);
    if (closed || !ws.isOpen) throw unreachable(what, 'relay', false);
    const now = Math.floor(Date.now() / 1000);
    const request = c.client.sign({
      kind: REQUEST_KIND,
      created_at: now,
      tags: [
        ['p', c.client.walletPubkey],
        ['encryption', 'nip44_v2'],
        ['expiration', String(now + Math.max(1, Math.ceil(waitMs / 1000)))],
      ],
      content: c.client.encrypt(JSON.stringify({ method, params })),
    });
    const sub = `w${bytesToHex(randomBytes(8))}`;
    return new Promise<NwcReply>((resolve, reject) => {
      let accepted = false;
      const finish = (fn: () => void) => {
        clearTimeout(ackTimer);
        clearTimeout(replyTimer);
        listeners.delete(listen);
        if (ws.isOpen) ws.send(JSON.stringify(['CLOSE', sub]));
        fn();
      };
      const ackTimer = setTimeout(
        () => {
          if (!accepted) finish(() => reject(unreachable(what, 'relay_ack', true)));
        },
        Math.min(PUBLISH_ACK_MS, waitMs),
      );
      const replyTimer = setTimeout(() => finish(() => reject(unreachable(what, 'timeout', true))), waitMs);
      const listen = (m: unknown[]) => {
        if (m[0] === 'CLOSED-SOCKET') return finish(() => reject(unreachable(what, 'relay_closed', true)));
        if (m[0] === 'OK' && m[1] === request.id) {
          if (m[2] === true) accepted = true;
          // Refused by the relay: the wallet never sees it, so nothing was paid.
          else finish(() => reject(rejected(what, { reason: 'relay_refused' })));
          return;
        }
        if (m[0] !== 'EVENT' || m[1] !== sub) return;
        try {
          const reply = replyOf(c, request, method, m[2], what);
          if (reply) finish(() => resolve(reply));
        } catch (err) {
          finish(() => reject(err));
        }
      };
      listeners.add(listen);
      ws.send(
        JSON.stringify([
          'REQ',
          sub,
          { kinds: [RESPONSE_KIND], authors: [c.client.walletPubkey], '#e': [request.id] },
        ]),
      );
      ws.send(JSON.stringify(['EVENT', request]));
    });
  }

  return {
    call,
    close() {
      void socket?.then((ws) => ws.close()).catch(() => {});
    },
  };
}
export type NwcChannel = ReturnType<typeof createNwcChannel>;
