/** What front doors (CLI, HTTP, MCP, …) may use: the gateway and the few helpers they need. */

export { resolveHomeDir } from '../config/home.ts';
export { readSecretFile } from '../config/secret-file.ts';
export { BITCOIN_NETWORKS, type BitcoinNetwork } from '../keys/derive.ts';
export { DEFAULT_KDF, KDF_BOUNDS } from '../keys/kdf.ts';
export type { IdentityView } from '../keys/view.ts';
export { readBackupFile, verifyAuditSealed, Warden, type WardenOptions } from './warden.ts';
