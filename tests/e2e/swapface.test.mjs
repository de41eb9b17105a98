// swapFace(provider, { target, face }) from the built package in headless Chromium, against the
// real proxy in sandbox mode: the one-face swap on each of the four providers, followed with that
// provider's client, each result image loaded in the page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';
import { file, inPage } from './page.mjs';

let proxy;
let browser;
let page;

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  proxy = await startProxy({ POLL_INTERVAL_MS: '200' });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

const CLASSES = {
  aifaceswap: 'FaceSwapClient', piapi: 'PiApiClient', aiphotocraft: 'AiPhotoCraftClient', acedata: 'AceDataClient',
};

for (const [provider, className] of Object.entries(CLASSES)) {
  test(`swapFace on ${provider}: the face onto the target, followed with ${className}`, async () => {
    const result = await inPage(page, null, async (lib, client, blobs, args) => {
      const created = await lib.swapFace(args.provider, { target: blobs.target, face: blobs.face }, { baseUrl: '/api' });
      const follower = new lib[args.className]({ baseUrl: '/api' });
      const task = await follower.waitForResult(created.taskId, { timeoutMs: 60_000 });
      const image = await createImageBitmap(await (await fetch(task.resultUrl)).blob());
      return { created, task, size: [image.width, image.height] };
    }, { provider, className, files: { target: file('astronaut.png'), face: file('camera.png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.created.provider, provider);
    assert.equal(result.ok.task.provider, provider);
    assert.equal(result.ok.task.status, 'succeeded');
    assert.deepEqual(result.ok.size, [512, 512]);
  });
}

test('swapFace names its own fields and refuses an unknown provider', async () => {
  const result = await inPage(page, null, async (lib) => {
    const errors = [];
    for (const [provider, request] of [['fal', { target: 'https://x.example/a.png', face: 'https://x.example/b.png' }], ['acedata', { target: 'nope', face: 'https://x.example/b.png' }]]) {
      try { await lib.swapFace(provider, request); } catch (e) { errors.push([e.code, e.field]); }
    }
    return errors;
  });
  assert.ok(result.ok, JSON.stringify(result.error));
  assert.deepEqual(result.ok, [['invalid_parameter', 'provider'], ['invalid_parameter', 'target']]);
});
