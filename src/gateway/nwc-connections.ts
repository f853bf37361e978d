/**
 * Nostr Wallet Connect connections as the gateway keeps them: each is a principal of one identity,
 * authenticated by the client key of its URI, with the methods it may call, its own budget (a
 * PrincipalBudget inside the identity's policy), an expiry, and the public key of its own wallet
 * service key (derived from the vault per connection: keys/nwc-service-key.ts). Rows carry the
 * control-plane MAC like tokens: a row added or widened without the vault's key never
 * authenticates, nor one whose revocation the audit log records although its row no longer says so.
 *
 * The URI's secret is made here (keys/), written into the URI, and wiped: only its public key is
 * kept. Create and revoke are audited in the transaction that writes them (`nwc.create`, `nwc.revoke`).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  CONTROL_PLANE_TAMPERED,
  type ControlPlaneFinding,
  nwcConnectionMacMessage,
  nwcConnectionRowProblem,
} from '../audit/control-plane.ts';
import { wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import type { PrincipalBudget } from '../core/principal.ts';
import { type NwcEncryption, newNwcClientSecret } from '../keys/nwc-service-key.ts';

export type { NwcEncryption };

import type { NwcConnectionTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';
import { auditedChange } from './admin.ts';
import type { ControlPlane } from './control-plane.ts';
import type { Warden } from './warden.ts';

export const NWC_ID_PREFIX = 'nwc';
export const DEFAULT_NWC_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const MAX_NWC_TTL_MS = 366 * 24 * 60 * 60 * 1000;
/** How long a payment held for approval keeps its client waiting at most (the client's own timeout is about 60 s). */
export const MAX_HOLD_WAIT_SECONDS = 50;

export interface NwcConnectionSpec {
  identity: string;
  label: string;
  methods: readonly string[];
  relays: readonly string[];
  /** NIP-04 is offered only when named here. */
  encryptions: readonly NwcEncryption[];
  budget: { asset: string; maxValue: bigint; window: string } | null;
  holdWaitSeconds: number;
  ttlMs?: number;
}

export interface NwcConnection {
  id: string;
  identity: string;
  label: string;
  clientPubkey: string;
  servicePubkey: string;
  methods: string[];
  encryptions: NwcEncryption[];
  relays: string[];
  budget: PrincipalBudget | null;
  holdWaitSeconds: number;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  /** Set when the row fails its MAC or was rolled back: it never authenticates. */
  tampered?: ControlPlaneFinding['reason'];
}

