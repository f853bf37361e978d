import type { Route } from '../../net/http.ts';
import type { ProtocolModule } from '../module.ts';
import { createEvmBackend, type EvmBackend } from './backend.ts';
import { EVM_MIGRATIONS } from './migrations.ts';
import type { EvmDb } from './nonces.ts';
import { evmReconcile } from './reconcile-hooks.ts';
import { sendOperation } from './send.ts';
import { signMessageOperation } from './sign-message/operation.ts';

/** The EVM module's configuration: a JSON-RPC node per chain, and how they are reached. */
export interface EvmConfig {
  rpcUrls: ReadonlyMap<number, string>;
  /** Tor or direct (config.ts); absent: direct, as before the net layer had routes. */
  route?: Route;
  /** Origin → SPKI pins. */
  pins?: ReadonlyMap<string, readonly string[]>;
}

function backendOf(config: unknown): EvmBackend | null {
  const c = config as Partial<EvmConfig> | undefined;
  if (!(c?.rpcUrls instanceof Map)) return null;
  return createEvmBackend(c.rpcUrls, {
    ...(c.route ? { route: c.route } : {}),
    ...(c.pins ? { pins: c.pins } : {}),
  });
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
