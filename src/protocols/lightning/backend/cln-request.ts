/**
 * One call to Core Lightning's REST plugin (clnrest, CLN ≥ 24) through net/: `POST /v1/<method>`
 * with the RPC's named parameters as the JSON body and the rune in the `Rune` header, nowhere
 * else. clnrest answers 201 with the RPC's result; a refusal is the JSON-RPC error object
 * `{code, message, data?}` with HTTP 401 (a rune checkrune refuses, or one whose restrictions do
 * not allow the call), 403 (no rune), 404 (no such method) or 500 (the RPC failed: the caller
 * reads `code`). Amounts are JSON numbers of msat (CLN ≥ 23.05): only safe integers are believed.
 */
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import { isRecord, malformedAnswer, rejectedBy, sanitized } from './answers.ts';
import { type BackendConnection, jsonExchange } from './http-call.ts';

export interface ClnConnection extends BackendConnection {
  /** The rune's text as bytes (the identity's sealed credential), lent: read at each call, never kept. */
  rune: Uint8Array;
}

export const malformed = (what: string, why: string): WardenError =>
  malformedAnswer('Core Lightning', what, why);

export const rejected = (what: string, details: ErrorDetails): WardenError =>
  rejectedBy('Core Lightning', what, details);

/** A JSON-RPC error as lightningd writes it. */
export interface RpcError {
  code: number;
  message: string;
}

export type ClnReply = { ok: true; result: Record<string, unknown> } | { ok: false; error: RpcError };

function rpcErrorOf(value: unknown): RpcError | null {
  if (!isRecord(value) || typeof value.message !== 'string') return null;
  // clnrest writes `code: null` for its own failures (a body it cannot read).
  const code = value.code === null || value.code === undefined ? 0 : value.code;
  if (!Number.isSafeInteger(code)) return null;
  return { code: code as number, message: sanitized(value.message) };
}

/** A rune is base64url text; a credential that is not one is refused before it is sent anywhere. */
const RUNE = /^[A-Za-z0-9_=-]{1,4096}$/;

function runeHeader(rune: Uint8Array): string {
  // The header is text by nature: the string lives only for this request.
  const text = new TextDecoder().decode(rune).trim();
  if (!RUNE.test(text))
    throw new WardenError(
      'LIGHTNING_BACKEND_AUTH',
      "the identity's Lightning credential is not a rune (base64url text): nothing was sent",
      { protocol: 'lightning', reason: 'not_a_rune' },
    );
  return text;
}

/**
 * Calls `method` with named `params`. Resolves with the result (201) or the RPC's error (500);
 * throws LIGHTNING_BACKEND_AUTH for a refused rune and BACKEND_REJECTED for anything else.
 */
export async function clnCall(
  c: ClnConnection,
  method: string,
  params: Record<string, unknown>,
  what: string,
  signal?: AbortSignal,
): Promise<ClnReply> {
  const reply = await jsonExchange(c, 'Core Lightning', {
    method: 'POST',
    path: `v1/${method}`,
    headers: { rune: runeHeader(c.rune) },
    body: params,
    what,
    ...(signal ? { signal } : {}),
  });
  const error = rpcErrorOf(reply.json);
  if (reply.status === 401 || reply.status === 403)
    throw new WardenError('LIGHTNING_BACKEND_AUTH', `Core Lightning refused Warden's rune for ${what}`, {
      protocol: 'lightning',
      what,
      httpStatus: reply.status,
      message: error?.message ?? '',
    });
  if (reply.status === 201 || reply.status === 200) {
    if (!isRecord(reply.json)) throw malformed(what, 'not an object');
    return { ok: true, result: reply.json };
  }
  if (reply.status === 500 && error) return { ok: false, error };
  throw rejected(what, {
    httpStatus: reply.status,
    rpcCode: error?.code ?? null,
    message: error?.message ?? '',
  });
}

/** The refusal of a call whose RPC error the caller has no better word for. */
export function refused(what: string, error: RpcError): WardenError {
  return rejected(what, { httpStatus: 500, rpcCode: error.code, message: error.message });
}

/** An `msat` field as CLN writes it: a JSON number, a whole one, exactly representable. */
export function msatOf(value: unknown, what: string, field: string): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw malformed(what, `${field} is not an amount of msat`);
  return BigInt(value);
}

/** An amount Warden sends as a JSON number: whole msat below 2^53 (90,000 BTC), or refused. */
export function msatParam(msat: bigint): number | null {
  return msat >= 0n && msat <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(msat) : null;
}
