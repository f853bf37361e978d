import { WardenError } from '../../core/errors.ts';
import type { Net, Route } from '../../net/http.ts';
import { netForEndpoints } from '../backend-endpoints.ts';
import { createEvmRpc, type EvmRpc } from './rpc.ts';

/** The EVM module's backend: one JSON-RPC node per configured chain, reached through net/. */
export interface EvmBackend {
  readonly chainIds: readonly number[];
  /** The node of `chainId`, for one identity's request (net/ isolates identities); refused if none. */
  rpc(chainId: number, identity: string | null): EvmRpc;
}

/** How the nodes are reached: Tor or direct (default), and the SPKI pins per origin. */
export interface EvmNetOptions {
  route?: Route;
  pins?: ReadonlyMap<string, readonly string[]>;
}

/** The backend for these endpoints (chainId → URL); null when no chain has one. */
export function createEvmBackend(
  rpcUrls: ReadonlyMap<number, string>,
  options: EvmNetOptions = {},
): EvmBackend | null {
  if (rpcUrls.size === 0) return null;
  const net = netForRpc(rpcUrls, options);
  return {
    chainIds: [...rpcUrls.keys()],
    rpc(chainId, identity) {
      const url = rpcUrls.get(chainId);
      if (!url)
        throw new WardenError('CHAIN_NOT_ALLOWED', `no RPC endpoint is configured for chain ${chainId}`, {
          chainId,
        });
      return createEvmRpc({ url, net, identity });
    },
  };
}

/** The net layer for these RPC endpoints (backend-endpoints.ts). */
export function netForRpc(rpcUrls: ReadonlyMap<number, string>, options: EvmNetOptions = {}): Net {
  return netForEndpoints(rpcUrls.values(), options);
}

/** The backend every EVM operation needs; CHAIN_NOT_ALLOWED when none is configured. */
export function requireBackend(backend: EvmBackend | null, chainId: number): EvmBackend {
  if (backend === null)
    throw new WardenError('CHAIN_NOT_ALLOWED', `no RPC endpoint is configured for chain ${chainId}`, {
      chainId,
    });
  return backend;
}
