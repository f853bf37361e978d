/** What front doors (CLI, HTTP, MCP, …) may use: the gateway and the few helpers they need. */

export { configDocument } from '../config/config-document.ts';
export {
  CONFIG_ENV,
  type ConfigOverrides,
  configFileRef,
  type ListenConfig,
  loadWardenConfig,
  mergeOver,
  UNSAFE_OPTIONS,
  type WardenConfig,
} from '../config/warden-config.ts';
export { probeIsolation } from '../net/isolation-probe.ts';
export { probeOnionService, probeTor } from '../net/tor-probe.ts';
export { type ManagedTor, startManagedTor } from '../net/tor-process.ts';
export type { NetWebSocket } from '../net/websocket.ts';
export { explainPolicy } from '../policy/index.ts';
export { CONFIG_SECTIONS } from '../protocols/config-sections.ts';
export { POLICY_TEMPLATES } from '../protocols/policy-language.ts';
export { CAPABILITIES, OPERATIONS } from '../protocols/registry.ts';
export { createTokenAudited, revokeTokenAudited, setPolicyAudited, tokens } from './admin.ts';
export { Gateway, type GatewayOptions } from './gateway.ts';
export { ledgerTotals } from './ledger.ts';
export { type ApiOnion, apiOnion, recordedOnion } from './onion.ts';
export type { ProtocolConfig } from './operations.ts';
export { HOLD_EXPIRY_MS } from './payload.ts';
export { loadPolicy, parsePolicy, policyJsonSchema } from './policies.ts';
export {
  type HeldRequest,
  REQUEST_FILTERS,
  type RequestFilter,
  type ReviewedRequest,
} from './reads.ts';
export { reconcile, stuckRequests } from './reconcile.ts';
export { type ReconcileVerdict, reconcileFromBackends, settleFees } from './reconcile-backends.ts';
export { serverRunning } from './server-slot.ts';
export { type TokenInfo, type TokenSpec, validateTokenSpec } from './tokens.ts';
export * from './vault-api.ts';
