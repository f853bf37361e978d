import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { HDKey } from '@scure/bip32';
import { generateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { nip19 } from 'nostr-tools';
import { WardenError } from '../../src/core/errors.ts';
import { createLogger, formatMessage, nullLogger } from '../../src/core/logger.ts';
import { REDACTED } from '../../src/core/redact.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function memoryLogger(level = 'info') {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ stream, level });
  const text = () => chunks.join('');
  const records = () =>
    text()
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, text, records };
}

/** One sample per pattern class, each a secret that must never reach the log. */
function secretSamples(): Record<string, string> {
  return {
    hex: hex(randomBytes(32)),
    seed: hex(randomBytes(64)),
    xprv: HDKey.fromMasterSeed(randomBytes(32)).privateExtendedKey,
    nsec: nip19.nsecEncode(randomBytes(32)),
    wif: 'KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617',
    mnemonic: generateMnemonic(wordlist, 256),
    wardenToken: `wdn_${randomBytes(32).toString('base64url')}`,
    nwc: `nostr+walletconnect://${hex(randomBytes(32))}?relay=wss://r.example&secret=${hex(randomBytes(32))}`,
  };
}

function assertNoSecret(output: string, secret: string, label: string): void {
  assert.ok(!output.includes(secret), `${label} leaked: ${output}`);
  if (secret.includes(' ')) {
    // A phrase: no run of 3 of its words may survive either.
    const words = secret.split(' ');
    for (let i = 0; i + 3 <= words.length; i++) {
      const part = words.slice(i, i + 3).join(' ');
      assert.ok(!output.includes(part), `${label} partly leaked: ${output}`);
    }
  }
}

test('the merged object and its nested strings are redacted', () => {
  const { logger, text, records } = memoryLogger();
  const key = hex(randomBytes(32));
  logger.info({ privateKey: key, nested: { note: `my key is ${key}` }, op: 'op_1' }, 'loaded');
  assert.ok(!text().includes(key));
  const [rec] = records();
  assert.equal(rec?.privateKey, REDACTED);
  assert.deepEqual(rec?.nested, { note: `my key is ${REDACTED}` });
  assert.equal(rec?.op, 'op_1');
  assert.equal(rec?.msg, 'loaded');
});

test('every pattern class is redacted in messages, interpolations, objects, nested objects and errors', () => {
  for (const [label, secret] of Object.entries(secretSamples())) {
    const { logger, text } = memoryLogger();
    logger.info(`message with ${secret} inside`);
    logger.info('interpolated %s and %j', secret, { deep: secret });
    logger.info({ note: secret }, 'merged');
    logger.warn({ a: { b: { c: [`text ${secret} text`] } } });
    logger.error(new Error(`failed on ${secret}`));
    logger.error({ err: new Error(`nested ${secret}`), ctx: { cause: new TypeError(secret) } }, 'with err');
    logger.child({ binding: secret }).info('child');
    assertNoSecret(text(), secret, label);
    assert.ok(text().includes(REDACTED), label);
  }
});

test('a secret split across two interpolated arguments is still caught', () => {
  const { logger, text } = memoryLogger();
  const key = hex(randomBytes(32));
  logger.info('key=%s%s', key.slice(0, 32), key.slice(32));
  assert.ok(!text().includes(key));
});

test('field names that look secret are redacted whatever the value', () => {
  const { logger, records } = memoryLogger();
  logger.info({
    password: 'hunter2',
    nested: {
      passphrase: 'correct horse',
      apiToken: 'abc',
      headers: { authorization: 'Basic x', cookie: 'a=b' },
    },
    secretKey: randomBytes(32).toString('base64'),
    mnemonic: 'short',
  });
  const [rec] = records();
  assert.deepEqual(rec, {
    level: 'info',
    time: rec?.time,
    password: REDACTED,
    nested: {
      passphrase: REDACTED,
      apiToken: REDACTED,
      headers: { authorization: REDACTED, cookie: REDACTED },
    },
    secretKey: REDACTED,
    mnemonic: REDACTED,
  });
});

