// PiApiClient from the built package (pkg/faceswap_wasm.js) in headless Chromium, against the real
// proxy in sandbox mode: the three PiAPI operations end to end (Blobs uploaded first, the result
// image or video loaded in the page), their prices, and bad input refused with its field before
// any request.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';

const media = join(root, 'target', 'test-media');
let proxy;
let browser;
let page;

/** Runs `fn(lib, client, blobs, args)` in the page with the package loaded and a PiApiClient. */
function inPage(fn, args = {}) {
  return page.evaluate(
    async ({ source, args }) => {
      const lib = await import('/pkg/faceswap_wasm.js');
      await lib.default();
      const client = new lib.PiApiClient({ baseUrl: '/api', timeoutMs: 60_000 });
      const blobs = {};
      for (const [name, { base64, type }] of Object.entries(args.files ?? {})) {
        blobs[name] = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
      }
      const run = new Function('lib', 'client', 'blobs', 'args', `return (${source})(lib, client, blobs, args);`);
      try {
        return { ok: await run(lib, client, blobs, args) };
      } catch (e) {
        return { error: { name: e.name, code: e.code, status: e.status, field: e.field, message: e.message, task: e.task ?? null } };
      }
    },
    { source: fn.toString(), args },
  );
}

function file(name, type) {
  return { base64: readFileSync(join(media, name)).toString('base64'), type };
}

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  proxy = await startProxy();
  const config = await (await fetch(`${proxy.url}/api/config`)).json();
  const piapi = config.providers.find((provider) => provider.id === 'piapi');
  assert.equal(piapi.mode, 'sandbox');
  assert.deepEqual([...piapi.operations].sort(), ['faceSwap', 'multiFaceSwap', 'videoFaceSwap']);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

describe('PiAPI through the proxy and the sandbox', () => {
  test('faceSwap with two Blobs (uploaded first) ends in a result image that loads', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const statuses = [];
      const created = await client.faceSwap({ targetImage: blobs.target, swapImage: blobs.swap });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000, onStatus: (t) => statuses.push(t.status) });
      const image = await createImageBitmap(await (await fetch(task.resultUrl)).blob());
      return { created, task, statuses, width: image.width, height: image.height };
    }, { files: { target: file('astronaut.png', 'image/png'), swap: file('camera.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    const { created, task, statuses, width, height } = result.ok;
    assert.equal(typeof created.taskId, 'string');
    assert.equal(typeof created.status, 'string');
    assert.equal(task.provider, 'piapi');
    assert.equal(task.taskId, created.taskId);
    assert.equal(task.status, 'succeeded');
    assert.equal(statuses.at(-1), 'succeeded');
    assert.deepEqual([width, height], [512, 512]);
  });

  test('multiFaceSwap swaps the two faces of a photo, indexes as a list and as a string', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const group = await client.upload(blobs.group);
      const created = await client.multiFaceSwap({ targetImage: group.url, swapImage: blobs.group, swapFacesIndex: [0, 1], targetFacesIndex: '1,0' });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000 });
      const image = await createImageBitmap(await (await fetch(task.resultUrl)).blob());
      const source = await createImageBitmap(blobs.group);
      return { task, size: [image.width, image.height], sourceSize: [source.width, source.height] };
    }, { files: { group: file('two-faces.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.task.status, 'succeeded');
    assert.equal(result.ok.task.provider, 'piapi');
    assert.deepEqual(result.ok.size, result.ok.sourceSize);
  });

  test('videoFaceSwap with a video Blob (uploaded first) ends in a playable video', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const created = await client.videoFaceSwap({ targetVideo: blobs.video, swapImage: blobs.face, duration: 3 });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 120_000 });
      const video = document.createElement('video');
      video.muted = true;
      video.src = task.resultUrl;
      await new Promise((ok, fail) => { video.onloadedmetadata = ok; video.onerror = () => fail(new Error('video did not load')); });
      return { task, width: video.videoWidth, height: video.videoHeight, duration: video.duration };
    }, { files: { video: file('two-faces.mp4', 'video/mp4'), face: file('astronaut.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.task.status, 'succeeded');
    assert.deepEqual([result.ok.width, result.ok.height], [1024, 512]);
    assert.ok(Math.abs(result.ok.duration - 3) < 0.2, `duration ${result.ok.duration}`);
  });

  test('estimateCost prices the three operations in US dollars', async () => {
    const result = await inPage(async (lib) => [
      lib.estimateCost('piapi', 'faceSwap', {}),
      lib.estimateCost('piapi', 'multiFaceSwap', {}),
      lib.estimateCost('piapi', 'videoFaceSwap', { duration: 3 }),
    ]);
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.deepEqual(result.ok, [
      { amount: 0.01, unit: 'usd' },
      { amount: 0.015, unit: 'usd' },
      { amount: 0.03, unit: 'usd' },
    ]);
  });

  test('bad input is refused with its field, and nothing is sent (no proxy support needed)', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      let calls = 0;
      const realFetch = globalThis.fetch;
      globalThis.fetch = (...a) => { calls += 1; return realFetch(...a); };
      const refusals = [];
      try {
        for (const call of [
          () => client.multiFaceSwap({ targetImage: blobs.group, swapImage: 'https://x.example/b.png', swapFacesIndex: [0, 1], targetFacesIndex: [0] }),
          () => client.faceSwap({ targetImage: 'https://x.example/a.gif', swapImage: blobs.group }),
          () => client.videoFaceSwap({ targetVideo: blobs.group, swapImage: 'https://x.example/b.png' }),
        ]) {
          try {
            await call();
            refusals.push(null);
          } catch (e) {
            refusals.push({ code: e.code, field: e.field, isError: e instanceof Error });
          }
        }
      } finally {
        globalThis.fetch = realFetch;
      }
      return { refusals, calls };
    }, { files: { group: file('two-faces.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.deepEqual(result.ok, {
      refusals: [
        { code: 'invalid_parameter', field: 'targetFacesIndex', isError: true },
        { code: 'invalid_parameter', field: 'targetImage', isError: true },
        { code: 'invalid_parameter', field: 'targetVideo', isError: true },
      ],
      calls: 0,
    });
  });
});

