import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthFailureThrottle, DEFAULT_AUTH_THROTTLE } from '../../src/gateway/auth-throttle.ts';
import { defaultRateLimits } from '../../src/gateway/gateway.ts';
import type { RateLimit } from '../../src/gateway/rate-limit.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const BAD = `wdn_tok_${'a'.repeat(26)}_${'A'.repeat(43)}`;

/** The i-th of many distinct well-formed tokens that do not exist. */
function badToken(i: number): string {
  const id = [...i.toString(26).padStart(26, '0')]
    .map((digit) => 'abcdefghijklmnopqrstuvwxyz'[Number.parseInt(digit, 26)])
    .join('');
  return `wdn_tok_${id}_${'B'.repeat(43)}`;
}

/** Small limits so a test reaches them quickly; everything else as in production. */
function limits(perToken: number, global: number) {
  return (operation: string): RateLimit =>
    operation === 'auth.failure'
      ? { max: perToken, windowMs: 60_000 }
      : operation === 'auth.failure.global'
        ? { max: global, windowMs: 60_000 }
        : defaultRateLimits(operation);
}

async function setup(perToken: number, global: number) {
  const g = await startTestGateway({
    identities: ['alice'],
    rateLimits: limits(perToken, global),
    // Production delays (up to 2 s per late answer) would make this file take minutes.
    authThrottle: { maxDelayMs: 60 },
  });
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const get = (token: string, localAddress?: string) =>
    rawRequest(`${g.url}/v1/identities`, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
      ...(localAddress ? { localAddress } : {}),
    });
  return { g, agent, get };
}

describe('failed authentications: no lockout of honest agents, no way around the limit', () => {
  test('failures from 127.0.0.1 never refuse a valid token from the same address', async () => {
    const { agent, get } = await setup(5, 20);
    for (let i = 0; i < 40; i++) assert.ok([401, 429].includes((await get(BAD)).status));
    assert.equal((await get(BAD)).status, 429, 'the flood itself is limited');
    const honest = await get(agent);
    assert.equal(honest.status, 200, 'a valid token is answered whatever others failed');
  });

  test('rotating source addresses inside 127.0.0.0/8 does not escape the limit', async () => {
    const { get } = await setup(1_000, 20);
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      // A fresh, well-formed token id and a fresh source address for every attempt.
      statuses.push((await get(badToken(i), `127.0.${1 + i}.${2 + i}`)).status);
    }
    const answered = statuses.filter((s) => s === 401).length;
    assert.ok(answered <= 20, `at most the global limit is answered 401, got ${answered}`);
    assert.ok(statuses.filter((s) => s === 429).length >= 80);
  });

  test('past the limit a failure is answered late (slowed down), with Retry-After', async () => {
    const { get } = await setup(2, 1_000);
    for (let i = 0; i < 2; i++) assert.equal((await get(BAD)).status, 401);
    const started = Date.now();
    const late = await get(BAD);
    const waited = Date.now() - started;
    assert.equal(late.status, 429);
    assert.equal(late.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(late.headers['retry-after']) >= 1);
    assert.ok(waited >= DEFAULT_AUTH_THROTTLE.baseDelayMs * 0.9, `waited ${waited} ms`);
  });
});

describe('the failure throttle keeps bounded memory without sweeping', () => {
  test('at most maxTracked token ids are remembered, the oldest forgotten first', () => {
    const throttle = new AuthFailureThrottle({
      ...DEFAULT_AUTH_THROTTLE,
      maxTracked: 100,
      perToken: { max: 1, windowMs: 60_000 },
      global: { max: 1_000_000, windowMs: 60_000 },
    });
    for (let i = 0; i < 10_000; i++) throttle.failure(`tok_${i}`, 1_000);
    assert.equal(throttle.tracked, 100);
    // The most recent id is remembered: a second failure on it is over its limit.
    assert.equal(throttle.failure('tok_9999', 1_001).limited, true);
    // The first one was forgotten: it starts over.
    assert.equal(throttle.failure('tok_0', 1_002).limited, false);
  });

  test('counts age out of the sliding window', () => {
    const throttle = new AuthFailureThrottle({
      ...DEFAULT_AUTH_THROTTLE,
      perToken: { max: 3, windowMs: 60_000 },
      global: { max: 1_000, windowMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) assert.equal(throttle.failure('tok_x', 0).limited, false);
    assert.equal(throttle.failure('tok_x', 1).limited, true);
    assert.equal(throttle.failure('tok_x', 125_000).limited, false, 'two windows later it starts over');
  });
});
