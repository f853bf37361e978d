/**
 * NIP-47 methods onto Warden's operations. Each checks its hostile `params` (amounts are JSON
 * numbers of msat: whole, non-negative, safe), builds the operation's body, and turns the
 * operation's result into NIP-47's. The request event's id is the idempotency key, so the same
 * event can never run twice even if it got past the replay check. Methods that need no operation
 * (get_info, get_budget) are answered by the door itself.
 */
import { Nip47Error } from './errors.ts';

export type Params = Readonly<Record<string, unknown>>;

export interface OperationMethod {
  kind: 'operation';
  operation: string;
  /** Whether money leaves (a held request answers as the connection says; a payment notifies). */
  pays: boolean;
  body(params: Params, eventId: string): Record<string, unknown>;
  result(result: Record<string, unknown>): Record<string, unknown>;
}

export interface LocalMethod {
  kind: 'local';
}

export type Nip47Method = OperationMethod | LocalMethod;

function msat(params: Params, field: string, required: boolean): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) {
    if (required) throw new Nip47Error('OTHER', `${field} (msat) is required`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new Nip47Error('OTHER', `${field} is a whole number of msat`);
  return String(value);
}

function text(params: Params, field: string, max: number): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max)
    throw new Nip47Error('OTHER', `${field} is text of at most ${max} characters`);
  return value;
}

function hex64(params: Params, field: string): string {
  const value = params[field];
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value.toLowerCase()))
    throw new Nip47Error('OTHER', `${field} is 64 hex digits`);
  return value.toLowerCase();
}

const number = (value: unknown): number => {
  const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) ? n : 0;
};
const seconds = (iso: unknown): number | undefined =>
  typeof iso === 'string' && Number.isFinite(Date.parse(iso))
    ? Math.floor(Date.parse(iso) / 1000)
    : undefined;

const idempotency = (eventId: string) => ({ idempotencyKey: `nwc:${eventId}` });

/** NIP-47's transaction object of an invoice Warden made or looked up. */
function incoming(r: Record<string, unknown>): Record<string, unknown> {
  const state = typeof r.state === 'string' ? r.state : 'open';
  return {
    type: 'incoming',
    state: state === 'settled' ? 'settled' : state === 'canceled' ? 'failed' : 'pending',
    invoice: r.bolt11 ?? r.invoice,
    description: r.description,
    payment_hash: r.paymentHash,
    ...(typeof r.preimage === 'string' ? { preimage: r.preimage } : {}),
    amount: number(r.amountMsat),
    fees_paid: 0,
    created_at: seconds(r.createdAt) ?? Math.floor(Date.now() / 1000),
    ...(seconds(r.expiresAt) === undefined ? {} : { expires_at: seconds(r.expiresAt) }),
    ...(seconds(r.settledAt) === undefined ? {} : { settled_at: seconds(r.settledAt) }),
  };
}

export const METHODS: Readonly<Record<string, Nip47Method>> = {
  pay_invoice: {
    kind: 'operation',
    operation: 'lightning.pay_invoice',
    pays: true,
    body(params, eventId) {
      const invoice = text(params, 'invoice', 8192);
      if (!invoice) throw new Nip47Error('OTHER', 'invoice is required');
      const amount = msat(params, 'amount', false);
      return { invoice, ...(amount === undefined ? {} : { amount_msat: amount }), ...idempotency(eventId) };
    },
    result: (r) => ({ preimage: r.preimage, fees_paid: number(r.feeMsat) }),
  },
  pay_keysend: {
    kind: 'operation',
    operation: 'lightning.keysend',
    pays: true,
    body(params, eventId) {
      if (params.preimage !== undefined)
        throw new Nip47Error('OTHER', 'Warden picks the preimage of a keysend itself; send none');
      if (params.tlv_records !== undefined)
        throw new Nip47Error('NOT_IMPLEMENTED', 'TLV records are not supported');
      const pubkey = params.pubkey;
      if (typeof pubkey !== 'string' || !/^0[23][0-9a-f]{64}$/.test(pubkey))
        throw new Nip47Error('OTHER', 'pubkey is a 33-byte node id in hex');
      return { destination: pubkey, amount_msat: msat(params, 'amount', true), ...idempotency(eventId) };
    },
    result: (r) => ({ preimage: r.preimage, fees_paid: number(r.feeMsat) }),
  },
  make_invoice: {
    kind: 'operation',
    operation: 'lightning.make_invoice',
    pays: false,
    body(params, eventId) {
      if (params.description_hash !== undefined)
        throw new Nip47Error('NOT_IMPLEMENTED', 'invoices with a description hash are not supported');
      const description = text(params, 'description', 639);
      const expiry = params.expiry;
      if (expiry !== undefined && (typeof expiry !== 'number' || !Number.isSafeInteger(expiry) || expiry < 1))
        throw new Nip47Error('OTHER', 'expiry is a whole number of seconds');
      return {
        amount_msat: msat(params, 'amount', true),
        ...(description === undefined ? {} : { description }),
        ...(expiry === undefined ? {} : { expiry_seconds: expiry }),
        ...idempotency(eventId),
      };
    },
    result: incoming,
  },
  lookup_invoice: {
    kind: 'operation',
    operation: 'lightning.lookup_invoice',
    pays: false,
    body(params) {
      if (params.payment_hash === undefined && params.invoice !== undefined)
        throw new Nip47Error('NOT_IMPLEMENTED', 'look an invoice up by its payment_hash');
      return { payment_hash: hex64(params, 'payment_hash') };
    },
    result: incoming,
  },
  get_balance: {
    kind: 'operation',
    operation: 'lightning.balance',
    pays: false,
    body: () => ({}),
    result: (r) => ({ balance: number(r.localMsat) }),
  },
  get_info: { kind: 'local' },
  get_budget: { kind: 'local' },
};

/** The methods a connection may be given (`warden nwc connect --methods`). */
export const METHOD_NAMES = Object.keys(METHODS);
