import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import Database from 'better-sqlite3';
import { appendAudit } from '../../src/audit/append.ts';
import type { ControlPlaneFinding } from '../../src/audit/control-plane.ts';
import { systemClock } from '../../src/core/clock.ts';
import { isWardenError } from '../../src/core/errors.ts';
import { randomId } from '../../src/core/ids.ts';
import { nullLogger } from '../../src/core/logger.ts';
import { createTokenAudited, revokeTokenAudited, setPolicyAudited, tokens } from '../../src/gateway/admin.ts';
import { rememberAuditPublicKey } from '../../src/gateway/audit-key.ts';
import { loadPolicy } from '../../src/gateway/policies.ts';
import { authenticate } from '../../src/gateway/tokens.ts';
import { Warden } from '../../src/gateway/warden.ts';
import { Vault } from '../../src/keys/vault.ts';
import { POLICY_TEMPLATES } from '../../src/protocols/policy-language.ts';
import { openSqliteStore } from '../../src/store/store.ts';
import { runWarden, writeFileMode } from '../helpers/cli.ts';
import { passphrase, TEST_KDF, TEST_PASSPHRASE, tempDir, tempHome } from '../helpers/home.ts';

const ALLOW_NOSTR = `version: 1
name: allow-nostr
rules:
  - id: sign
    match: { protocol: nostr }
    effect: allow
`;

function options(home: string) {
  return { home, actor: 'cli:test', logger: nullLogger(), kdf: TEST_KDF };
}

/** A second, raw connection to warden.db: what a process running as the Warden user could do. */
function raw(home: string): Database.Database {
  const db = new Database(`${home}/warden.db`);
  db.pragma('busy_timeout = 5000');
  return db;
}

/** A token row with a secret the "attacker" knows, inserted straight into the table. */
function plantToken(db: Database.Database, row: { role: string; mac: Uint8Array | null }): string {
  const id = randomId('tok');
  const secret = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const now = new Date();
  db.prepare(
    `INSERT INTO token (id, secret_hash, role, identity, capabilities, label, created_at, expires_at, revoked_at, mac)
     VALUES (?, ?, ?, NULL, '[]', 'planted', ?, ?, NULL, ?)`,
  ).run(
    id,
    sha256(secret),
    row.role,
    now.toISOString(),
    new Date(now.getTime() + 86_400_000).toISOString(),
    row.mac,
  );
  return `wdn_${id}_${base64urlnopad.encode(secret)}`;
}

const bearer = (token: string) => `Bearer ${token}`;
const unauthenticated = (e: unknown) => isWardenError(e, 'UNAUTHENTICATED');

async function newWarden() {
  const layout = tempHome('cp');
  const warden = await Warden.init(options(layout.dir), passphrase());
  await warden.createIdentity('bot', 'regtest');
  return warden;
}

/** Runs `fn` on a new Warden (newWarden), closed after it whatever happens. */
async function withNewWarden(fn: (warden: Warden) => Promise<void>): Promise<void> {
  const warden = await newWarden();
  try {
    await fn(warden);
  } finally {
    await warden.close();
  }
}

/**
 * bot's policy row was changed behind Warden's back (`reason`): bot gets the tampered deny-all,
 * an identity without its own policy still the honest default, and verify names the row. Set
 * again through Warden, the policy heals.
 */
async function assertTamperedPolicyDeniesThenHeals(warden: Warden, reason: ControlPlaneFinding['reason']) {
  const loaded = await loadPolicy(warden.store.db, 'bot');
  assert.equal(loaded.source, 'tampered');
  assert.deepEqual(loaded.problem, { code: 'POLICY_TAMPERED', identity: 'bot', reason });
  assert.equal(loaded.policy.rules.length, 1);
  assert.equal(loaded.policy.rules[0]!.effect, 'deny');
  assert.equal((await loadPolicy(warden.store.db, 'other')).source, 'default');
  const verified = await warden.verifyAudit();
  assert.equal(verified.ok, false);
  assert.deepEqual(verified.controlPlane, [
    { code: 'CONTROL_PLANE_TAMPERED', table: 'policy', id: 'bot', reason },
  ]);
  await setPolicyAudited(warden, 'bot', POLICY_TEMPLATES['deny-all']!);
  assert.equal((await loadPolicy(warden.store.db, 'bot')).source, 'identity');
  assert.equal((await warden.verifyAudit()).ok, true);
}

