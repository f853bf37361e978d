import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { getAddress } from 'viem';
import { type ErrorCode, isWardenError, WardenError } from '../../../src/core/errors.ts';
import { parseBaseUnits } from '../../../src/core/validate.ts';
import { MAX_UINT256, parseEvmSendRequest } from '../../../src/protocols/evm/request.ts';

const parseWei = (value: unknown, field: string) => parseBaseUnits(value, field, MAX_UINT256);

// An address with a known EIP-55 form (from the EIP-55 test vectors).
const CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const LOWER = CHECKSUMMED.toLowerCase();
const good = { chainId: 42161, to: CHECKSUMMED, value: '10000000000000000' };

function code(fn: () => unknown): ErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (!(err instanceof WardenError)) throw new Error(`threw a non-WardenError: ${String(err)}`);
    return err.code;
  }
}

const parse = (body: unknown) => () => parseEvmSendRequest(body);

test('a valid request parses to the normalized form', () => {
  assert.deepEqual(parseEvmSendRequest(good), {
    chainId: 42161,
    to: LOWER,
    value: 10_000_000_000_000_000n,
    maxFeePerGas: null,
    maxPriorityFeePerGas: null,
    idempotencyKey: null,
  });
  assert.deepEqual(
    parseEvmSendRequest({
      ...good,
      value: '12345',
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '0',
      idempotencyKey: 'order-42:retry.1_x',
    }),
    {
      chainId: 42161,
      to: LOWER,
      value: 12345n,
      maxFeePerGas: 30_000_000_000n,
      maxPriorityFeePerGas: 0n,
      idempotencyKey: 'order-42:retry.1_x',
    },
  );
  const nulls = parseEvmSendRequest({
    ...good,
    maxFeePerGas: null,
    maxPriorityFeePerGas: null,
    idempotencyKey: null,
  });
  assert.equal(nulls.maxFeePerGas, null);
  assert.equal(nulls.idempotencyKey, null);
});

test('EIP-55 vectors: correct checksums, all-lower and all-upper are accepted', () => {
  for (const address of [
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    '0x52908400098527886E0F7030069857D2E4169EE7', // all caps
    '0x8617E340B3D01FA5F11F306F4090FD50E238070D', // all caps
    '0xde709f2102306220921060314715629080e2fb77', // all lower
    '0x27b1fdb04752bbc536007a920d24acb045561c26', // all lower
  ]) {
    assert.equal(parseEvmSendRequest({ ...good, to: address }).to, address.toLowerCase(), address);
  }
});

test('bad addresses give INVALID_ADDRESS', () => {
  const flipped = `0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD`; // last letter's case changed
  for (const to of [
    flipped,
    '0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed', // one letter lowered
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe', // 19.5 bytes
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA', // 19 bytes
    `${CHECKSUMMED}00`, // 21 bytes
    CHECKSUMMED.slice(2), // no 0x
    `0X${CHECKSUMMED.slice(2)}`,
    ` ${CHECKSUMMED}`,
    `${CHECKSUMMED}\n`,
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg',
    `0x${'0'.repeat(40)}`, // zero address
    '0x',
    '',
    'vitalik.eth',
    42,
    null,
    true,
    [CHECKSUMMED],
    { address: CHECKSUMMED },
  ]) {
    assert.equal(code(parse({ ...good, to })), 'INVALID_ADDRESS', JSON.stringify(to));
  }
});

test('bad amounts give INVALID_AMOUNT', () => {
  for (const value of [
    '-1',
    '1.5',
    '1.0',
    '1e18',
    '1E18',
    '0x10',
    '0b1',
    '',
    ' 1',
    '1 ',
    '+1',
    '01',
    '1_000',
    '1,000',
    '١٢٣', // Arabic-Indic digits
    (2n ** 256n).toString(),
    `1${'0'.repeat(78)}`,
    '9'.repeat(10_000),
    'Infinity',
    'NaN',
    -1,
    1.5,
    1e300,
    2 ** 53,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    true,
    ['1'],
    { wei: '1' },
    '0', // nothing to send
    0,
    -0,
  ]) {
    assert.equal(code(parse({ ...good, value })), 'INVALID_AMOUNT', String(value));
  }
  assert.equal(parseEvmSendRequest({ ...good, value: MAX_UINT256.toString() }).value, MAX_UINT256);
});