function list(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

function connectionOf(row: NwcConnectionTable): NwcConnection {
  const budget =
    row.budget_asset !== null && row.budget_max !== null && row.budget_window !== null
      ? {
          scope: row.id,
          asset: row.budget_asset,
          maxValue: BigInt(row.budget_max),
          window: row.budget_window,
        }
      : null;
  return {
    id: row.id,
    identity: row.identity,
    label: row.label,
    clientPubkey: row.client_pubkey,
    servicePubkey: row.service_pubkey,
    methods: list(row.methods),
    encryptions: list(row.encryptions) as NwcEncryption[],
    relays: list(row.relays),
    budget,
    holdWaitSeconds: Number(row.hold_wait_seconds),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/** A row read back with its MAC and the log's revocations checked; a failing one is reported and flagged. */
async function checked(db: Db, row: NwcConnectionTable, cp: ControlPlane): Promise<NwcConnection> {
  const connection = connectionOf(row);
  const reason =
    nwcConnectionRowProblem(cp.mac, row) ??
    (row.revoked_at === null && (await cp.witness(db)).revoked(row.id) ? 'rolled-back' : null);
  if (!reason) return connection;
  cp.report({ code: CONTROL_PLANE_TAMPERED, table: 'nwc_connection', id: row.id, reason });
  return { ...connection, tampered: reason };
}

/** Whether a connection may act now: intact, not revoked, not expired. */
export function usable(connection: NwcConnection, now: Date): boolean {
  return (
    !connection.tampered && connection.revokedAt === null && Date.parse(connection.expiresAt) > now.getTime()
  );
}

/**
 * Creates a connection for an already validated spec (api/nwc/ checks methods, relays and the
 * budget's words): returns it with the URI's secret, hex, shown once.
 */
export function createNwcConnection(
  warden: Warden,
  spec: NwcConnectionSpec,
): Promise<{ connection: NwcConnection; clientSecretHex: string }> {
  warden.vault.getIdentity(spec.identity);
  const ttl = spec.ttlMs ?? DEFAULT_NWC_TTL_MS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_NWC_TTL_MS)
    throw new WardenError('INVALID_ARGUMENT', 'a connection lasts between 1 second and 366 days');
  const id = randomId(NWC_ID_PREFIX);
  const servicePubkey = warden.vault.withNwcServiceKey(id, (key) => key.publicKey);
  const client = newNwcClientSecret();
  const clientSecretHex = bytesToHex(client.secret);
  wipe(client.secret);
  const now = warden.clock.now();
  const row = {
    id,
    identity: spec.identity,
    label: spec.label,
    client_pubkey: client.publicKey,
    service_pubkey: servicePubkey,
    methods: JSON.stringify([...spec.methods]),
    encryptions: JSON.stringify([...spec.encryptions]),
    relays: JSON.stringify([...spec.relays]),
    budget_asset: spec.budget?.asset ?? null,
    budget_max: spec.budget ? spec.budget.maxValue.toString() : null,
    budget_window: spec.budget?.window ?? null,
    hold_wait_seconds: spec.holdWaitSeconds,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + ttl).toISOString(),
    revoked_at: null,
  };
  return auditedChange(warden, 'nwc.create', spec.identity, async (tx) => {
    await tx
      .insertInto('nwc_connection')
      .values({ ...row, mac: warden.controlPlane.mac.mac(nwcConnectionMacMessage(row)) })
      .execute();
    const connection = connectionOf({ ...row, mac: new Uint8Array() });
    return {
      result: { connection, clientSecretHex },
      details: {
        id,
        label: row.label,
        methods: connection.methods,
        budget: spec.budget ? `${row.budget_max} ${row.budget_asset}/${row.budget_window}` : null,
        expiresAt: row.expires_at,
        servicePubkey,
        clientPubkey: client.publicKey,
      },
    };
  });
}

export async function listNwcConnections(warden: Warden, identity?: string): Promise<NwcConnection[]> {
  const db = warden.store.db;
  let query = db.selectFrom('nwc_connection').selectAll().orderBy('created_at');
  if (identity !== undefined) query = query.where('identity', '=', identity);
  const rows = await query.execute();
  const out: NwcConnection[] = [];
  for (const row of rows) out.push(await checked(db, row, warden.controlPlane));
  return out;
}

export function revokeNwcConnection(warden: Warden, id: string): Promise<NwcConnection> {
  return auditedChange(warden, 'nwc.revoke', null, async (tx) => {
    const row = await tx.selectFrom('nwc_connection').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new WardenError('NOT_FOUND', 'no NWC connection with that id', { id });
    if (row.revoked_at === null) {
      row.revoked_at = warden.clock.now().toISOString();
      const { mac: _old, ...unmaced } = row;
      await tx
        .updateTable('nwc_connection')
        .set({
          revoked_at: row.revoked_at,
          mac: warden.controlPlane.mac.mac(nwcConnectionMacMessage(unmaced)),
        })
        .where('id', '=', id)
        .execute();
    }
    return { result: connectionOf(row), details: { id, identity: row.identity } };
  });
}

/** The usable connection a request event is for (its `p` tag) and from (its author), or null. */
export async function nwcConnectionFor(
  warden: Warden,
  servicePubkey: string,
  clientPubkey: string,
): Promise<NwcConnection | null> {
  const db = warden.store.db;
  const row = await db
    .selectFrom('nwc_connection')
    .selectAll()
    .where('service_pubkey', '=', servicePubkey)
    .executeTakeFirst();
  if (!row || row.client_pubkey !== clientPubkey) return null;
  const connection = await checked(db, row, warden.controlPlane);
  return usable(connection, warden.clock.now()) ? connection : null;
}

export const isNwcPrincipal = (id: string) => id.startsWith(`${NWC_ID_PREFIX}_`);

/** For a request row's `token_id`: the connection's budget, and whether it may still stand behind the request. */
export async function nwcPrincipalState(
  db: Db,
  cp: ControlPlane,
  id: string,
  now: Date,
): Promise<{ valid: boolean; budget: PrincipalBudget | null } | null> {
  if (!isNwcPrincipal(id)) return null;
  const row = await db.selectFrom('nwc_connection').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return { valid: false, budget: null };
  const connection = await checked(db, row, cp);
  return { valid: usable(connection, now), budget: connection.budget };
}

/** Seen request events are kept this long; older events are refused by their `created_at` anyway. */
export const NWC_EVENT_MEMORY_MS = 30 * 60 * 1000;

/** Records a request event as taken; false when it was taken before (a replay: answered once). */
export async function takeNwcEvent(warden: Warden, eventId: string, connectionId: string): Promise<boolean> {
  const now = warden.clock.now().getTime();
  return warden.store.transaction(async (tx) => {
    await tx
      .deleteFrom('nwc_event')
      .where('received_at', '<', now - NWC_EVENT_MEMORY_MS)
      .execute();
    const inserted = await tx
      .insertInto('nwc_event')
      .values({ event_id: eventId, connection_id: connectionId, received_at: now })
      .onConflict((c) => c.doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
  });
}
