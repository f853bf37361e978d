/**
 * One HTTP exchange with a Bitcoin backend through net/, its failures in the protocol-neutral
 * backend codes: not reached → BACKEND_UNREACHABLE (`sent: false` when nothing left), reached but
 * the answer refused or unreadable → BACKEND_REJECTED. Nothing of the URL's path (which may hold
 * an API key) or the request body appears in an error; the backend's words only sanitized.
 */
import { type ErrorDetails, WardenError } from '../../../core/errors.ts';
import { type Net, readTextLimited } from '../../../net/http.ts';
import { unreachableBackend } from '../../backend-endpoints.ts';

const MAX_REPLY_BYTES = 4 * 1024 * 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A backend's words, fit for an error's details: control characters gone, 200 characters at most. */
export function sanitized(text: string, max = 200): string {
  const clean = text.replace(CONTROL, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export function rejectedBy(what: string, details: ErrorDetails): WardenError {
  return new WardenError('BACKEND_REJECTED', `the Bitcoin backend refused ${what}`, {
    protocol: 'bitcoin',
    what,
    ...details,
  });
}

export function malformedReply(what: string, why: string): WardenError {
  return new WardenError('BACKEND_REJECTED', `the Bitcoin backend's answer to ${what} is malformed: ${why}`, {
    protocol: 'bitcoin',
    what,
    reason: 'malformed',
  });
}

export interface BackendReply {
  status: number;
  text: string;
}

export async function backendRequest(
  net: Net,
  url: URL,
  init: RequestInit,
  identity: string | null,
  what: string,
): Promise<BackendReply> {
  try {
    const response = await net.fetch(url, init, { identity });
    return { status: response.status, text: await readTextLimited(response, MAX_REPLY_BYTES) };
  } catch (err) {
    if (err instanceof WardenError && err.details.reason === 'too_large')
      throw rejectedBy(what, { reason: 'too_large' });
    throw unreachableBackend(err, 'bitcoin', 'the Bitcoin backend', what, url);
  }
}