test('a token row written without the vault key is refused; honest tokens keep working', async () => {
  await withNewWarden(async (warden) => {
    const honest = await createTokenAudited(warden, {
      role: 'agent',
      identity: 'bot',
      capabilities: ['nostr:sign'],
      label: 'honest',
    });
    const db = raw(warden.layout.dir);
    const honestMac = db.prepare('SELECT mac FROM token WHERE id = ?').get(honest.info.id) as { mac: Buffer };
    const noMac = plantToken(db, { role: 'admin', mac: null });
    const randomMac = plantToken(db, { role: 'admin', mac: new Uint8Array(32).fill(7) });
    const copiedMac = plantToken(db, { role: 'admin', mac: honestMac.mac });
    // A genuine token widened in place: agent → admin, same MAC.
    const widened = await createTokenAudited(warden, {
      role: 'viewer',
      identity: null,
      capabilities: [],
      label: 'v',
    });
    db.prepare("UPDATE token SET role = 'admin' WHERE id = ?").run(widened.info.id);
    db.close();

    const principal = await authenticate(warden.store.db, bearer(honest.token), warden.clock);
    assert.equal(principal.tokenId, honest.info.id);
    for (const planted of [noMac, randomMac, copiedMac, widened.token]) {
      await assert.rejects(authenticate(warden.store.db, bearer(planted), warden.clock), unauthenticated);
    }

    const listed = await tokens(warden);
    const flagged = Object.fromEntries(listed.map((t) => [t.id, t.tampered ?? 'ok']));
    assert.equal(flagged[honest.info.id], 'ok');
    assert.equal(flagged[widened.info.id], 'mac-mismatch');
    assert.equal(listed.filter((t) => t.tampered === 'mac-missing').length, 1);
    assert.equal(listed.filter((t) => t.tampered === 'mac-mismatch').length, 3);

    const verified = await warden.verifyAudit();
    assert.equal(verified.ok, false);
    assert.equal(verified.problem, undefined, 'the chain itself is intact');
    assert.deepEqual(
      verified.controlPlane?.map((f) => [f.code, f.table]),
      Array(4).fill(['CONTROL_PLANE_TAMPERED', 'token']),
    );
    assert.ok(verified.controlPlane?.some((f) => f.id === widened.info.id));
  });
});

test('a row remembered as verified is checked again once any column changes (the MAC too); a sealed vault refuses it', async () => {
  await withNewWarden(async (warden) => {
    const honest = await createTokenAudited(warden, {
      role: 'agent',
      identity: 'bot',
      capabilities: ['nostr:sign'],
      label: 'remembered',
    });
    const signIn = () => authenticate(warden.store.db, bearer(honest.token), warden.clock);
    assert.equal((await signIn()).role, 'agent');
    assert.equal((await signIn()).role, 'agent', 'read again unchanged: still verifies');
    const db = raw(warden.layout.dir);
    const { mac } = db.prepare('SELECT mac FROM token WHERE id = ?').get(honest.info.id) as { mac: Buffer };
    const flipped = Uint8Array.from(mac);
    flipped[31]! ^= 1;
    const edits: Array<[string, unknown]> = [
      ['role', 'admin'],
      ['label', 'renamed'],
      ['expires_at', '2999-01-01T00:00:00.000Z'],
      ['mac', flipped],
    ];
    for (const [column, value] of edits) {
      const before = db.prepare(`SELECT ${column} AS v FROM token WHERE id = ?`).get(honest.info.id) as {
        v: unknown;
      };
      db.prepare(`UPDATE token SET ${column} = ? WHERE id = ?`).run(value, honest.info.id);
      await assert.rejects(signIn(), unauthenticated, `${column} changed after the row verified`);
      db.prepare(`UPDATE token SET ${column} = ? WHERE id = ?`).run(before.v, honest.info.id);
      assert.equal((await signIn()).role, 'agent', `${column} put back: the row is the honest one again`);
    }
    db.close();
    warden.vault.seal();
    await assert.rejects(signIn(), (e) => isWardenError(e, 'VAULT_SEALED'));
  });
});

