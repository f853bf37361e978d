/**
 * The part of what front doors may use that does not load the protocol modules (viem, the policy
 * language, the registry): enough for the commands on the vault, identities and the audit log,
 * which must start fast. The index re-exports all of it.
 */
export { resolveHomeDir } from '../config/home.ts';
export { readSecretFile } from '../config/secret-file.ts';
export { BITCOIN_NETWORKS, type BitcoinNetwork } from '../keys/derive.ts';
export { DEFAULT_KDF, KDF_BOUNDS } from '../keys/kdf.ts';
export { checkIdentityName } from '../keys/model.ts';
export type { KdfSettings } from '../keys/vault.ts';
export type { IdentityView } from '../keys/view.ts';
export { parseDuration } from '../policy/duration.ts';
export {
  lastBackupSealed,
  readBackupFile,
  verifyAuditSealed,
  Warden,
  type WardenOptions,
} from './warden.ts';
