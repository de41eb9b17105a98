// The package as users get it: `npm pack`, installed from the tarball into a fresh Vite app and a
// fresh webpack app that each import one provider entry (`faceswap-wasm/piapi`,
// `faceswap-wasm/acedata`), built for production, served by the proxy in sandbox mode, and run
// in headless Chromium: a swap ends succeeded, the price is the catalog's, and the face detector
// and the media helpers are fetched only on their first use, after bundling too, and so are the
// people finder and its model, which find the two people of a video.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packTarball, viteApp, webpackApp } from '../../scripts/bundle-app.mjs';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';
import { file } from './page.mjs';

const apps = [
  { tool: 'Vite', build: viteApp, provider: 'piapi', cost: { amount: 0.01, unit: 'usd' } },
  { tool: 'webpack', build: webpackApp, provider: 'acedata', cost: { amount: 1, unit: 'requests' } },
];
let tarball;
let browser;
const proxies = [];

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  tarball = packTarball();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all(proxies.map((proxy) => proxy.stop()));
});

const media = { target: file('astronaut.png'), face: file('camera.png') };

for (const app of apps) {
  describe(`a ${app.tool} production build importing faceswap-wasm/${app.provider}`, () => {
    let page;
    const requested = [];

    before(async () => {
      const dist = await app.build(tarball, app.provider);
      const proxy = await startProxy({ WWW_DIR: dist });
      proxies.push(proxy);
      page = await browser.newPage();
      page.on('request', (request) => requested.push(new URL(request.url()).pathname));
      await page.goto(`${proxy.url}/`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    });

    test('swaps a face through the proxy and the sandbox, priced by the catalog', async () => {
      const result = await page.evaluate(async ({ target, face }) => {
        const blob = ({ base64, type }) => new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
        try {
          const task = await window.app.swap(blob(target), blob(face));
          return { task, cost: await window.app.cost() };
        } catch (e) {
          return { error: { code: e.code, message: e.message } };
        }
      }, media);
      assert.ok(!result.error, JSON.stringify(result.error));
      assert.equal(result.task.provider, app.provider);
      assert.equal(result.task.status, 'succeeded');
      assert.ok(result.task.resultUrl);
      assert.deepEqual(result.cost, app.cost);
    });

    test('loads the face detector and the media helpers only on first use', async () => {
      const detector = (paths) => paths.filter((path) => /faceswap_detect|worker/.test(path));
      const media = (paths) => paths.filter((path) => /media/.test(path));
      assert.deepEqual(detector(requested), [], 'nothing of the detector before detectFaces');
      assert.deepEqual(media(requested), [], 'nothing of the media helpers before cropFaces');
      const photo = file('astronaut.png');
      const crops = await page.evaluate(async ({ base64, type }) => {
        const blob = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
        const { boxes } = await window.app.detect(blob);
        return (await window.app.crop(base64, boxes)).length;
      }, photo);
      assert.equal(crops, 1, 'one face found and cropped');
      assert.ok(detector(requested).length > 0, JSON.stringify(requested));
      assert.ok(media(requested).length > 0, JSON.stringify(requested));
    });

    test('finds the people in a video with the people finder and its model, loaded on first use', async () => {
      const people = (paths) => paths.filter((path) => /face_recognition_model/.test(path));
      assert.deepEqual(people(requested), [], 'nothing of the people finder before findPeople');
      const video = file('people-side.mp4', 'video/mp4');
      const seen = await page.evaluate(async ({ base64, type }) => {
        const blob = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
        return window.app.people(blob);
      }, video);
      assert.deepEqual(seen, [10, 10], 'two people, each in all 10 samples');
      assert.equal(people(requested).length, 2, JSON.stringify(requested));
    });
  });
}
