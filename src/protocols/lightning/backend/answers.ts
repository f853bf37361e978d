/**
 * What every Lightning backend's client (lnd-rest.ts, cln-rest.ts) does with an answer before it
 * believes it: the shape checks that do not depend on the backend, the proof of payment (a
 * preimage opens the hash), and the two ways an answer is refused (BACKEND_REJECTED, malformed or
 * not), each naming the backend and the call, never the credential or the request body.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';

/** The backend as an error names it. */
export type BackendName = 'lnd' | 'Core Lightning' | 'the NWC wallet';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const isHash = (value: unknown): value is string =>
  typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);

export const isNodeId = (value: unknown): value is string =>
  typeof value === 'string' && /^0[23][0-9a-f]{64}$/.test(value);

/** The preimage opens the hash: SHA-256(preimage) = payment hash. */
export function opens(preimage: string, paymentHash: string): boolean {
  return bytesToHex(sha256(hexToBytes(preimage))) === paymentHash;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A backend's words, fit for an error's details: control characters gone, 200 characters at most. */
export function sanitized(text: string, max = 200): string {
  const clean = text.replace(CONTROL, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export function malformedAnswer(backend: BackendName, what: string, why: string): WardenError {
  return new WardenError('BACKEND_REJECTED', `${backend}'s answer to ${what} is malformed: ${why}`, {
    protocol: 'lightning',
    what,
    reason: 'malformed',
  });
}

export function rejectedBy(backend: BackendName, what: string, details: ErrorDetails): WardenError {
  return new WardenError('BACKEND_REJECTED', `${backend} refused ${what}`, {
    protocol: 'lightning',
    what,
    ...details,
  });
}

export function parseAnswer(backend: BackendName, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw malformedAnswer(backend, what, 'not JSON');
  }
}
