/**
 * Publishing the API as a v3 onion service through Tor's control port (control-spec 3.27
 * ADD_ONION). The service lives as long as the control connection that added it (no `Detach`):
 * when Warden stops, or dies, Tor removes it. The key comes from the vault (the same address
 * every start); Tor must answer with the service id that key gives, else nothing is published.
 */
import { WardenError } from '../core/errors.ts';
import type { SocksEndpoint } from './socks5.ts';
import type { TorControl } from './tor-control.ts';

export interface OnionKey {
  serviceId: string;
  /** `ED25519-V3:<base64>` as bytes: written once, then wiped by the caller. */
  addOnionKey: Uint8Array;
}

export interface PublishedOnion {
  /** `<service id>.onion` */
  address: string;
  /** DEL_ONION; also what closing the control connection does. */
  remove(): Promise<void>;
}

const SERVICE_ID = /^[a-z2-7]{56}$/;

/** The onion's virtual port (80, what a client's `http://…onion/` dials) forwarded to `target`. */
export async function publishOnionService(
  control: TorControl,
  key: OnionKey,
  target: SocksEndpoint,
  virtualPort = 80,
): Promise<PublishedOnion> {
  if (!SERVICE_ID.test(key.serviceId))
    throw new WardenError('INVALID_ARGUMENT', 'an onion service id is 56 base32 characters');
  const head = new TextEncoder().encode('ADD_ONION ');
  // Flags: Tor already has the key, so none is returned; the port forward names an address, never a name.
  const tail = new TextEncoder().encode(` Flags=DiscardPK Port=${virtualPort},${target.host}:${target.port}`);
  const line = new Uint8Array(head.length + key.addOnionKey.length + tail.length);
  line.set(head);
  line.set(key.addOnionKey, head.length);
  line.set(tail, head.length + key.addOnionKey.length);
  let reply: string[];
  try {
    reply = await control.commandBytes(line);
  } finally {
    line.fill(0);
  }
  const answered = reply.map((l) => /^ServiceID=([a-z2-7]{56})$/.exec(l)?.[1]).find(Boolean);
  if (answered !== key.serviceId) {
    if (answered) await control.command(`DEL_ONION ${answered}`).catch(() => undefined);
    throw new WardenError('TOR_UNAVAILABLE', 'Tor published another onion service than the key gives', {
      reason: 'onion_mismatch',
    });
  }
  return {
    address: `${key.serviceId}.onion`,
    async remove() {
      await control.command(`DEL_ONION ${key.serviceId}`);
    },
  };
}
