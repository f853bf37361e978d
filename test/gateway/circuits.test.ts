import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Circuits, ROTATE_CIRCUITS_ACTION } from '../../src/gateway/circuits.ts';
import { createIsolation, processIsolation } from '../../src/net/isolation.ts';
import { startTestGateway } from '../helpers/gateway.ts';

/**
 * Circuit rotation as the gateway keeps it: an audited record per rotation, applied at once by the
 * process that wrote it and followed from the log by any other (the running server, when the CLI
 * wrote it). Tor's side (the circuits themselves) is in test/net/tor.test.ts.
 */
const g = await startTestGateway({ identities: ['alice', 'bob'] });
const nonce = (iso: { credentials(i: string | null): { username: string } }, identity: string | null) =>
  iso.credentials(identity).username;

test('POST /v1/identities/:name/circuits/rotate: operators rotate one identity, audited; agents may not', async () => {
  const operator = await g.token('operator');
  const agent = await g.token('agent', { identity: 'alice', capabilities: ['nostr:sign'] });
  const before = { alice: nonce(processIsolation, 'alice'), bob: nonce(processIsolation, 'bob') };
  const own = nonce(processIsolation, null);

  const r = await g.call('POST', '/v1/identities/alice/circuits/rotate', {
    token: operator,
    body: { reason: 'incident 7: relay operator may watch alice' },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.rotated.identity, 'alice');
  assert.notEqual(nonce(processIsolation, 'alice'), before.alice, 'alice has a new nonce');
  assert.equal(nonce(processIsolation, 'bob'), before.bob, "bob's stays");
  assert.equal(nonce(processIsolation, null), own, "Warden's own stays");

  const record = await g.warden.store.db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '=', r.body.rotated.seq)
    .executeTakeFirstOrThrow();
  assert.equal(record.action, ROTATE_CIRCUITS_ACTION);
  assert.equal(record.identity, 'alice');
  const shown = (await g.warden.showAudit({ identity: 'alice' })).filter((v) => v.seq === r.body.rotated.seq);
  assert.deepEqual(shown[0]?.details, {
    identity: 'alice',
    reason: 'incident 7: relay operator may watch alice',
  });

  // A body is optional; one with anything but a reason is refused, and rotates nothing.
  const bare = await g.call('POST', '/v1/identities/bob/circuits/rotate', { token: operator });
  assert.equal(bare.status, 200, JSON.stringify(bare.body));
  const bobNow = nonce(processIsolation, 'bob');
  for (const body of [{ why: 'x' }, { reason: 'x'.repeat(501) }, { reason: 7 }]) {
    const bad = await g.call('POST', '/v1/identities/bob/circuits/rotate', { token: operator, body });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(bad.body.error.code, 'INVALID_REQUEST');
  }
  assert.equal(nonce(processIsolation, 'bob'), bobNow);

  const refused = await g.call('POST', '/v1/identities/alice/circuits/rotate', { token: agent });
  assert.equal(refused.status, 403);
  const unknown = await g.call('POST', '/v1/identities/carol/circuits/rotate', { token: operator });
  assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
  assert.equal(unknown.body.error.code, 'IDENTITY_NOT_FOUND');
  const noToken = await g.call('POST', '/v1/identities/alice/circuits/rotate');
  assert.equal(noToken.status, 401);
  // Neither refusal wrote a rotation.
  const rotations = await g.warden.store.db
    .selectFrom('audit_log')
    .select('seq')
    .where('action', '=', ROTATE_CIRCUITS_ACTION)
    .execute();
  assert.equal(rotations.length, 2, "alice's and bob's");
});

test("another process's rotations are followed from the log, key rotations applied at once, each once", async () => {
  // A second follower with its own isolation stands for the server while this gateway's admin
  // service stands for the CLI writing the records.
  const isolation = createIsolation();
  const server = new Circuits(g.warden, isolation);
  assert.deepEqual(await server.follow(), [], 'the first call only finds where the log stands');
  const alice = nonce(isolation, 'alice');
  const bob = nonce(isolation, 'bob');

  await g.gateway.circuits.rotate('alice');
  assert.deepEqual(await server.follow(), ['alice']);
  const alice2 = nonce(isolation, 'alice');
  assert.notEqual(alice2, alice);
  assert.equal(nonce(isolation, 'bob'), bob);
  assert.deepEqual(await server.follow(), [], 'nothing new: nothing rotated again');
  assert.equal(nonce(isolation, 'alice'), alice2);

  // A key rotation gives the identity new circuits at once, not a second later from the log.
  await g.warden.rotate('bob', 'nostr');
  assert.notEqual(nonce(isolation, 'bob'), bob);
  assert.equal(nonce(isolation, 'alice'), alice2);
  assert.deepEqual(await server.follow(), [], 'and not a second time from its audit record');

  // Its own rotation is applied as it is written, and not a second time when it reads it back.
  const { seq } = await server.rotate('alice');
  const alice3 = nonce(isolation, 'alice');
  assert.notEqual(alice3, alice2);
  assert.deepEqual(await server.follow(), []);
  assert.equal(nonce(isolation, 'alice'), alice3);
  assert.ok(seq > 0);

  // A rotation refused (no such identity) writes nothing to follow.
  await assert.rejects(server.rotate('carol'), { code: 'IDENTITY_NOT_FOUND' });
  assert.deepEqual(await server.follow(), []);
});
