/**
 * One spelling per destination, applied alike to policy lists, intents and ledger entries, so that a
 * list never misses an address because of its letter case. Only case-insensitive encodings are
 * folded: hex (EVM addresses, node and Nostr public keys) and single-case bech32/bech32m strings
 * (bc1…, tb1…, npub1…, lnbc…). Base58 and anything else is kept exactly as written.
 */
const HEX = /^(0x)?[0-9a-f]+$/i;
const BECH32 = /^[a-z]{1,83}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}$/i;

export function normalizeDestination(destination: string): string {
  if (HEX.test(destination)) return destination.toLowerCase();
  if (
    BECH32.test(destination) &&
    (destination === destination.toLowerCase() || destination === destination.toUpperCase())
  ) {
    return destination.toLowerCase();
  }
  return destination;
}

/** Normalized, de-duplicated, in first-seen order. */
export function normalizeDestinations(destinations: readonly string[]): string[] {
  return [...new Set(destinations.map(normalizeDestination))];
}
