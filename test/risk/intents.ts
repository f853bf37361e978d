import type { Intent } from '../../src/core/intent.ts';

/** Valid Intents for the risk tests, one builder per protocol/action. */
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
    payloadDigest: DIGEST,
    idempotencyKey: null,
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
    payloadDigest: DIGEST,
    idempotencyKey: null,
    ...extra,
  };
}

export function nostrSign(kind: number | undefined, extra: Partial<Intent> = {}): Intent {
  return {
    protocol: 'nostr',
    action: 'sign_event',
    identity: 'social',
    asset: 'nostr:event',
    amount: 0n,
    destinations: [],
    maxFee: 0n,
    payloadDigest: DIGEST,
    idempotencyKey: null,
    ...(kind === undefined ? {} : { nostr: { kind, tagCount: 0, contentLength: 10 } }),
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
    payloadDigest: DIGEST,
    idempotencyKey: null,
    evm: {
      chainId: 1,
      to: TO,
      contract: null,
      functionSelector: null,
      maxFeePerGas: 30_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      gasLimit: 21_000n,
    },
    ...extra,
  };
}

/** A token contract call (asset `evm:1:<contract>`), amount in token base units. */
export function evmCall(selector: string | null, amount = 0n, extra: Partial<Intent> = {}): Intent {
  return {
    protocol: 'evm',
    action: 'call',
    identity: 'ops',
    asset: `evm:1:${TOKEN}`,
    amount,
    destinations: [TO],
    maxFee: 100_000n * 30_000_000_000n,
    payloadDigest: DIGEST,
    idempotencyKey: null,
    evm: {
      chainId: 1,
      to: TOKEN,
      contract: TOKEN,
      functionSelector: selector,
      maxFeePerGas: 30_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      gasLimit: 100_000n,
    },
    ...extra,
  };
}
