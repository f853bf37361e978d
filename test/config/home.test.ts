import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DIR_MODE, ensureHome, FILE_MODE, resolveHomeDir } from '../../src/config/home.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { tempDir } from '../helpers/home.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

/** Runs fn with $HOME pointing elsewhere (os.homedir() reads it on POSIX), then restores it. */
function withHomeEnv<T>(home: string, fn: () => T): T {
  const saved = process.env.HOME;
  process.env.HOME = home;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.HOME;
    else process.env.HOME = saved;
  }
}

test('--home wins over $WARDEN_HOME, which wins over ~/.warden', () => {
  const base = tempDir('resolve');
  const option = join(base, 'from-option');
  const fromEnv = join(base, 'from-env');
  const user = join(base, 'user');
  withHomeEnv(user, () => {
    assert.equal(resolveHomeDir(option, { WARDEN_HOME: fromEnv }), option);
    assert.equal(resolveHomeDir(undefined, { WARDEN_HOME: fromEnv }), fromEnv);
    assert.equal(resolveHomeDir(undefined, {}), join(user, '.warden'));
  });
});

test('the environment used by default is process.env', () => {
  const fromEnv = join(tempDir('resolve'), 'env-home');
  const saved = process.env.WARDEN_HOME;
  process.env.WARDEN_HOME = fromEnv;
  try {
    assert.equal(resolveHomeDir(undefined), fromEnv);
  } finally {
    if (saved === undefined) delete process.env.WARDEN_HOME;
    else process.env.WARDEN_HOME = saved;
  }
});

test('a relative --home or $WARDEN_HOME is made absolute against the working directory', () => {
  assert.equal(resolveHomeDir('some/where', {}), resolve(process.cwd(), 'some/where'));
  assert.equal(resolveHomeDir(undefined, { WARDEN_HOME: './vault' }), resolve(process.cwd(), 'vault'));
  assert.equal(resolveHomeDir('/a/b/../c', {}), '/a/c');
});

test('ensureHome creates the directory (and missing parents) with mode 0700 and lays the files out in it', () => {
  const dir = join(tempDir('ensure'), 'nested', 'home');
  const layout = ensureHome(dir);
  assert.equal(DIR_MODE, 0o700);
  assert.equal(FILE_MODE, 0o600);
  assert.ok(statSync(dir).isDirectory());
  assert.equal(mode(dir), 0o700);
  assert.equal(layout.dir, dir);
  assert.deepEqual(
    {
      keystore: layout.keystore,
      keystorePrevious: layout.keystorePrevious,
      keystoreLock: layout.keystoreLock,
      database: layout.database,
      log: layout.log,
      unsealThrottle: layout.unsealThrottle,
      auditHead: layout.auditHead,
    },
    {
      keystore: join(dir, 'keystore.json'),
      keystorePrevious: join(dir, 'keystore.json.prev'),
      keystoreLock: join(dir, 'keystore.lock'),
      database: join(dir, 'warden.db'),
      log: join(dir, 'warden.log'),
      unsealThrottle: join(dir, 'unseal-throttle.json'),
      auditHead: join(dir, 'audit-head.json'),
    },
  );
});

test('ensureHome keeps a 0700 directory of ours as it is, contents included', () => {
  const dir = join(tempDir('ensure'), 'home');
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'keystore.json'), '{}', { mode: 0o600 });
  ensureHome(dir);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(join(dir, 'keystore.json')), 0o600);
});

// What the code does with an existing directory of ours that others can read, write or enter:
// it does not refuse it, it tightens it to 0700 (any group or world bit is enough).
for (const loose of [0o755, 0o777, 0o750, 0o705, 0o710, 0o701, 0o720, 0o702]) {
  test(`ensureHome tightens an existing directory of ours with mode 0${loose.toString(8)} to 0700`, () => {
    const dir = join(tempDir('ensure'), 'home');
    mkdirSync(dir);
    chmodSync(dir, loose);
    assert.equal(mode(dir), loose);
    ensureHome(dir);
    assert.equal(mode(dir), 0o700);
  });
}

const isRoot = process.getuid?.() === 0;

for (const loose of [0o755, 0o700]) {
  test(`ensureHome refuses (HOME_INSECURE) a directory of another user (mode 0${loose.toString(8)}) and leaves it alone`, {
    skip: !isRoot && 'needs root to give a directory to another user',
  }, () => {
    const dir = join(tempDir('ensure'), 'home');
    mkdirSync(dir);
    chmodSync(dir, loose);
    chownSync(dir, 65534, 65534);
    assert.throws(
      () => ensureHome(dir),
      (e) => isWardenError(e, 'HOME_INSECURE') && e.details.home === dir,
    );
    assert.equal(mode(dir), loose, 'not tightened: it is not ours');
    assert.equal(statSync(dir).uid, 65534);
  });
}

test('ensureHome refuses (HOME_INSECURE) a path that is a file, and leaves the file alone', () => {
  const file = join(tempDir('ensure'), 'not-a-dir');
  writeFileSync(file, 'x');
  assert.throws(
    () => ensureHome(file),
    (e) => isWardenError(e, 'HOME_INSECURE') && /not a directory/.test(e.message),
  );
  assert.ok(statSync(file).isFile());
});

test('an empty --home is a usage error; an empty $WARDEN_HOME counts as unset (never the working directory)', () => {
  assert.throws(
    () => resolveHomeDir('', {}),
    (e) => isWardenError(e, 'USAGE'),
  );
  assert.equal(resolveHomeDir(undefined, { WARDEN_HOME: '' }), join(homedir(), '.warden'));
});
