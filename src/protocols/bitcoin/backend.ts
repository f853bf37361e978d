/**
 * The Bitcoin module's backend: one chain API per configured network (config.ts), reached through
 * net/ with the identity of each request (Tor circuits per identity), and the depth from which an
 * incoming coin counts as spendable.
 */
import { WardenError } from '../../core/errors.ts';
import type { Net, Route } from '../../net/http.ts';
import { netForEndpoints } from '../backend-endpoints.ts';
import type { BitcoinChain, FeeEnvironment } from './chain/chain.ts';
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
  const feeReads = new Map<string, Promise<FeeEnvironment>>();
  return {
    networks: [...config.nodes.keys()],
    minConfirmations: config.minConfirmations,
    chain(network, identity) {
      const node = config.nodes.get(network as BitcoinNetwork);
      if (!node)
        throw new WardenError('BITCOIN_NO_NODE', `no Bitcoin node is configured for ${network}`, { network });
      const common = { url: node.url, network: network as BitcoinNetwork, net, identity };
      const chain =
        node.api === 'core'
          ? createCoreRpcChain({ ...common, authorization: node.authorization })
          : createEsploraChain(common);
      const read = chain.feeEnvironment.bind(chain);
      // Requests of one identity asking at the same moment share one read (a burst of sends is
      // one fee read, not one each); never across identities, whose circuits stay apart.
      chain.feeEnvironment = (blocks) =>
        shared(feeReads, JSON.stringify([network, identity, blocks]), () => read(blocks));
      return chain;
    },
  };
}

/** The read in flight under `key`, or a new one, forgotten once it settles (never cached after). */
function shared<T>(inFlight: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  const pending = inFlight.get(key);
  if (pending) return pending;
  const started = read().finally(() => inFlight.delete(key));
  inFlight.set(key, started);
  return started;
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
