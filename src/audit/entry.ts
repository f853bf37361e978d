import type { Canonical } from '../core/canonical.ts';
import { canonicalJson } from '../core/canonical.ts';
import { WardenError } from '../core/errors.ts';
import { toJsonValue } from '../core/json.ts';

export const AUDIT_OUTCOMES = ['ok', 'denied', 'failed', 'held', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Clear-text summary of a record: short scalars only. Everything else goes to `details`. */
export interface AuditSummary {
  operationId: string;
  protocol?: string;
  [key: string]: string | number | boolean | undefined;
}

export interface AuditEntry {
  /** Who asked: a token id, `cli`, `system`, … */
  actor: string;
  identity: string | null;
  /** Dotted verb, e.g. `identity.create`, `bitcoin.sign`. */
  action: string;
  outcome: AuditOutcome;
  summary: AuditSummary;
  /** Full request and decision; encrypted. Must be absent when the vault is sealed (no keyring). */
  details?: Canonical;
}

const MAX_SUMMARY_KEYS = 16;
const MAX_SUMMARY_STRING = 128;
const MAX_NAME = 128;
/** Details are the request and decision, not payloads of arbitrary size. */
export const MAX_DETAILS_BYTES = 256 * 1024;

const KEY_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const ACTION_RE = /^[a-z][a-z0-9_-]{0,31}(\.[a-z][a-z0-9_-]{0,31}){0,3}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/**
 * The summary is stored in clear so the log can be read while the vault is sealed. These names are
 * refused because what they usually hold (addresses, amounts, content, secrets) belongs in the
 * encrypted details. A guard against accidents, not a proof: the caller still decides what it puts here.
 */
const FORBIDDEN_KEY_PARTS = [
  'address',
  'amount',
  'content',
  'destination',
  'invoice',
  'memo',
  'message',
  'mnemonic',
  'nsec',
  'passphrase',
  'password',
  'preimage',
  'privkey',
  'secret',
  'seed',
  'token',
  'xprv',
];

/** Values that look like an address, invoice or key are refused for the same reason. */
const FORBIDDEN_VALUE_RE =
  /^(0x[0-9a-f]{40,}|[0-9a-f]{64,}|(bc1|tb1|bcrt1|lnbc|lntb|lnbcrt|npub1|nsec1|xprv|xpub|tprv|tpub)[0-9a-z]{10,})$/i;

function invalid(message: string, details: Record<string, string> = {}): WardenError {
  return new WardenError('INVALID_ARGUMENT', message, details);
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME || CONTROL_RE.test(value)) {
    throw invalid(`audit ${field} must be a non-empty printable string of at most ${MAX_NAME} characters`, {
      field,
    });
  }
  return value;
}

/** Validates the summary and returns its canonical JSON text, which is what the record stores and hashes. */
export function encodeSummary(summary: unknown): string {
  if (typeof summary !== 'object' || summary === null || Array.isArray(summary)) {
    throw invalid('audit summary must be an object');
  }
  const clean: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(summary)) {
    if (value === undefined) continue;
    if (!KEY_RE.test(key))
      throw invalid('audit summary key is not a short identifier', { key: key.slice(0, 64) });
    const lower = key.toLowerCase();
    if (FORBIDDEN_KEY_PARTS.some((part) => lower.includes(part))) {
      throw invalid('audit summary key names data that belongs in the encrypted details', { key });
    }
    if (typeof value === 'string') {
      if (value.length > MAX_SUMMARY_STRING || CONTROL_RE.test(value)) {
        throw invalid(`audit summary value must be printable and at most ${MAX_SUMMARY_STRING} characters`, {
          key,
        });
      }
      if (FORBIDDEN_VALUE_RE.test(value)) {
        throw invalid('audit summary value looks like an address, invoice or key', { key });
      }
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalid('audit summary number must be finite', { key });
    } else if (typeof value !== 'boolean') {
      // Objects, arrays, null and bigint (amounts) are refused: nested data goes to details.
      throw invalid('audit summary values must be strings, numbers or booleans', { key });
    }
    clean[key] = value;
  }
  const keys = Object.keys(clean);
  if (keys.length > MAX_SUMMARY_KEYS) throw invalid(`audit summary has more than ${MAX_SUMMARY_KEYS} keys`);
  if (typeof clean.operationId !== 'string' || clean.operationId.length === 0) {
    throw invalid('audit summary must carry an operationId');
  }
  if (clean.protocol !== undefined && typeof clean.protocol !== 'string') {
    throw invalid('audit summary protocol must be a string');
  }
  return canonicalJson(clean);
}

export interface ValidatedEntry {
  actor: string;
  identity: string | null;
  action: string;
  outcome: AuditOutcome;
  /** Canonical JSON text of the summary. */
  summary: string;
  /** Canonical JSON text of the details, or null when there are none. */
  details: string | null;
}

/** Checks an entry from an untyped caller (front doors pass data through) before anything is written. */
export function validateEntry(entry: AuditEntry): ValidatedEntry {
  if (typeof entry !== 'object' || entry === null) throw invalid('audit entry must be an object');
  const actor = checkName(entry.actor, 'actor');
  const identity = entry.identity === null ? null : checkName(entry.identity, 'identity');
  if (typeof entry.action !== 'string' || !ACTION_RE.test(entry.action)) {
    throw invalid('audit action must be a dotted lowercase name such as identity.create');
  }
  if (!(AUDIT_OUTCOMES as readonly unknown[]).includes(entry.outcome)) {
    throw invalid(`audit outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  }
  const summary = encodeSummary(entry.summary);
  let details: string | null = null;
  if (entry.details !== undefined) {
    try {
      details = canonicalJson(entry.details);
    } catch (cause) {
      throw new WardenError('INVALID_ARGUMENT', 'audit details are not canonical JSON', {}, { cause });
    }
    if (Buffer.byteLength(details, 'utf8') > MAX_DETAILS_BYTES) {
      throw invalid(`audit details exceed ${MAX_DETAILS_BYTES} bytes`);
    }
  }
  return { actor, identity, action: entry.action, outcome: entry.outcome, summary, details };
}

/** What every audit record says, in the one shape all its writers use (`auditRecord`). */
export interface AuditEvent {
  /** Who asked: `agent:<token>`, `admin:local`, `cli:alice`, `scheduler`. */
  actor: string;
  identity: string | null;
  /** Dotted verb: an operation's name (`evm.send`), its `.result`, `approval.approve`, … */
  action: string;
  outcome: AuditOutcome;
  /** The request (`req_…`) or action (`op_…`) the record belongs to. */
  operationId: string;
  /** The protocol module of the request, or the room of a vault or admin action. */
  protocol: string;
  /** Full request and decision; encrypted. Bigints become decimal text. */
  details?: unknown;
}

/**
 * The one builder of audit records: every writer (the request path, approvals, reconcile, fees,
 * admin changes, vault actions) turns its event into an entry here, so their shape cannot drift.
 */
export function auditRecord(event: AuditEvent): AuditEntry {
  const { actor, identity, action, outcome, operationId, protocol, details } = event;
  return {
    actor,
    identity,
    action,
    outcome,
    summary: { operationId, protocol },
    ...(details === undefined ? {} : { details: toJsonValue(details) as Canonical }),
  };
}
