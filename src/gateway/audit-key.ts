import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { WardenError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';

const META_KEY = 'audit_public_key';

/**
 * Keeps a copy of the audit public key in the store so `audit verify` works while the vault is
 * sealed. The authoritative copy is inside the sealed keystore; when unsealed, a different copy
 * in the store is a sign of tampering and is refused.
 */
export async function rememberAuditPublicKey(store: Store, keys: { publicKey: Uint8Array }): Promise<void> {
  const hex = bytesToHex(keys.publicKey);
  const row = await store.db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', META_KEY)
    .executeTakeFirst();
  if (!row) {
    await store.db.insertInto('meta').values({ key: META_KEY, value: hex }).execute();
  } else if (row.value !== hex) {
    throw new WardenError(
      'AUDIT_CHAIN_BROKEN',
      'the audit public key in the database differs from the keystore',
    );
  }
}

export async function auditPublicKeyFromStore(store: Store): Promise<Uint8Array> {
  const row = await store.db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', META_KEY)
    .executeTakeFirst();
  if (!row || !/^[0-9a-f]{64}$/.test(row.value)) {
    throw new WardenError('AUDIT_CHAIN_BROKEN', 'the audit public key is missing from the database');
  }
  return hexToBytes(row.value);
}
