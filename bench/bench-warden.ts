import { join } from 'node:path';
import { utf8 } from '../src/core/bytes.ts';
import { nullLogger } from '../src/core/logger.ts';
import { Gateway } from '../src/gateway/gateway.ts';
import { Warden } from '../src/gateway/warden.ts';

/**
 * A fresh Warden in `root` (a cheap KDF: unsealing is not what the stages measure) and its
 * gateway with rate limits out of the way (the stages count signatures, not refusals).
 */
export async function startBenchWarden(root: string): Promise<{ warden: Warden; gateway: Gateway }> {
  const warden = await Warden.init(
    {
      home: join(root, 'home'),
      actor: 'bench',
      logger: nullLogger(),
      kdf: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
    },
    utf8('benchmark passphrase 2026'),
  );
  const gateway = new Gateway(warden, {
    logger: nullLogger(),
    rateLimits: () => ({ max: 10_000_000, windowMs: 60_000 }),
  });
  return { warden, gateway };
}
