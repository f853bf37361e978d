import type { ProtocolModule } from '../module.ts';
import { createEvmBackend, type EvmBackend } from './backend.ts';
import { EVM_MIGRATIONS } from './migrations.ts';
import type { EvmDb } from './nonces.ts';
import { evmReconcile } from './reconcile-hooks.ts';
import { sendOperation } from './send.ts';
import { signMessageOperation } from './sign-message/operation.ts';

/** The EVM module's configuration: a JSON-RPC node per chain. */
export interface EvmConfig {
  rpcUrls: ReadonlyMap<number, string>;
}

function backendOf(config: unknown): EvmBackend | null {
  const rpcUrls = (config as Partial<EvmConfig> | undefined)?.rpcUrls;
  return rpcUrls instanceof Map ? createEvmBackend(rpcUrls) : null;
}

export const evmModule: ProtocolModule<EvmBackend, EvmDb> = {
  name: 'evm',
  operations: [sendOperation, signMessageOperation],
  migrations: EVM_MIGRATIONS,
  backend: backendOf,
  needsBackend: [sendOperation.name],
  reconcile: evmReconcile,
  quantityFacets: ['max_fee_per_gas'],
};
