import { createNet, type Net } from '../net/http.ts';
import { evmSendHandler } from './handlers/evm.ts';
import type { ProtocolHandler } from './handlers/handler.ts';
import type { Warden } from './warden.ts';

/** The EVM handler when at least one chain has an RPC endpoint; none otherwise. */
export function evmHandlers(
  warden: Warden,
  rpcUrls: ReadonlyMap<number, string>,
): ProtocolHandler<unknown>[] {
  if (rpcUrls.size === 0) return [];
  const handler = evmSendHandler({
    vault: warden.vault,
    store: warden.store,
    net: netForRpc(rpcUrls),
    rpcUrls,
  });
  return [handler as ProtocolHandler<unknown>];
}

/** The net layer for these RPC endpoints: loopback allowed only when the operator named one. */
export function netForRpc(rpcUrls: ReadonlyMap<number, string>): Net {
  const loopback = [...rpcUrls.values()].some((u) => /^https?:\/\/(127\.|localhost|\[::1\])/.test(u));
  return createNet({ allowLoopback: loopback });
}
