// The proxy's OpenAPI document (`GET /api/openapi.json`) passes a maintained validator,
// @apidevtools/swagger-parser (the official OpenAPI 3.1 schema, and every `$ref` resolved), and
// documents the routes of every provider the proxy serves. That every route of the router is in it
// is checked by the proxy's own test (`openapi::tests`).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startProxy } from '../../scripts/harness.mjs';

let proxy;

before(async () => {
  proxy = await startProxy();
});

after(async () => {
  await proxy?.stop();
});

test('the document is valid OpenAPI 3.1 and covers every served provider', async () => {
  const res = await fetch(`${proxy.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const document = await res.json();
  assert.match(document.openapi, /^3\.1\./);
  // validate() dereferences in place: give it a copy.
  await SwaggerParser.validate(structuredClone(document));
  const config = await (await fetch(`${proxy.url}/api/config`)).json();
  assert.ok(config.providers.length >= 4);
  for (const provider of config.providers) {
    assert.ok(document.paths[`/api/${provider.id}/tasks/{task_id}`], provider.id);
    for (const operation of provider.operationDetails) {
      assert.ok(document.paths[`/api/${provider.id}/${operation.route}`]?.post, `${provider.id} ${operation.route}`);
    }
  }
  for (const path of ['/api/uploads', '/api/config', '/api/openapi.json', '/healthz', '/hooks/{provider}/{token}', '/uploads/{name}']) {
    assert.ok(document.paths[path], path);
  }
});

test('a broken document is refused by the validator', async () => {
  const document = await (await fetch(`${proxy.url}/api/openapi.json`)).json();
  const broken = structuredClone(document);
  broken.paths['/healthz'].get.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Nowhere' };
  await assert.rejects(SwaggerParser.validate(broken));
});