test('a policy set or a token revoked while a request reads them is not taken for a rollback', async () => {
  const logged: unknown[] = [];
  const logger = nullLogger();
  logger.error = ((first: unknown) => void logged.push(first)) as typeof logger.error;
  const warden = await Warden.init({ ...options(tempHome('cp-race').dir), logger }, passphrase());
  try {
    await warden.createIdentity('bot', 'regtest');
    await setPolicyAudited(warden, 'bot', POLICY_TEMPLATES['deny-all']!);
    const agent = await createTokenAudited(warden, {
      role: 'agent',
      identity: 'bot',
      capabilities: ['nostr:sign'],
      label: 'race',
    });
    /**
     * Runs `change` while another transaction holds the writer's connection, and `read` as it
     * waits: the rows are committed reads (they do not wait), the log is read through the writer's
     * connection (it does), so the log can be newer than rows read first.
     */
    const duringChange = async <T>(change: () => Promise<unknown>, read: () => Promise<T>): Promise<T> => {
      await sleep(1100); // the witness is more than a second old: the next read asks the log
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const holder = warden.store.transaction(() => held);
      await sleep(10);
      const changing = change();
      const reading = read();
      setTimeout(release, 50);
      await Promise.all([holder, changing]);
      return reading;
    };
    const looser = POLICY_TEMPLATES['deny-all']!.replace('name: deny-all', 'name: deny-all-again');
    const loaded = await duringChange(
      () => setPolicyAudited(warden, 'bot', looser),
      () => loadPolicy(warden.store.db, 'bot'),
    );
    assert.equal(loaded.source, 'identity', JSON.stringify(loaded.problem));
    const signedIn = await duringChange(
      () => revokeTokenAudited(warden, agent.info.id),
      () =>
        authenticate(warden.store.db, bearer(agent.token), warden.clock).then(
          () => 'accepted',
          (e: unknown) => (isWardenError(e) ? e.code : 'other'),
        ),
    );
    assert.ok(['accepted', 'UNAUTHENTICATED'].includes(signedIn), signedIn);
    await assert.rejects(authenticate(warden.store.db, bearer(agent.token), warden.clock), unauthenticated);
    assert.deepEqual(logged, [], 'no CONTROL_PLANE_TAMPERED for an honest change');
  } finally {
    await warden.close();
  }
});

test('a loosened policy is refused: the identity gets the tampered deny-all, not the default', async () => {
  await withNewWarden(async (warden) => {
    await setPolicyAudited(warden, 'bot', POLICY_TEMPLATES['deny-all']!);
    await setPolicyAudited(warden, null, ALLOW_NOSTR); // a looser default must not be the fallback
    const before = await loadPolicy(warden.store.db, 'bot');
    assert.equal(before.source, 'identity');

    const db = raw(warden.layout.dir);
    const { policyHash } = await import('../../src/gateway/policies.ts');
    db.prepare('UPDATE policy SET document = ?, hash = ? WHERE identity = ?').run(
      ALLOW_NOSTR,
      policyHash(ALLOW_NOSTR),
      'bot',
    );
    db.close();

    await assertTamperedPolicyDeniesThenHeals(warden, 'mac-mismatch');
  });
});

