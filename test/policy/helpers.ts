import assert from 'node:assert/strict';
import { isWardenError } from '../../src/core/errors.ts';
import type { Intent } from '../../src/core/intent.ts';
import type { RiskAssessment } from '../../src/core/risk.ts';
import type { LedgerEntry, LedgerSnapshot } from '../../src/policy/snapshot.ts';
import type { Policy } from '../../src/policy/types.ts';
import { POLICY_LANGUAGE } from '../../src/protocols/policy-language.ts';

export const NOW = new Date('2026-01-01T12:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const BTC_ADDR = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';
export const BTC_ADDR2 = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
export const LN_NODE = `02${'ab'.repeat(32)}`;
export const EVM_ADDR = `0x${'ab'.repeat(20)}`;
export const EVM_ADDR2 = `0x${'cd'.repeat(20)}`;

const base = {
  identity: 'agent-1',
  maxFee: 0n,
  payloadDigest: 'd'.repeat(64),
  idempotencyKey: null,
  facets: {},
  detail: {},
};

export function btcIntent(amount: bigint, destinations: string[] = [BTC_ADDR]): Intent {
  return {
    ...base,
    protocol: 'bitcoin',
    action: 'send',
    asset: 'btc',
    feeAsset: 'btc',
    amount,
    destinations,
  };
}

export function lnIntent(amount: bigint, destinations: string[] = [LN_NODE]): Intent {
  return {
    ...base,
    protocol: 'lightning',
    action: 'pay',
    asset: 'btc',
    feeAsset: 'btc',
    amount,
    destinations,
  };
}

export function nostrIntent(kind: number): Intent {
  return {
    ...base,
    protocol: 'nostr',
    action: 'sign_event',
    asset: 'nostr:event',
    feeAsset: 'nostr:event',
    amount: 0n,
    destinations: [],
    facets: { kind },
    detail: { tagCount: 0, contentLength: 10 },
  };
}

export function evmIntent(
  amount: bigint,
  opts: { chainId?: number; to?: string; maxFeePerGas?: bigint; contract?: string; fn?: string } = {},
): Intent {
  const chainId = opts.chainId ?? 1;
  const to = opts.to ?? EVM_ADDR;
  return {
    ...base,
    protocol: 'evm',
    action: opts.fn ? 'call' : 'send',
    asset: opts.contract ? `evm:${chainId}:${opts.contract}` : `evm:${chainId}`,
    // Gas is paid in the chain's native coin, also for a token.
    feeAsset: `evm:${chainId}`,
    amount,
    destinations: [to.toLowerCase()],
    facets: {
      chain_id: chainId,
      contract: opts.contract ?? null,
      function: opts.fn ?? null,
      max_fee_per_gas: opts.maxFeePerGas ?? 30_000_000_000n,
    },
    detail: { to: to.toLowerCase(), maxPriorityFeePerGas: '1000000000', gasLimit: '21000' },
  };
}

export function risk(score = 2, extra: Partial<RiskAssessment> = {}): RiskAssessment {
  return {
    score,
    priority: score >= 12 ? 'critical' : score >= 6 ? 'high' : score >= 3 ? 'medium' : 'low',
    tolerance: 'medium',
    threshold: 6,
    withinTolerance: score <= 6,
    risks: [
      {
        id: 'test.top',
        name: 'Top test risk',
        category: 'financial',
        protocol: 'bitcoin',
        severity: 2,
        likelihood: 1,
        baseLikelihood: 1,
        score,
        priority: 'low',
        mitigation: 'none',
        adjustments: [],
      },
    ],
    recommendations: [],
    alternative: null,
    ...extra,
  };
}

export function entry(amount: bigint, at: number, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    protocol: 'bitcoin',
    action: 'send',
    asset: 'btc',
    destination: BTC_ADDR,
    facets: {},
    amount,
    fee: 0n,
    at,
    status: 'committed',
    ...over,
  };
}

export function snapshot(entries: LedgerEntry[] = [], known: string[] = []): LedgerSnapshot {
  return { entries, knownDestinations: new Set(known) };
}

/** A policy from a YAML body; `version` and `name` are added. */
export function policy(body: string): Policy {
  return POLICY_LANGUAGE.parse(`version: 1\nname: test\n${body}`);
}

/** Asserts that `fn` throws POLICY_INVALID whose message starts with `path` (and contains `fragment`). */
export function assertInvalid(fn: () => unknown, path: string, fragment?: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isWardenError(err, 'POLICY_INVALID'), `expected POLICY_INVALID, got ${String(err)}`);
    assert.ok(
      err.message.startsWith(`${path}:`),
      `expected the message to start with "${path}:", got: ${err.message}`,
    );
    if (fragment !== undefined) {
      if (typeof fragment === 'string') assert.ok(err.message.includes(fragment), `message: ${err.message}`);
      else assert.match(err.message, fragment);
    }
    return true;
  });
}

/** Freezes objects, arrays, Sets and Dates so that any mutation throws (or is refused). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Object.isFrozen(value)) return value;
  if (value instanceof Set) {
    for (const item of value) deepFreeze(item);
    const refuse = () => {
      throw new TypeError('frozen Set');
    };
    Object.defineProperties(value, {
      add: { value: refuse },
      delete: { value: refuse },
      clear: { value: refuse },
    });
  }
  if (value instanceof Date) {
    for (const name of Object.getOwnPropertyNames(Date.prototype)) {
      if (name.startsWith('set')) {
        Object.defineProperty(value, name, {
          value: () => {
            throw new TypeError('frozen Date');
          },
        });
      }
    }
  }
  Object.freeze(value);
  for (const child of Object.values(value as object)) deepFreeze(child);
  return value;
}
