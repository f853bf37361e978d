/** NIP-47's connection URI: the service's public key, its relays, the client's secret. */
export function connectionUri(
  servicePubkey: string,
  relays: readonly string[],
  clientSecretHex: string,
): string {
  const query = [...relays.map((r) => `relay=${encodeURIComponent(r)}`), `secret=${clientSecretHex}`];
  return `nostr+walletconnect://${servicePubkey}?${query.join('&')}`;
}
