/**
 * `warden start --onion`: the API as a v3 onion service of the configured (or managed) tor, with
 * the vault's own onion key (keys/onion-service-key.ts), so its address is the same every start.
 * The address is known before the server listens (the Host check must accept it); the service is
 * published once the server's port is known, and lives as long as the control connection.
 */
import type { TorSettings } from '../config/config-schema.ts';
import { WardenError } from '../core/errors.ts';
import { publishOnionService } from '../net/onion-service.ts';
import type { SocksEndpoint } from '../net/socks5.ts';
import { connectTorControl, type TorControl } from '../net/tor-control.ts';
import type { ManagedTor } from '../net/tor-process.ts';
import type { Warden } from './warden.ts';

export interface ApiOnion {
  /** `<56 base32>.onion` */
  readonly address: string;
  /** Publishes the service, forwarding its port 80 to `target` (the API's own address and port). */
  publish(target: SocksEndpoint): Promise<void>;
  /** Removes the service (and closes the control connection Warden opened for it). */
  close(): Promise<void>;
}

/** Refuses, before anything starts, when no control port is configured. */
export function apiOnion(warden: Warden, tor: TorSettings | null, managed: ManagedTor | null): ApiOnion {
  if (!tor || (!managed && (tor.control === null || tor.cookieFile === null)))
    throw new WardenError(
      'CONFIG_INVALID',
      "--onion needs Tor's control port: tor.control and tor.cookie in warden.yaml, or tor.managed: true",
    );
  const key = warden.vault.onionServiceKey();
  let own: TorControl | null = null;
  let removeService: (() => Promise<void>) | null = null;
  return {
    address: `${key.serviceId}.onion`,
    async publish(target) {
      try {
        let control = managed?.control;
        if (!control) control = own = await connectTorControl(tor.control!, tor.cookieFile!);
        removeService = (await publishOnionService(control, key, target)).remove;
      } finally {
        key.addOnionKey.fill(0);
      }
    },
    async close() {
      key.addOnionKey.fill(0);
      await removeService?.().catch(() => undefined);
      own?.close();
    },
  };
}