test('a JSON number is never an amount: INVALID_AMOUNT naming the field, whatever its value', () => {
  // JSON.parse turns all of these into the number 1000 before anything can look at the spelling.
  for (const text of ['1e3', '1000.0', '1000', '1E3', '10000e-1', '0', '1']) {
    for (const field of ['value', 'maxFeePerGas', 'maxPriorityFeePerGas']) {
      const body = JSON.parse(
        `{"chainId":42161,"to":"${LOWER}","value":"1","maxFeePerGas":"100","${field}":${text}}`,
      );
      assert.throws(parse(body), (e) => {
        assert.ok(isWardenError(e, 'INVALID_AMOUNT'), `${field}: ${text}`);
        assert.equal(e.details.field, field);
        assert.equal(e.details.type, 'number');
        assert.match(e.message, new RegExp(`^${field} must be a decimal string`));
        return true;
      });
    }
  }
});

test('bad fees give INVALID_AMOUNT; a tip above the cap is refused', () => {
  for (const fees of [
    { maxFeePerGas: '1.5' },
    { maxFeePerGas: '-1' },
    { maxFeePerGas: '0' },
    { maxFeePerGas: '0x3b9aca00' },
    { maxFeePerGas: true },
    { maxPriorityFeePerGas: '1e9' },
    { maxPriorityFeePerGas: (2n ** 256n).toString() },
    { maxFeePerGas: '100', maxPriorityFeePerGas: '101' },
  ]) {
    assert.equal(code(parse({ ...good, ...fees })), 'INVALID_AMOUNT', JSON.stringify(fees));
  }
  assert.equal(
    parseEvmSendRequest({ ...good, maxFeePerGas: '100', maxPriorityFeePerGas: '100' }).maxPriorityFeePerGas,
    100n,
  );
});

test('bad chain ids, bodies, missing fields, idempotency keys and unknown fields give INVALID_REQUEST', () => {
  for (const chainId of [0, -1, 1.5, '42161', '0xa4b1', 2 ** 53, null, true, Number.NaN, [1]]) {
    assert.equal(code(parse({ ...good, chainId })), 'INVALID_REQUEST', String(chainId));
  }
  for (const body of [null, undefined, 'x', 42, true, [], [good], new Date(), new Map()]) {
    assert.equal(code(parse(body)), 'INVALID_REQUEST', String(body));
  }
  for (const missing of ['chainId', 'to', 'value'] as const) {
    const { [missing]: _, ...rest } = good;
    assert.equal(code(parse(rest)), 'INVALID_REQUEST', missing);
  }
  for (const idempotencyKey of ['', 'a b', 'x'.repeat(129), 'é', 5, true, ['k']]) {
    assert.equal(code(parse({ ...good, idempotencyKey })), 'INVALID_REQUEST', String(idempotencyKey));
  }
  for (const field of ['data', 'gas', 'nonce', 'from', 'To', 'value ', '__proto__', 'constructor']) {
    const body = JSON.parse(JSON.stringify(good));
    Object.defineProperty(body, field, { value: 1, enumerable: true, configurable: true, writable: true });
    assert.throws(parse(body), (e) => {
      assert.ok(isWardenError(e, 'INVALID_REQUEST'), field);
      assert.equal(e.details.field, field);
      assert.ok(e.message.includes(field));
      return true;
    });
  }
  // A __proto__ key straight out of JSON.parse (an own property there) is an unknown field too.
  assert.equal(
    code(parse(JSON.parse(`{"chainId":1,"to":"${LOWER}","value":"1","__proto__":{"x":1}}`))),
    'INVALID_REQUEST',
  );
});

test('error details echo at most a short, control-free piece of the input', () => {
  const hostile = `0x${'Z'.repeat(5)}\u0000\u001b[31m\u2028${'Z'.repeat(5_000)}`;
  assert.throws(parse({ ...good, to: hostile }), (e) => {
    assert.ok(isWardenError(e, 'INVALID_ADDRESS'));
    const shown = String(e.details.value);
    assert.ok(shown.length <= 81, `${shown.length}`);
    assert.ok(!hasControl(shown));
    assert.ok(shown.startsWith('0xZZZ'));
    return true;
  });
  const longField = 'f'.repeat(1_000);
  assert.throws(parse({ ...good, [longField]: 1 }), (e) => {
    assert.ok(isWardenError(e, 'INVALID_REQUEST'));
    assert.ok(String(e.details.field).length <= 81);
    return true;
  });
});

