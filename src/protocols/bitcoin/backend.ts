/**
 * The Bitcoin module's backend: one chain API per configured network (config.ts), reached through
 * net/ with the identity of each request (Tor circuits per identity), and the depth from which an
 * incoming coin counts as spendable.
 */
import { WardenError } from '../../core/errors.ts';
import type { Net, Route } from '../../net/http.ts';
import { netForEndpoints } from '../backend-endpoints.ts';
import type { BitcoinChain } from './chain/chain.ts';
import { createCoreRpcChain } from './chain/core-rpc.ts';
import { createEsploraChain } from './chain/esplora.ts';
import type { BitcoinNetwork } from './networks.ts';

export interface BitcoinNodeConfig {
  api: 'core' | 'esplora';
  url: string;
  /** The HTTP Authorization of a Core node (from its cookie file), read at each call. */
  authorization: () => string | null;
}

export interface BitcoinConfig {
  nodes: ReadonlyMap<BitcoinNetwork, BitcoinNodeConfig>;
  route?: Route;
  pins?: ReadonlyMap<string, readonly string[]>;
  minConfirmations: number;
}

export interface BitcoinBackend {
  readonly networks: readonly BitcoinNetwork[];
  readonly minConfirmations: number;
  /** The node of `network` for one identity's request; NETWORK_NOT_CONFIGURED when there is none. */
  chain(network: string, identity: string | null): BitcoinChain;
}

export function createBitcoinBackend(config: BitcoinConfig): BitcoinBackend | null {
  if (config.nodes.size === 0) return null;
  const net: Net = netForEndpoints(
    [...config.nodes.values()].map((n) => n.url),
    { ...(config.route ? { route: config.route } : {}), ...(config.pins ? { pins: config.pins } : {}) },
  );
  return {
    networks: [...config.nodes.keys()],
    minConfirmations: config.minConfirmations,
    chain(network, identity) {
      const node = config.nodes.get(network as BitcoinNetwork);
      if (!node)
        throw new WardenError('BITCOIN_NO_NODE', `no Bitcoin node is configured for ${network}`, { network });
      const common = { url: node.url, network: network as BitcoinNetwork, net, identity };
      return node.api === 'core'
        ? createCoreRpcChain({ ...common, authorization: node.authorization })
        : createEsploraChain(common);
    },
  };
}

/** The backend an operation needs; BITCOIN_NO_NODE when none is configured. */
export function requireBackend(backend: BitcoinBackend | null, network: string): BitcoinBackend {
  if (backend === null)
    throw new WardenError('BITCOIN_NO_NODE', `no Bitcoin node is configured for ${network}`, { network });
  return backend;
}

export function requireChain(
  backend: BitcoinBackend | null,
  network: string,
  identity: string,
): BitcoinChain {
  return requireBackend(backend, network).chain(network, identity);
}

export function bitcoinBackendOf(config: unknown): BitcoinBackend | null {
  const c = config as Partial<BitcoinConfig> | undefined;
  if (!(c?.nodes instanceof Map)) return null;
  return createBitcoinBackend(c as BitcoinConfig);
}