test('a revoked token put back as it was before (old MAC) stays refused: over HTTP, for holds, by verify', async () => {
  const { startTestGateway, tokenParts } = await import('../helpers/gateway.ts');
  const gw = await startTestGateway({ identities: ['bot'] });
  const token = await gw.token('viewer');
  const { id } = tokenParts(token);
  const list = () => gw.call('GET', '/v1/identities', { token });
  assert.equal((await list()).status, 200);
  const db = raw(gw.warden.layout.dir);
  const saved = db.prepare('SELECT revoked_at, mac FROM token WHERE id = ?').get(id) as {
    revoked_at: null;
    mac: Buffer;
  };
  const { revokeTokenAudited } = await import('../../src/gateway/admin.ts');
  await revokeTokenAudited(gw.warden, id);
  assert.equal((await list()).status, 401);
  db.prepare('UPDATE token SET revoked_at = ?, mac = ? WHERE id = ?').run(saved.revoked_at, saved.mac, id);
  db.close();

  // The audit log records the revocation: the row's valid MAC does not bring the token back.
  assert.equal((await list()).status, 401);
  const { warden } = gw;
  await assert.rejects(authenticate(warden.store.db, bearer(token), warden.clock), unauthenticated);
  const { tokenStillValid } = await import('../../src/gateway/tokens.ts');
  assert.equal(await tokenStillValid(warden.store.db, id, warden.clock.now()), false);
  assert.equal(
    await warden.store.transaction((tx) => tokenStillValid(tx, id, warden.clock.now())),
    false,
    'inside a transaction (hold release) too',
  );
  assert.equal((await tokens(warden)).find((t) => t.id === id)?.tampered, 'rolled-back');
  const verified = await warden.verifyAudit();
  assert.equal(verified.ok, false);
  assert.deepEqual(verified.controlPlane, [
    { code: 'CONTROL_PLANE_TAMPERED', table: 'token', id, reason: 'rolled-back' },
  ]);
});

test('a revocation by another process is seen within about a second', async () => {
  await withNewWarden(async (warden) => {
    const t = await createTokenAudited(warden, {
      role: 'viewer',
      identity: null,
      capabilities: [],
      label: 'x',
    });
    const db = raw(warden.layout.dir);
    const saved = db.prepare('SELECT revoked_at, mac FROM token WHERE id = ?').get(t.info.id) as {
      revoked_at: null;
      mac: Buffer;
    };
    db.close();
    // Another Warden process on the same home revokes it (here: a second handle, its own witness).
    const other = await Warden.unseal(options(warden.layout.dir), passphrase());
    try {
      const { revokeTokenAudited } = await import('../../src/gateway/admin.ts');
      await revokeTokenAudited(other, t.info.id);
    } finally {
      await other.close();
    }
    const db2 = raw(warden.layout.dir);
    db2
      .prepare('UPDATE token SET revoked_at = ?, mac = ? WHERE id = ?')
      .run(saved.revoked_at, saved.mac, t.info.id);
    db2.close();
    await new Promise((r) => setTimeout(r, 1100));
    await assert.rejects(authenticate(warden.store.db, bearer(t.token), warden.clock), unauthenticated);
  });
});

test('a deleted policy row is not a fallback to the default: deny-all, and audit verify names it', async () => {
  await withNewWarden(async (warden) => {
    await setPolicyAudited(warden, 'bot', POLICY_TEMPLATES['deny-all']!);
    await setPolicyAudited(warden, null, ALLOW_NOSTR); // the looser default a deletion would expose
    assert.equal((await loadPolicy(warden.store.db, 'bot')).source, 'identity');
    const db = raw(warden.layout.dir);
    db.prepare("DELETE FROM policy WHERE identity = 'bot'").run();
    db.close();

    await assertTamperedPolicyDeniesThenHeals(warden, 'deleted');
  });
});

