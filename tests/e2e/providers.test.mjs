// The demo's reading of `GET /api/config`: the proxy's provider list when it sends one, and the
// single-provider answer of a proxy that does not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FACE_SWAP_OPERATIONS, providersOf } from '../../www/providers.js';

test('a config with providers lists them as sent', () => {
  const providers = [
    { id: 'aifaceswap', mode: 'sandbox', operations: ['faceSwap'] },
    { id: 'piapi', mode: 'live', operations: ['faceSwap', 'videoFaceSwap'] },
  ];
  assert.deepEqual(providersOf({ mode: 'sandbox', provider: 'aifaceswap', providers }), providers);
});

test('a config without providers is its one provider with every FaceSwapClient operation', () => {
  assert.deepEqual(providersOf({ mode: 'live', provider: 'aifaceswap' }), [
    { id: 'aifaceswap', mode: 'live', operations: FACE_SWAP_OPERATIONS },
  ]);
  assert.equal(FACE_SWAP_OPERATIONS.length, 6);
  assert.deepEqual(providersOf({}), []);
});
