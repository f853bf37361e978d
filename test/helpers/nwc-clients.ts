/**
 * The two unmodified NIP-47 clients the NWC tests drive: @getalby/sdk's NWCClient and
 * applesauce-wallet-connect's WalletConnect. Node 20 has no global WebSocket, so `ws` is put there
 * before the Alby SDK is loaded (it reads the global once); applesauce takes its relay methods as
 * options, given here over nostr-tools' SimplePool.
 */
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool';
import { Observable } from 'rxjs';
import WebSocket from 'ws';

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
useWebSocketImplementation(WebSocket);

const { NWCClient, NWCWalletService, NWCWalletServiceKeyPair } = await import('@getalby/sdk/nwc');
const { WalletConnect } = await import('applesauce-wallet-connect');

export { NWCClient, NWCWalletService, NWCWalletServiceKeyPair, WalletConnect };

/** An applesauce client of the URI, its subscriptions and publishes over one SimplePool. */
export function applesauceClient(uri: string) {
  const pool = new SimplePool();
  const client = WalletConnect.fromConnectURI(uri, {
    subscriptionMethod: (relays, filters) =>
      new Observable((subscriber) => {
        let open = filters.length;
        const subs = filters.map((filter) =>
          pool.subscribeMany(relays, filter as never, {
            onevent: (event) => subscriber.next(event as never),
            oneose: () => {
              if (--open === 0) subscriber.next('EOSE');
            },
          }),
        );
        return () => {
          for (const sub of subs) sub.close();
        };
      }),
    publishMethod: (relays, event) => Promise.any(pool.publish(relays, event as never)),
  });
  return { client, close: () => pool.destroy() };
}
