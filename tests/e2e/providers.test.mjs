// The demo's reading of `GET /api/config`: the proxy's provider list when it sends one, and the
// single-provider answer of a proxy that does not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FACE_SWAP_OPERATIONS, FACE_SWAP_PROVIDER, modeSummary, providersOf } from '../../www/providers.js';

test('a config with providers lists them as sent', () => {
  const providers = [
    { id: 'aifaceswap', mode: 'sandbox', operations: ['faceSwap'] },
    { id: 'piapi', mode: 'live', operations: ['faceSwap', 'videoFaceSwap'] },
  ];
  assert.deepEqual(providersOf({ mode: 'sandbox', provider: 'aifaceswap', providers }), providers);
});

test('a config without providers is its one provider with every FaceSwapClient operation', () => {
  assert.deepEqual(providersOf({ mode: 'live', provider: 'aifaceswap' }), [
    { id: 'aifaceswap', mode: 'live', ...FACE_SWAP_PROVIDER },
  ]);
  assert.equal(FACE_SWAP_PROVIDER.operations, FACE_SWAP_OPERATIONS);
  assert.equal(FACE_SWAP_OPERATIONS.length, 6);
  assert.deepEqual(providersOf({}), []);
});

test('the badge says what answers: the sandbox, the live providers, or which of each', () => {
  const sandbox = (id) => ({ id, mode: 'sandbox' });
  const live = (id) => ({ id, mode: 'live' });
  assert.deepEqual(modeSummary([sandbox('a'), sandbox('b')]), { text: 'Sandbox: local providers, no key, no credits', kind: 'sandbox' });
  assert.deepEqual(modeSummary([live('a'), live('b')]), { text: 'Live: a, b', kind: 'provider' });
  assert.deepEqual(modeSummary([live('a'), sandbox('b'), sandbox('c')]), { text: 'Live: a · Sandbox: b, c', kind: 'provider' });
  assert.equal(modeSummary([]).text, 'No provider served');
});

test("the demo's scripts name no registered provider: they read them from /api/config", () => {
  const root = new URL('../../', import.meta.url).pathname;
  const registry = readFileSync(join(root, 'crates/core/src/registry.rs'), 'utf8');
  const ids = [...registry.matchAll(/crate::(\w+)::CATALOG/g)].map((m) => m[1]);
  assert.ok(ids.length >= 4, `registry ids: ${ids}`);
  const www = join(root, 'www');
  const scripts = [
    ...readdirSync(www).filter((f) => f.endsWith('.js')),
    ...readdirSync(join(www, 'flows')).filter((f) => f.endsWith('.js')).map((f) => join('flows', f)),
    'index.html',
  ];
  for (const file of scripts) {
    const text = readFileSync(join(www, file), 'utf8').toLowerCase();
    for (const id of ids) assert.ok(!text.includes(id), `www/${file} names ${id}`);
  }
});
