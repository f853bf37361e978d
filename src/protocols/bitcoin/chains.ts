/**
 * Chain nodes of account xpubs (public data only), kept across requests: reading an xpub and
 * deriving its receive and change chains costs point multiplications on every request.
 */
import { HDKey, type Versions } from '@scure/bip32';

export const VERSIONS: Record<'main' | 'test', Versions> = {
  main: { private: 0x0488ade4, public: 0x0488b21e },
  test: { private: 0x04358394, public: 0x043587cf },
};

/**
 * Chain nodes (account/0 and account/1) by xpub: public data only, so they may be kept. Reading an
 * xpub and deriving a chain costs point multiplications on every request; a few identities' worth
 * are kept (the oldest dropped first).
 */
const CHAINS = new Map<string, readonly [HDKey, HDKey]>();
const MAX_CACHED = 64;

export function chainsOf(xpub: string, versions: Versions): readonly [HDKey, HDKey] {
  const key = `${versions.public}:${xpub}`;
  let chains = CHAINS.get(key);
  if (!chains) {
    const account = HDKey.fromExtendedKey(xpub, versions);
    chains = [account.deriveChild(0), account.deriveChild(1)];
    if (CHAINS.size >= MAX_CACHED) CHAINS.delete(CHAINS.keys().next().value!);
    CHAINS.set(key, chains);
  }
  return chains;
}