test('bytes are never printed', () => {
  const { logger, text, records } = memoryLogger();
  const key = randomBytes(32);
  logger.info({ key: new Uint8Array(key), buf: key, deeper: { raw: key } }, 'bytes');
  logger.info(key as unknown as object, 'bytes as the merged object');
  logger.info('bytes as an argument %o', key);
  const out = text();
  assert.ok(!out.includes(hex(key)));
  assert.ok(!out.includes(key.toString('base64')));
  assert.ok(!out.includes(`"0":${key[0]}`));
  assert.ok(!out.includes(Array.from(key).join(',')));
  const recs = records();
  assert.equal(recs[0]?.key, '[REDACTED BYTES 32]');
  assert.equal(recs[1]?.value, '[REDACTED BYTES 32]');
  assert.equal(recs[1]?.msg, 'bytes as the merged object');
  assert.equal(recs[2]?.msg, 'bytes as an argument "[REDACTED BYTES 32]"');
});

test('errors: no stack at info, a redacted stack at debug', () => {
  const key = hex(randomBytes(32));
  const info = memoryLogger('info');
  info.logger.error(new WardenError('INVALID_ARGUMENT', `bad ${key}`));
  const [rec] = info.records();
  assert.deepEqual(rec?.err, { name: 'WardenError', code: 'INVALID_ARGUMENT', message: `bad ${REDACTED}` });
  assert.equal(rec?.msg, `bad ${REDACTED}`);
  assert.ok(!info.text().includes('stack'));

  const debug = memoryLogger('debug');
  debug.logger.error({ err: new Error(`bad ${key}`) }, 'failed');
  const [drec] = debug.records();
  const err = drec?.err as { stack?: string };
  assert.ok(err.stack?.startsWith(`Error: bad ${REDACTED}`));
  assert.ok(!debug.text().includes(key));
});

test('ordinary values pass through unchanged', () => {
  const { logger, records } = memoryLogger();
  const npub = nip19.npubEncode(hex(randomBytes(32)));
  const evm = `0x${hex(randomBytes(20))}`;
  logger.info(
    {
      op: 'op_0123456789abcdef',
      npub,
      address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
      evm,
      amount: 1500n,
    },
    'Paid %d sat to %s',
    1500,
    'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
  );
  const [rec] = records();
  assert.equal(rec?.npub, npub);
  assert.equal(rec?.evm, evm);
  assert.equal(rec?.op, 'op_0123456789abcdef');
  assert.equal(rec?.amount, '1500');
  assert.equal(rec?.msg, 'Paid 1500 sat to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq');
});

test('log lines carry no hostname and no pid', () => {
  const { logger, records } = memoryLogger();
  logger.info('hello');
  const [rec] = records();
  assert.deepEqual(Object.keys(rec ?? {}).sort(), ['level', 'msg', 'time']);
});

test('levels: unknown levels are refused, lower levels are dropped', () => {
  assert.throws(
    () => createLogger({ level: 'verbose' }),
    (e) => e instanceof WardenError && e.code === 'INVALID_ARGUMENT',
  );
  const { logger, records } = memoryLogger('warn');
  logger.info('dropped');
  logger.warn('kept');
  assert.deepEqual(
    records().map((r) => r.msg),
    ['kept'],
  );
});

test('a file destination is created with mode 0600, and an existing file is tightened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-log-'));
  try {
    const key = hex(randomBytes(32));
    const path = join(dir, 'warden.log');
    const logger = createLogger({ destination: path });
    logger.info({ note: key }, 'to file');
    logger.flush();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const out = readFileSync(path, 'utf8');
    assert.ok(out.includes('to file'));
    assert.ok(!out.includes(key));

    const loose = join(dir, 'loose.log');
    writeFileSync(loose, '');
    chmodSync(loose, 0o644);
    createLogger({ destination: loose }).info('x');
    assert.equal(statSync(loose).mode & 0o777, 0o600);

    const link = join(dir, 'link.log');
    symlinkSync(path, link);
    assert.throws(() => createLogger({ destination: link }), WardenError);
    assert.throws(() => createLogger({ destination: dir }), WardenError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nullLogger writes nothing and accepts every call', () => {
  const log = nullLogger();
  log.info({ privateKey: 'x' }, 'nothing');
  log.error(new Error('nothing'));
  log.child({ a: 1 }).debug('nothing');
  assert.equal(log.isLevelEnabled('error'), false);
});

test('formatMessage follows pino placeholders', () => {
  assert.equal(
    formatMessage('a %s b %d c %i %j %o %% %x', ['s', '4.5', 4.7, { a: 1 }, [1]]),
    'a s b 4.5 c 4 {"a":1} [1] % %x',
  );
  assert.equal(formatMessage('100%', []), '100%');
  assert.equal(formatMessage('%s %s', ['only']), 'only %s');
  assert.equal(formatMessage('%s', [{ a: 1 }]), '{"a":1}');
});
