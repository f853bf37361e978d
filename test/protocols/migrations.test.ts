import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROTOCOL_MIGRATIONS } from '../../src/protocols/migrations.ts';
import { MODULE_MIGRATIONS, MODULES } from '../../src/protocols/registry.ts';

test('the store opens with exactly the migrations the registered modules declare', () => {
  assert.deepEqual(Object.keys(PROTOCOL_MIGRATIONS).sort(), Object.keys(MODULE_MIGRATIONS).sort());
  for (const [name, migration] of Object.entries(MODULE_MIGRATIONS)) {
    assert.equal(PROTOCOL_MIGRATIONS[name], migration, `${name} is the module's own object`);
  }
  for (const m of MODULES) {
    for (const name of Object.keys(m.migrations ?? {})) {
      assert.ok(name.startsWith(`${m.name}/`), `${name}: a module's migrations are named after it`);
    }
  }
});
