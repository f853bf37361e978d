/**
 * `warden start --onion`: the API as a v3 onion service of the configured (or managed) tor, with
 * the vault's own onion key (keys/onion-service-key.ts), so its address is the same every start.
 * The address is known before the server listens (the Host check must accept it); the service is
 * published once the server's port is known, and lives as long as the control connection.
 * While it is published its address is in the home's `server.onion` (0600), which `warden doctor`
 * reads to ask Tor whether it really hosts it; the file is only a name, never trusted for more.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { TorSettings } from '../config/config-schema.ts';
import { FILE_MODE, homeLayout } from '../config/home.ts';
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
        writeFileSync(warden.layout.serverOnion, `${key.serviceId}.onion\n`, { mode: FILE_MODE });
      } finally {
        key.addOnionKey.fill(0);
      }
    },
    async close() {
      key.addOnionKey.fill(0);
      rmSync(warden.layout.serverOnion, { force: true });
      await removeService?.().catch(() => undefined);
      own?.close();
    },
  };
}

/** The address a server of `home` said it published (`server.onion`), if it is there and well formed. */
export function recordedOnion(home: string): string | null {
  let text: string;
  try {
    text = readFileSync(homeLayout(home).serverOnion, 'utf8');
  } catch {
    return null;
  }
  const address = text.trim();
  return /^[a-z2-7]{56}\.onion$/.test(address) ? address : null;
}
