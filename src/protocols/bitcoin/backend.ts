/**
 * The Bitcoin module's backend: one chain API per configured network (config.ts), reached through
 * net/ with the identity of each request (Tor circuits per identity), and the depth from which an
 * incoming coin counts as spendable.
 */
import { WardenError } from '../../core/errors.ts';
import type { Net, Route } from '../../net/http.ts';
import { netForEndpoints } from '../backend-endpoints.ts';
import type { BitcoinChain, ChainUtxo, FeeEnvironment } from './chain/chain.ts';
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
  const inFlight = new Map<string, Promise<unknown>>();
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
      return shareReads(chain, inFlight, JSON.stringify([network, identity]));
    },
  };
}

/**
 * Requests of one identity (`scope`: network and identity) reading the same thing at the same
 * moment share the one read in flight: a burst of sends is one fee read and one listing per
 * address, not one each, and is judged on one view of the chain. Never across identities, whose
 * circuits stay apart; nothing is kept once a read settles; each caller gets its own copy. A
 * shared listing can be a moment older than a send that just went out: the coin locks, read from
 * the store every time, keep its coins from being picked again.
 */
function shareReads(
  chain: BitcoinChain,
  inFlight: Map<string, Promise<unknown>>,
  scope: string,
): BitcoinChain {
  const share =
    <A extends unknown[], T>(name: string, read: (...args: A) => Promise<T>, copy: (value: T) => T) =>
    (...args: A): Promise<T> => {
      const key = JSON.stringify([scope, name, ...args]);
      let pending = inFlight.get(key) as Promise<T> | undefined;
      if (!pending) {
        pending = read(...args).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending.then(copy);
    };
  chain.feeEnvironment = share('fees', chain.feeEnvironment.bind(chain), (e: FeeEnvironment) => ({ ...e }));
  chain.utxos = share('utxos', chain.utxos.bind(chain), (list: ChainUtxo[]) => list.map((u) => ({ ...u })));
  chain.rawTransaction = share('raw', chain.rawTransaction.bind(chain), (raw: Uint8Array | null) =>
    raw === null ? null : Uint8Array.from(raw),
  );
  chain.tipHeight = share('tip', chain.tipHeight.bind(chain), (height: number) => height);
  return chain;
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
