// The foundation's end-to-end check: the proxy serves /healthz, the page and pkg/, and the built
// library runs in Chromium.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, startProxy } from '../../scripts/harness.mjs';

let proxy;
let browser;

before(async () => {
  proxy = await startProxy();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

test('healthz answers 200', async () => {
  const res = await fetch(`${proxy.url}/healthz`);
  assert.equal(res.status, 200);
});

test('pkg/ serves the wasm module with its MIME type', async () => {
  const res = await fetch(`${proxy.url}/pkg/faceswap_wasm_bg.wasm`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/wasm');
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
});

test('the demo page loads the library without errors', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(proxy.url);
  await page.waitForSelector('body[data-ready="true"]');
  const credits = await page.evaluate(async () => (await import('/pkg/faceswap_wasm.js')).estimateCredits('videoFaceSwap', { duration: 5 }));
  assert.equal(credits, 10);
  assert.deepEqual(errors, []);
});
