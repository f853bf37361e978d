import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { initCliVault, runWarden, writeFileMode } from '../helpers/cli.ts';
import { TEST_PASSPHRASE } from '../helpers/home.ts';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

describe('the CLI says what it is about', () => {
  test('warden --version; usage errors and policy template with --json', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runWarden([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), VERSION);
    }
    for (const args of [
      ['--json', 'identity', 'frobnicate'],
      ['--json', 'start', '--no-such-option'],
      ['--json', 'start', '--port', 'eighty'],
    ]) {
      const r = await runWarden(args);
      assert.equal(r.code, 2, args.join(' '));
      const error = JSON.parse(r.stdout).error;
      assert.equal(error.code, 'USAGE', args.join(' '));
      assert.ok(error.message.length > 0);
    }
    const template = await runWarden(['--json', 'policy', 'template', 'guidelines-default']);
    assert.equal(template.code, 0, template.stderr);
    const doc = JSON.parse(template.stdout);
    assert.equal(doc.name, 'guidelines-default');
    assert.match(doc.template, /^name: guidelines-default$/m);
  });

  test('errors name their subject; POLICY_INVALID lists every problem; policy test exits 1 on a denial', async () => {
    const v = await initCliVault('newcomer', TEST_PASSPHRASE);
    for (const name of ['alice', 'bob']) assert.equal((await v.w('identity', 'create', name)).code, 0);
    const missing = await v.w('identity', 'show', 'carol');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^IDENTITY_NOT_FOUND: no identity "carol"; existing: alice, bob$/m);

    const open = writeFileMode(v.dir, 'open-pass', `${TEST_PASSPHRASE}\n`, 0o644);
    const perms = await v.run('status', '--passphrase-file', open);
    assert.equal(perms.code, 1);
    assert.ok(perms.stderr.includes(`FILE_PERMISSIONS_TOO_OPEN: ${open} is readable`), perms.stderr);
    assert.ok(perms.stderr.includes(`chmod 600 ${open}`));

    const bad = writeFileMode(
      v.dir,
      'bad.yaml',
      [
        'version: 1',
        'name: bad',
        'colour: blue',
        'rules:',
        '  - id: x',
        '    effect: allow',
        '    limits: [{ window: 2x, max_count: 1 }]',
        '  - id: y',
        '    effect: perhaps',
        '',
      ].join('\n'),
    );
    const refused = await v.w('policy', 'set', bad, '--identity', 'alice');
    assert.equal(refused.code, 1);
    const more = Number(
      /^POLICY_INVALID: colour: unknown field \(and (\d+) more problems\)$/m.exec(refused.stderr)?.[1],
    );
    assert.ok(more >= 2, refused.stderr);
    // Each problem on its own line, the first included: one run shows every fix to make.
    assert.equal(refused.stderr.match(/^ {2}- /gm)?.length, more + 1);
    for (const line of [
      /^ {2}- colour: unknown field$/m,
      /^ {2}- rules\[0\]\.limits\[0\]\.window: /m,
      /^ {2}- rules\[1\]\.effect: /m,
    ])
      assert.match(refused.stderr, line);
    const json = JSON.parse((await v.w('--json', 'policy', 'set', bad, '--identity', 'alice')).stdout);
    assert.equal(json.error.details.problems, more + 1);
    assert.equal(json.error.details.problemList.split('\n').length, more + 1);

    const policy = writeFileMode(
      v.dir,
      'notes.yaml',
      'version: 1\nname: notes\nrules:\n  - { id: notes, match: { protocol: nostr, kind: [1] }, effect: allow }\n  - { id: dms, match: { protocol: nostr, kind: [4] }, effect: deny }\n',
    );
    assert.equal((await v.w('policy', 'set', policy, '--identity', 'alice')).code, 0);
    const request = (kind: number) =>
      writeFileMode(
        v.dir,
        `req-${kind}.json`,
        JSON.stringify({ operation: 'nostr.sign', identity: 'alice', request: { kind, content: 'x' } }),
      );
    const allowed = await v.w('policy', 'test', request(1));
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^ALLOW/);
    const denied = await v.w('policy', 'test', request(4));
    assert.equal(denied.code, 1, 'a denial is exit 1');
    assert.match(denied.stdout, /^DENY/);
    assert.equal(denied.stderr, '', 'printed as an answer, not as an error');
  });

  test('audit show --limit N shows the newest N records, with or without --since', async () => {
    const v = await initCliVault('audit-limit', TEST_PASSPHRASE);
    for (const name of ['a1', 'a2', 'a3']) assert.equal((await v.w('identity', 'create', name)).code, 0);
    const all = JSON.parse((await v.w('--json', 'audit', 'show', '--limit', '1000')).stdout);
    const seqs = all.map((r: { seq: number }) => r.seq);
    for (const extra of [[], ['--since', '1h']]) {
      const two = JSON.parse((await v.w('--json', 'audit', 'show', '--limit', '2', ...extra)).stdout);
      // The newest two at the time of the call: the unseal of this very call is among them.
      const shown = two.map((r: { seq: number }) => r.seq);
      assert.equal(shown.length, 2);
      assert.ok(shown[0] < shown[1], 'oldest first');
      assert.ok(shown[0] > seqs[seqs.length - 2]!, `${extra.join(' ')}: newest, not oldest (${shown})`);
    }
  });
});
