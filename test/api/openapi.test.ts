import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createHttpApp } from '../../src/api/http/app.ts';
import { BASE_UNITS_PATTERN } from '../../src/core/validate.ts';
import { startTestGateway } from '../helpers/gateway.ts';

const PACKAGE_VERSION = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

/** `/v1/requests/:id` → `/v1/requests/{id}`, as OpenAPI writes a path parameter. */
const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document', async () => {
  // With EVM enabled, every operation route the app registers is an enabled operation.
  const g = await startTestGateway({
    identities: ['alice'],
    evmRpc: new Map([[31337, 'http://127.0.0.1:9']]),
  });
  const served = await g.call('GET', '/v1/openapi.json');

  test('the served document passes a real OpenAPI validator (swagger-parser)', async () => {
    assert.equal(served.status, 200);
    // validate() dereferences in place: give it a copy so the checks below see the document as served.
    await SwaggerParser.validate(structuredClone(served.body));
    assert.equal(served.body.openapi, '3.1.0');
    assert.equal(served.body.info.version, PACKAGE_VERSION);
  });

  test('it lists every route the app serves, and nothing it does not', () => {
    const app = createHttpApp(g.gateway);
    const routes = new Set(
      app.routes
        .filter((r) => r.method === 'GET' || r.method === 'POST')
        .filter((r) => !r.path.includes('*'))
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(served.body.paths as Record<string, object>))
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    const undocumented = [...routes].filter((r) => !documented.has(r));
    assert.deepEqual(undocumented, [], 'served but not in the OpenAPI document');
    const unserved = [...documented].filter((r) => !routes.has(r));
    assert.deepEqual(unserved, [], 'documented but not served');
    assert.ok(routes.size >= 14, `the app has its routes (${routes.size})`);
  });

  test('every path parameter is declared, amounts are decimal strings, bodies may be refused with 415', () => {
    for (const [path, item] of Object.entries(served.body.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
        const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        assert.deepEqual(declared.sort(), inPath.sort(), `${method} ${path}: path parameters`);
        for (const [code, r] of Object.entries(op.responses as Record<string, any>))
          assert.ok(r.description, `${method} ${path} ${code}: a description`);
        assert.ok(op.responses['421'], `${method} ${path}: 421 for a foreign Host`);
        if (method === 'post') assert.ok(op.responses['415'], `${method} ${path}: 415`);
      }
    }
    const ledger = served.body.paths['/v1/ledger'].get.parameters;
    assert.ok(ledger.some((p: any) => p.name === 'identity' && p.in === 'query'));
    const value =
      served.body.paths['/v1/evm/send'].post.requestBody.content['application/json'].schema.properties.value;
    assert.equal(value.type, 'string');
    assert.equal(value.pattern, BASE_UNITS_PATTERN.source);
    const re = new RegExp(value.pattern);
    assert.ok(re.test('0') && re.test('1000000000000000000'));
    assert.ok(!re.test('01') && !re.test('1e18') && !re.test('-1') && !re.test(''));
  });
});
