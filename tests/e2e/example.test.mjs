// The proof of the provider seam: the example provider (cargo feature `example-provider`, built by
// scripts/example-provider.sh into target/example-provider/) declared in its own modules only,
// shows up in the proxy's config, the library (its class, `estimateCost`, `swapFace`) and the
// demo's picker, and swaps a face end to end in headless Chromium through the sandbox's fake.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, root, startProxy, targetDir } from '../../scripts/harness.mjs';
import { file, inPage } from './page.mjs';

const built = join(targetDir, 'example-provider');
let proxy;
let browser;
let page;

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  proxy = await startProxy({ PKG_DIR: join(built, 'pkg') }, { binary: join(built, 'faceswap-proxy') });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

const media = { files: { face: file('camera.png'), target: file('astronaut.png') } };

describe('the example provider, declared only in its own modules', () => {
  test('/api/config lists it with its class, unit and one-face swap', async () => {
    const config = await (await fetch(`${proxy.url}/api/config`)).json();
    const entry = config.providers.find((p) => p.id === 'example');
    assert.ok(entry, JSON.stringify(config.providers.map((p) => p.id)));
    assert.equal(entry.mode, 'sandbox');
    assert.equal(entry.client, 'ExampleClient');
    assert.equal(entry.costUnit, 'credits');
    assert.deepEqual(entry.swapFace, { operation: 'faceSwap', target: 'targetUrl', face: 'faceUrl' });
    assert.deepEqual(entry.operations, ['faceSwap']);
  });

  test('ExampleClient swaps Blobs end to end and the result loads', async () => {
    const result = await inPage(page, 'ExampleClient', async (lib, client, blobs) => {
      const created = await client.faceSwap({ targetUrl: blobs.target, faceUrl: blobs.face });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000 });
      const image = await createImageBitmap(await (await fetch(task.resultUrl)).blob());
      return { created, task, size: [image.width, image.height], cost: lib.estimateCost('example', 'faceSwap') };
    }, media);
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.task.provider, 'example');
    assert.equal(result.ok.task.status, 'succeeded');
    assert.deepEqual(result.ok.size, [512, 512]);
    assert.deepEqual(result.ok.cost, { amount: 2, unit: 'credits' });
  });

  test('bad input is refused with its camelCase field by core\'s check, before any request', async () => {
    const result = await inPage(page, 'ExampleClient', async (lib, client, blobs) => {
      let requests = 0;
      const realFetch = globalThis.fetch;
      globalThis.fetch = (...args) => { requests += 1; return realFetch(...args); };
      try {
        await client.faceSwap({ targetUrl: 'ftp://cdn.example/t.png', faceUrl: blobs.face });
      } catch (e) {
        return { code: e.code, field: e.field, requests };
      } finally {
        globalThis.fetch = realFetch;
      }
      return null;
    }, media);
    assert.deepEqual(result.ok, { code: 'invalid_parameter', field: 'targetUrl', requests: 0 });
  });

  test('swapFace runs it by its id', async () => {
    const result = await inPage(page, null, async (lib, client, blobs) => {
      const created = await lib.swapFace('example', { target: blobs.target, face: blobs.face });
      const task = await new lib.ExampleClient().waitForResult(created.taskId, { timeoutMs: 60_000 });
      return { created, status: task.status };
    }, media);
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.created.provider, 'example');
    assert.equal(result.ok.status, 'succeeded');
  });

  test('the demo offers it in its picker and runs the photo swap on it', async () => {
    const demo = await browser.newPage();
    await demo.goto(`${proxy.url}/`);
    await demo.waitForFunction(() => [...document.querySelectorAll('#provider-picker option')].some((o) => o.value === 'example'));
    await demo.selectOption('#provider-picker', 'example');
    await demo.click('#tab-photo');
    for (const [input, sample] of [['sourceImage', 'Astronaut'], ['faceImage', 'Portrait 1']]) {
      const within = `#flow-photo [data-input="${input}"]`;
      await demo.locator(within).getByRole('button', { name: sample, exact: true }).click();
      await demo.waitForFunction((sel) => {
        const el = document.querySelector(sel);
        return (el?.matches('.media-input') ? el : el?.querySelector('.media-input'))?.dataset.filled === 'true';
      }, within);
    }
    assert.match(await demo.textContent('#flow-photo .estimate'), /2 credits/);
    await demo.click('#flow-photo button.primary');
    await demo.waitForSelector('#flow-photo[data-done="true"]', { timeout: 60_000 });
    const loaded = await demo.$eval('#flow-photo .result .result-media', (img) => new Promise((ok) => {
      if (img.complete && img.naturalWidth) ok([img.naturalWidth, img.naturalHeight]);
      else { img.onload = () => ok([img.naturalWidth, img.naturalHeight]); img.onerror = () => ok(null); }
    }));
    assert.deepEqual(loaded, [512, 512]);
    await demo.close();
  });
});