describe("the demo's provider picker", () => {
  /** The demo page; `/api/config` lists PiAPI even where this proxy does not serve it yet. */
  async function demoPage() {
    const demo = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = [];
    demo.on('pageerror', (e) => errors.push(e.message));
    await demo.route('**/api/config', async (route) => {
      const response = await route.fetch();
      const config = await response.json();
      const providers = [...(config.providers ?? [])];
      if (!providers.some((p) => p.id === 'piapi')) {
        providers.push({
          id: 'piapi', mode: 'sandbox', operations: ['faceSwap', 'multiFaceSwap', 'videoFaceSwap'],
          client: 'PiApiClient', costUnit: 'usd', swapFace: { operation: 'faceSwap', target: 'targetImage', face: 'swapImage' },
          operationDetails: [],
        });
      }
      await route.fulfill({ response, json: { ...config, providers } });
    });
    await demo.goto(proxy.url);
    await demo.waitForSelector('body[data-ready="true"]');
    return { demo, errors };
  }

  async function pickSample(demo, within, label) {
    await demo.locator(within).getByRole('button', { name: label, exact: true }).click();
    await demo.waitForFunction((sel) => document.querySelector(sel)?.dataset.filled === 'true', within);
  }

  test('offers the listed providers; on PiAPI a refused input shows next to its field, nothing sent', async () => {
    const { demo, errors } = await demoPage();
    try {
      assert.equal(await demo.isVisible('#picker'), true);
      assert.deepEqual(await demo.$$eval('#provider-picker option', (options) => options.map((o) => o.value)), ['aifaceswap', 'piapi', 'aiphotocraft', 'acedata']);
      assert.match(await demo.textContent('#flow-photo .estimate'), /2 credits/);
      await demo.selectOption('#provider-picker', 'piapi');
      assert.equal(await demo.getAttribute('body', 'data-provider'), 'piapi');
      assert.doesNotMatch(await demo.textContent('#flow-photo .estimate'), /credits/);

      let sent = 0;
      await demo.route('**/api/piapi/**', (route) => { sent += 1; return route.continue(); });
      await demo.route('**/api/uploads', (route) => { sent += 1; return route.continue(); });
      const url = '#flow-photo [data-input="sourceImage"] input[type="url"]';
      await demo.fill(url, 'https://x.example/a.gif');
      await demo.dispatchEvent(url, 'change');
      await pickSample(demo, '#flow-photo [data-input="faceImage"]', 'Portrait 1');
      await demo.click('#flow-photo button.primary');
      const fieldError = '#flow-photo [data-input="sourceImage"] .field-error';
      await demo.waitForFunction((sel) => document.querySelector(sel).textContent.length > 0, fieldError);
      assert.match(await demo.textContent(fieldError), /targetImage must be a URL ending in \.jpg/);
      assert.equal(sent, 0);

      await demo.selectOption('#provider-picker', 'aifaceswap');
      assert.match(await demo.textContent('#flow-photo .estimate'), /2 credits/);
      assert.deepEqual(errors, []);
    } finally {
      await demo.close();
    }
  });

  test('the photo flow runs on PiAPI and shows the result', async () => {
    const { demo, errors } = await demoPage();
    try {
      await demo.selectOption('#provider-picker', 'piapi');
      await pickSample(demo, '#flow-photo [data-input="sourceImage"]', 'Astronaut');
      await pickSample(demo, '#flow-photo [data-input="faceImage"]', 'Portrait 1');
      assert.match(await demo.textContent('#flow-photo .estimate'), /\$0\.01/);
      await demo.click('#flow-photo button.primary');
      await demo.waitForSelector('#flow-photo[data-done="true"]', { timeout: 60_000 });
      const size = await demo.$eval('#flow-photo .result .result-media', (img) => new Promise((ok) => {
        if (img.complete && img.naturalWidth) ok([img.naturalWidth, img.naturalHeight]);
        else { img.onload = () => ok([img.naturalWidth, img.naturalHeight]); img.onerror = () => ok(null); }
      }));
      assert.deepEqual(size, [512, 512]);
      assert.deepEqual(errors, []);
    } finally {
      await demo.close();
    }
  });
});