test('the checksum error does not reveal the right checksum', () => {
  const flipped = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD';
  assert.throws(parse({ ...good, to: flipped }), (e) => {
    assert.ok(isWardenError(e, 'INVALID_ADDRESS'));
    assert.ok(!JSON.stringify({ m: e.message, d: e.details }).includes(CHECKSUMMED));
    return true;
  });
});

// ---------------------------------------------------------------------------------------------
// Generated input
// ---------------------------------------------------------------------------------------------

const addressBytes = fc.uint8Array({ minLength: 20, maxLength: 20 }).filter((b) => b.some((x) => x !== 0));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('property: any nonzero 20 bytes parse in checksummed, lower and upper spelling to the lower form', () => {
  fc.assert(
    fc.property(addressBytes, (bytes) => {
      const lower = `0x${toHex(bytes)}`;
      for (const to of [getAddress(lower), lower, `0x${toHex(bytes).toUpperCase()}`]) {
        assert.equal(parseEvmSendRequest({ ...good, to }).to, lower);
      }
    }),
  );
});

test('property: changing the case of one letter of a checksummed address is refused', () => {
  fc.assert(
    fc.property(addressBytes, fc.nat(), (bytes, pick) => {
      const checksummed = getAddress(`0x${toHex(bytes)}`);
      const letters = [...checksummed].flatMap((c, i) => (i >= 2 && /[a-fA-F]/.test(c) ? [i] : []));
      fc.pre(letters.length > 0);
      const i = letters[pick % letters.length]!;
      const c = checksummed[i]!;
      const mutated = `${checksummed.slice(0, i)}${c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()}${checksummed.slice(i + 1)}`;
      const digits = mutated.slice(2);
      // A flip that lands on a uniform spelling is a valid unchecksummed address: not a failure case.
      fc.pre(digits !== digits.toLowerCase() && digits !== digits.toUpperCase());
      assert.equal(code(parse({ ...good, to: mutated })), 'INVALID_ADDRESS');
    }),
  );
});

test('property: hex of any length other than 20 bytes is refused', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }).filter((b) => b.length !== 20),
      fc.boolean(),
      (bytes, odd) => {
        const to = `0x${toHex(bytes)}${odd ? 'a' : ''}`;
        assert.equal(code(parse({ ...good, to })), 'INVALID_ADDRESS');
      },
    ),
  );
});

test('property: any string given as an address is accepted only if it round-trips to a valid address', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^0x[0-9a-fA-F]{38,42}$/)), (to) => {
      const outcome = code(parse({ ...good, to }));
      if (outcome === 'none') {
        const lower = parseEvmSendRequest({ ...good, to }).to;
        assert.equal(lower, to.toLowerCase());
        const digits = to.slice(2);
        assert.ok(
          to === getAddress(lower) || digits === digits.toLowerCase() || digits === digits.toUpperCase(),
        );
      } else {
        assert.equal(outcome, 'INVALID_ADDRESS');
      }
    }),
  );
});

test('property: every wei amount 1..2^256-1 round-trips, 2^256 and above are refused', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: MAX_UINT256 }), (wei) => {
      assert.equal(parseEvmSendRequest({ ...good, value: wei.toString() }).value, wei);
    }),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 2n ** 256n, max: 2n ** 300n }), (wei) => {
      assert.equal(code(parse({ ...good, value: wei.toString() })), 'INVALID_AMOUNT');
    }),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 256n), max: -1n }), (wei) => {
      assert.equal(code(parse({ ...good, value: wei.toString() })), 'INVALID_AMOUNT');
    }),
  );
});

test('property: an accepted amount string is exactly the canonical decimal of the result', () => {
  const numberish = fc.oneof(
    fc.string(),
    fc.stringMatching(/^[-+]?[0-9]{0,80}(\.[0-9]{0,3})?([eE][-+]?[0-9]{1,3})?$/),
    fc.stringMatching(/^\s*0[xXbBoO]?[0-9a-fA-F]{0,10}\s*$/),
  );
  fc.assert(
    fc.property(numberish, (value) => {
      let wei: bigint;
      try {
        wei = parseWei(value, 'value');
      } catch (err) {
        assert.ok(isWardenError(err, 'INVALID_AMOUNT'), String(err));
        return;
      }
      assert.equal(wei.toString(), value);
      assert.ok(wei >= 0n && wei <= MAX_UINT256);
    }),
    { numRuns: 2_000 },
  );
});

