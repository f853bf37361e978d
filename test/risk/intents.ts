import type { Intent } from '../../src/core/intent.ts';

/**
 * Valid Intents for the risk tests, one builder per protocol/action, with the facets their modules
 * declare (Nostr `kind`; EVM `chain_id`, `contract`, `function`, `max_fee_per_gas`). Bitcoin and
 * Lightning have no module yet, hence no facets.
 */
const DIGEST = 'ab'.repeat(32);

export function bitcoinSend(amount: bigint, extra: Partial<Intent> = {}): Intent {
  return {
    protocol: 'bitcoin',
    action: 'send',
    identity: 'treasury',
    asset: 'btc',
    amount,
    destinations: ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'],
    maxFee: 5_000n,
    feeAsset: 'btc',
    payloadDigest: DIGEST,
    idempotencyKey: null,
    facets: {},
    detail: {},
    ...extra,
  };
}

export function lightningPay(amount: bigint, extra: Partial<Intent> = {}): Intent {
  return {
    protocol: 'lightning',
    action: 'pay',
    identity: 'tips',
    asset: 'btc',
    amount,
    destinations: ['02'.padEnd(66, '1')],
    maxFee: 100n,
    feeAsset: 'btc',
    payloadDigest: DIGEST,
    idempotencyKey: null,
    facets: {},
    detail: {},
    ...extra,
  };
}

/** A signature of an event of `kind`; `undefined`: the intent does not carry the kind at all. */
export function nostrSign(kind: number | undefined, extra: Partial<Intent> = {}): Intent {
  return {
    protocol: 'nostr',
    action: 'sign_event',
    identity: 'social',
    asset: 'nostr:event',
    amount: 0n,
    destinations: [],
    maxFee: 0n,
    feeAsset: 'nostr:event',
    payloadDigest: DIGEST,
    idempotencyKey: null,
    facets: kind === undefined ? {} : { kind },
    detail: {},
    ...extra,
  };
}

const TO = '0x'.padEnd(42, 'a');
const TOKEN = '0x'.padEnd(42, 'c');

export function evmSend(amount: bigint, extra: Partial<Intent> = {}): Intent {
  return {
    protocol: 'evm',
    action: 'send',
    identity: 'ops',
    asset: 'evm:1',
    amount,
    destinations: [TO],
    maxFee: 21_000n * 30_000_000_000n,
    feeAsset: 'evm:1',
    payloadDigest: DIGEST,
    idempotencyKey: null,
    facets: { chain_id: 1, contract: null, function: null, max_fee_per_gas: 30_000_000_000n },
    detail: {},
    ...extra,
  };
}

/**
 * A token contract call (asset `evm:1:<contract>`, gas paid in wei), amount in token base units. The
 * selector is put in the `function` facet as given (its module writes it in lower case).
 */
export function evmCall(selector: string | null, amount = 0n, extra: Partial<Intent> = {}): Intent {
  return {
    protocol: 'evm',
    action: 'call',
    identity: 'ops',
    asset: `evm:1:${TOKEN}`,
    amount,
    destinations: [TO],
    maxFee: 100_000n * 30_000_000_000n,
    feeAsset: 'evm:1',
    payloadDigest: DIGEST,
    idempotencyKey: null,
    facets: { chain_id: 1, contract: TOKEN, function: selector, max_fee_per_gas: 30_000_000_000n },
    detail: {},
    ...extra,
  };
}

/** A token contract call whose intent does not carry the function facet at all. */
export function evmCallUnknownFunction(amount = 0n, extra: Partial<Intent> = {}): Intent {
  const intent = evmCall(null, amount, extra);
  const { function: _function, ...facets } = intent.facets;
  return { ...intent, facets };
}

/** An EIP-191 message signature (evm.sign_message): nothing moves. */
export function evmSignMessage(messageType = 'text'): Intent {
  return {
    protocol: 'evm',
    action: 'sign_message',
    identity: 'ops',
    asset: 'evm:signature',
    amount: 0n,
    destinations: [],
    maxFee: 0n,
    feeAsset: 'evm:signature',
    payloadDigest: DIGEST,
    idempotencyKey: null,
    facets: { message_type: messageType, chain_id: null, siwe_domain: null },
    detail: {},
  };
}
