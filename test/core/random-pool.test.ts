import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pooledRandomBytes } from '../../src/core/random-pool.ts';

test('pooledRandomBytes: fresh buffers of the length asked, never the same bytes twice, across refills', () => {
  const seen = new Set<string>();
  const counts = new Array(256).fill(0);
  // 3,000 × 24 bytes: the 4 KiB pool is refilled many times, with a part-used tail each time.
  for (let i = 0; i < 3000; i++) {
    const bytes = pooledRandomBytes(24);
    assert.equal(bytes.length, 24);
    assert.equal(bytes.byteOffset, 0, 'its own buffer, not a view of the pool');
    assert.equal(bytes.buffer.byteLength, 24);
    const hex = Buffer.from(bytes).toString('hex');
    assert.ok(!seen.has(hex), 'a value handed out twice');
    seen.add(hex);
    for (const b of bytes) counts[b]++;
  }
  // 72,000 bytes: each value about 281 times; a byte value never drawn would mean zeroed pool bytes leaking out.
  assert.ok(
    Math.min(...counts) > 150 && Math.max(...counts) < 450,
    `${Math.min(...counts)}..${Math.max(...counts)}`,
  );
  assert.equal(pooledRandomBytes(0).length, 0);
  assert.throws(() => pooledRandomBytes(4097), RangeError);
  assert.throws(() => pooledRandomBytes(-1), RangeError);
});