test('property: every number, and every non-string, is refused as an amount of any field', () => {
  const field = fc.constantFrom('value', 'maxFeePerGas', 'maxPriorityFeePerGas');
  const notString = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.boolean(),
    fc.bigInt(),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  );
  fc.assert(
    fc.property(field, notString, (name, v) => {
      assert.throws(parse({ ...good, [name]: v }), (e) => {
        assert.ok(isWardenError(e, 'INVALID_AMOUNT'), `${name}: ${typeof v}`);
        assert.equal(e.details.field, name);
        return true;
      });
    }),
    { numRuns: 1_000 },
  );
});

test('property: a string that is not canonical decimal digits is refused, naming the field', () => {
  // Generated near-misses of a decimal: signs, points, exponents, leading zeros, hex, spaces, units.
  const nearMiss = fc
    .tuple(
      fc.constantFrom('', '-', '+', ' ', '0', '00', '0x', '\t'),
      fc.stringMatching(/^[0-9]{1,20}$/),
      fc.constantFrom('', '.', '.0', 'e3', 'E-1', ' ', 'n', ' wei', '_000', ',000', '\n'),
    )
    .map(([a, b, c]) => `${a}${b}${c}`)
    .filter((s) => !/^(0|[1-9][0-9]*)$/.test(s));
  const field = fc.constantFrom('value', 'maxFeePerGas', 'maxPriorityFeePerGas');
  fc.assert(
    fc.property(field, fc.oneof(nearMiss, fc.string()), (name, v) => {
      fc.pre(!/^(0|[1-9][0-9]*)$/.test(v));
      assert.throws(parse({ ...good, [name]: v }), (e) => {
        assert.ok(isWardenError(e, 'INVALID_AMOUNT'), `${name}: ${JSON.stringify(v)}`);
        assert.equal(e.details.field, name);
        return true;
      });
    }),
    { numRuns: 2_000 },
  );
});

/** True if the text holds a C0/C1 control character or a line/paragraph separator. */
function hasControl(text: string): boolean {
  return [...text].some((c) => {
    const n = c.codePointAt(0)!;
    return n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x2028 || n === 0x2029;
  });
}

const CODES = new Set(['INVALID_REQUEST', 'INVALID_ADDRESS', 'INVALID_AMOUNT']);

test('property: arbitrary bodies throw only WardenErrors with request codes', () => {
  const field = fc.oneof(
    fc.anything(),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.bigInt(),
    fc.constant(undefined),
  );
  const body = fc.oneof(
    fc.anything(),
    fc.jsonValue(),
    fc.record(
      {
        chainId: fc.oneof(fc.integer(), field),
        to: fc.oneof(
          addressBytes.map((b) => `0x${toHex(b)}`),
          field,
        ),
        value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 257n }).map(String), field),
        maxFeePerGas: field,
        maxPriorityFeePerGas: field,
        idempotencyKey: field,
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.string(), fc.jsonValue()),
  );
  fc.assert(
    fc.property(body, (b) => {
      const outcome = code(parse(b));
      if (outcome !== 'none') assert.ok(CODES.has(outcome), outcome);
    }),
    { numRuns: 3_000 },
  );
});

test('property: any extra key is refused with INVALID_REQUEST naming it', () => {
  const known = new Set(['chainId', 'to', 'value', 'maxFeePerGas', 'maxPriorityFeePerGas', 'idempotencyKey']);
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 40 }).filter((k) => !known.has(k) && !hasControl(k)),
      fc.jsonValue(),
      (key, value) => {
        const body = JSON.parse(JSON.stringify({ ...good, [key]: value }));
        assert.throws(parse(body), (e) => isWardenError(e, 'INVALID_REQUEST') && e.details.field === key);
      },
    ),
  );
});

test('exotic objects that throw from a getter still give a WardenError', () => {
  const body = { ...good };
  Object.defineProperty(body, 'value', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  assert.equal(code(parse(body)), 'INVALID_REQUEST');
  const proxy = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('boom');
      },
    },
  );
  assert.equal(code(parse(proxy)), 'INVALID_REQUEST');
});