test('an older, looser policy row put back with its old MAC gives deny-all (HTTP, after unseal, verify)', async () => {
  const { startTestGateway } = await import('../helpers/gateway.ts');
  const gw = await startTestGateway({ identities: ['bot'], policies: { bot: ALLOW_NOSTR } });
  const agent = await gw.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  const sign = () => gw.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: 'hi' } });
  assert.equal((await sign()).status, 200);
  const db = raw(gw.warden.layout.dir);
  const looser = db.prepare("SELECT * FROM policy WHERE identity = 'bot'").get() as Record<string, unknown>;
  await setPolicyAudited(gw.warden, 'bot', POLICY_TEMPLATES['deny-all']!);
  assert.equal((await sign()).status, 403);
  db.prepare(
    "UPDATE policy SET document = ?, hash = ?, set_at = ?, set_by = ?, mac = ? WHERE identity = 'bot'",
  ).run(looser.document, looser.hash, looser.set_at, looser.set_by, looser.mac);
  db.close();

  const refused = await sign();
  assert.equal(refused.status, 403);
  assert.match(JSON.stringify(refused.body), /policy-tampered/);
  const loaded = await loadPolicy(gw.warden.store.db, 'bot');
  assert.deepEqual(loaded.problem, { code: 'POLICY_TAMPERED', identity: 'bot', reason: 'rolled-back' });
  assert.deepEqual((await gw.warden.verifyAudit()).controlPlane, [
    { code: 'CONTROL_PLANE_TAMPERED', table: 'policy', id: 'bot', reason: 'rolled-back' },
  ]);
  // A new unseal builds the same from the audit log.
  const again = await Warden.unseal(options(gw.warden.layout.dir), passphrase());
  try {
    const fresh = await again.store.transaction((tx) => loadPolicy(tx, 'bot'));
    assert.equal(fresh.source, 'tampered');
  } finally {
    await again.close();
  }
});

test('`warden audit verify` names tampered rows and exits 1; sealed it says it cannot check them', async () => {
  const warden = await newWarden();
  const home = warden.layout.dir;
  await createTokenAudited(warden, {
    role: 'agent',
    identity: 'bot',
    capabilities: ['nostr:sign'],
    label: 'ok',
  });
  await warden.close();
  const dir = tempDir('cp-cli');
  const pass = writeFileMode(dir, 'pass.txt', TEST_PASSPHRASE);

  const clean = await runWarden(['--home', home, 'audit', 'verify', '--passphrase-file', pass]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, /control plane \(tokens, policies\): every row authenticates/);

  const db = raw(home);
  const planted = plantToken(db, { role: 'admin', mac: null });
  db.close();
  const plantedId = planted.split('_').slice(1, 3).join('_');

  const bad = await runWarden(['--home', home, 'audit', 'verify', '--passphrase-file', pass]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /CONTROL_PLANE_TAMPERED/);
  assert.ok(bad.stderr.includes(`token:${plantedId}`), bad.stderr);

  const sealed = await runWarden(['--home', home, 'audit', 'verify']);
  assert.equal(sealed.code, 0, sealed.stderr);
  assert.match(sealed.stdout, /cannot be checked without the vault key/);
});

test('an HTTP request with a planted admin token is 401; a policy edited by hand denies signing', async () => {
  const { startTestGateway } = await import('../helpers/gateway.ts');
  const gw = await startTestGateway({ identities: ['bot'], policies: { bot: ALLOW_NOSTR } });
  const agent = await gw.token('agent', { identity: 'bot', capabilities: ['nostr:sign'] });
  const sign = () => gw.call('POST', '/v1/nostr/sign', { token: agent, body: { kind: 1, content: 'hi' } });
  assert.equal((await sign()).status, 200);

  const db = raw(gw.warden.layout.dir);
  const planted = plantToken(db, { role: 'admin', mac: null });
  assert.equal((await gw.call('GET', '/v1/identities', { token: planted })).status, 401);
  db.prepare("UPDATE policy SET set_by = 'someone else' WHERE identity = 'bot'").run();
  db.close();
  const refused = await sign();
  assert.equal(refused.status, 403);
  assert.match(JSON.stringify(refused.body), /policy-tampered/);
});

