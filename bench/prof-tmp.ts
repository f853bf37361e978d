import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '../src/core/bytes.ts';
import { nullLogger } from '../src/core/logger.ts';
import { createTokenAudited, setPolicyAudited } from '../src/gateway/admin.ts';
import { Gateway } from '../src/gateway/gateway.ts';
import { authenticate } from '../src/gateway/tokens.ts';
import { Warden } from '../src/gateway/warden.ts';
const root = mkdtempSync(join(tmpdir(), 'warden-prof-'));
const warden = await Warden.init({ home: join(root, 'home'), actor: 'bench', logger: nullLogger(), kdf: { memoryKiB: 8192, iterations: 1, parallelism: 1 } }, utf8('benchmark passphrase 2026'));
const gateway = new Gateway(warden, { logger: nullLogger(), rateLimits: () => ({ max: 10_000_000, windowMs: 60_000 }) });
const op = gateway.operations.get('nostr.sign_event');
await warden.createIdentity('a');
await setPolicyAudited(warden, 'a', `version: 1
name: w
risk: { tolerance: high }
rules:
  - id: notes
    match: { protocol: nostr, kind: [1] }
    effect: allow
    limits:
      - { window: 24h, max_count: 100000000 }
`);
const { token } = await createTokenAudited(warden, { role: 'agent', identity: 'a', capabilities: ['nostr:sign'], label: 'a' });
const p = await authenticate(warden.store.db, `Bearer ${token}`, warden.clock);
const N = Number(process.env.N ?? 2000), C = Number(process.env.C ?? 1);
let next = 0; const t = performance.now();
await Promise.all(Array.from({ length: C }, async () => { while (next < N) { const i = next++; await gateway.pipeline.submit(p, op, { kind: 1, content: `n ${i}`, tags: [] }); } }));
console.log('ops/s', N / (performance.now() - t) * 1000);
await warden.close();