/**
 * A vault from before control-plane MACs: its first audit record carries no marker, and its rows
 * have no MAC. Built with the real Vault and audit log, only without the marker.
 */
async function legacyHome() {
  const layout = tempHome('legacy');
  const clock = systemClock;
  const vault = await Vault.create(layout, passphrase(), clock, TEST_KDF);
  const store = await openSqliteStore(layout.database);
  await rememberAuditPublicKey(store, vault.auditKeys());
  vault.setAuditSink(async (event) => {
    const { controlPlane: _marker, ...details } = event.details as Record<string, string>;
    await appendAudit(
      store,
      vault.auditKeys(),
      {
        actor: 'cli:old',
        identity: event.identity,
        action: event.action,
        outcome: 'ok',
        summary: { operationId: randomId('op'), protocol: 'vault' },
        details,
      },
      clock,
    );
  });
  await vault.commitNew('vault.init');
  await vault.createIdentity('bot', 'regtest');
  await store.close();
  vault.seal();
  return layout.dir;
}

test('old rows without a MAC are adopted once at unseal, only where the audit log vouches for them', async () => {
  const home = await legacyHome();
  let warden = await Warden.unseal(options(home), passphrase());
  const genuine = await createTokenAudited(warden, {
    role: 'agent',
    identity: 'bot',
    capabilities: ['nostr:sign'],
    label: 'old',
  });
  await setPolicyAudited(warden, 'bot', ALLOW_NOSTR);
  await warden.close();

  // As an older Warden left them: no MACs. Plus a row the log knows nothing about.
  let db = raw(home);
  db.prepare('UPDATE token SET mac = NULL').run();
  db.prepare('UPDATE policy SET mac = NULL').run();
  const planted = plantToken(db, { role: 'admin', mac: null });
  db.close();

  warden = await Warden.unseal(options(home), passphrase());
  try {
    assert.equal(
      (await authenticate(warden.store.db, bearer(genuine.token), warden.clock)).tokenId,
      genuine.info.id,
    );
    assert.equal((await loadPolicy(warden.store.db, 'bot')).source, 'identity');
    await assert.rejects(authenticate(warden.store.db, bearer(planted), warden.clock), unauthenticated);
    const adopt = (await warden.showAudit({ limit: 10 })).filter((r) => r.action === 'control-plane.adopt');
    assert.equal(adopt.length, 1);
    const details = adopt[0]!.details as { adopted: string[]; refused: string[] };
    assert.deepEqual(details.adopted.sort(), [`policy:bot`, `token:${genuine.info.id}`].sort());
    assert.equal(details.refused.length, 1);
    const verified = await warden.verifyAudit();
    assert.equal(verified.controlPlane?.length, 1, 'only the planted row stays refused');
  } finally {
    await warden.close();
  }

  // Adoption happens once: a row stripped of its MAC later is never adopted again.
  db = raw(home);
  db.prepare('UPDATE token SET mac = NULL WHERE id = ?').run(genuine.info.id);
  db.close();
  warden = await Warden.unseal(options(home), passphrase());
  try {
    await assert.rejects(authenticate(warden.store.db, bearer(genuine.token), warden.clock), unauthenticated);
  } finally {
    await warden.close();
  }
});

test('a vault born with MACs never adopts a row without one', async () => {
  const warden = await newWarden();
  const home = warden.layout.dir;
  const token = await createTokenAudited(warden, {
    role: 'agent',
    identity: 'bot',
    capabilities: ['nostr:sign'],
    label: 'new',
  });
  await warden.close();
  const db = raw(home);
  db.prepare('UPDATE token SET mac = NULL').run();
  db.close();
  const again = await Warden.unseal(options(home), passphrase());
  try {
    await assert.rejects(authenticate(again.store.db, bearer(token.token), again.clock), unauthenticated);
    assert.equal(
      (await again.showAudit({ limit: 20 })).filter((r) => r.action === 'control-plane.adopt').length,
      0,
    );
  } finally {
    await again.close();
  }
});
