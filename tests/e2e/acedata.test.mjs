// AceDataClient from the built package in headless Chromium, against the real proxy in sandbox
// mode: the face swap end to end by callback (the default) and by a synchronous answer
// (`ACEDATA_DELIVERY=synchronous`), each result image loaded in the page; bad input refused with
// its field before any request; and the demo's photo flow on AceData.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';
import { file, inPage } from './page.mjs';

let proxy;
let browser;
let page;

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  proxy = await startProxy();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

/** faceSwap with a Blob face (uploaded first) onto the astronaut, then the result image loaded. */
function swapInPage(onPage) {
  return inPage(onPage, 'AceDataClient', async (lib, client, blobs) => {
    const statuses = [];
    const created = await client.faceSwap({ sourceImageUrl: blobs.face, targetImageUrl: blobs.target });
    const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000, onStatus: (t) => statuses.push(t.status) });
    const image = await createImageBitmap(await (await fetch(task.resultUrl)).blob());
    return { created, task, statuses, size: [image.width, image.height] };
  }, { files: { face: file('camera.png'), target: file('astronaut.png') } });
}

describe('AceData through the proxy and the sandbox', () => {
  test('/api/config lists AceData in sandbox mode with faceSwap', async () => {
    const config = await (await fetch(`${proxy.url}/api/config`)).json();
    const entry = config.providers.find((p) => p.id === 'acedata');
    assert.equal(entry.mode, 'sandbox');
    assert.deepEqual(entry.operations, ['faceSwap']);
  });

  test('faceSwap by callback: the task ends succeeded and its image loads', async () => {
    // The sandbox calls back as the page describes it: the answer's fields and task_id, no
    // `success`; the result's width, height and size reach the task as resultInfo.
    const result = await swapInPage(page);
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.task.provider, 'acedata');
    assert.equal(result.ok.task.taskId, result.ok.created.taskId);
    assert.equal(result.ok.task.status, 'succeeded');
    assert.deepEqual(result.ok.size, [512, 512]);
    const info = result.ok.task.resultInfo;
    assert.equal(info.width, 512);
    assert.equal(info.height, 512);
    assert.ok(info.size > 0, JSON.stringify(info));
  });

  test('faceSwap by a synchronous answer: the task is succeeded at once', async () => {
    const sync = await startProxy({ ACEDATA_DELIVERY: 'synchronous' });
    const syncPage = await browser.newPage();
    try {
      await syncPage.goto(`${sync.url}/healthz`);
      const result = await swapInPage(syncPage);
      assert.ok(result.ok, JSON.stringify(result.error));
      assert.equal(result.ok.task.status, 'succeeded');
      assert.deepEqual(result.ok.statuses, ['succeeded']);
      assert.deepEqual(result.ok.size, [512, 512]);
      const stored = await (await fetch(`${sync.url}/api/acedata/tasks/${encodeURIComponent(result.ok.created.taskId)}`)).json();
      assert.equal(stored.status, 'succeeded');
      assert.equal(stored.result_info.width, 512);
      assert.equal(stored.result_info.height, 512);
    } finally {
      await syncPage.close();
      await sync.stop();
    }
  });

  test('bad input is refused with its field before any request', async () => {
    const result = await inPage(page, 'AceDataClient', async (lib, client, blobs) => {
      const seen = [];
      const original = globalThis.fetch;
      globalThis.fetch = (...a) => { seen.push(String(a[0]?.url ?? a[0])); return original(...a); };
      const errors = [];
      for (const request of [
        { sourceImageUrl: blobs.face, targetImageUrl: 'ftp://x.example/a.png' },
        { sourceImageUrl: new Blob(['text']), targetImageUrl: blobs.face },
        { targetImageUrl: blobs.face },
        // The proxy's own bound on timeout, checked before anything is uploaded.
        { sourceImageUrl: blobs.face, targetImageUrl: blobs.face, timeout: 301 },
      ]) {
        try { await client.faceSwap(request); } catch (e) { errors.push([e.code, e.field]); }
      }
      globalThis.fetch = original;
      return { errors, seen };
    }, { files: { face: file('camera.png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.deepEqual(result.ok.errors, [
      ['invalid_parameter', 'targetImageUrl'], ['invalid_parameter', 'sourceImageUrl'], ['invalid_parameter', 'sourceImageUrl'],
      ['invalid_parameter', 'timeout'],
    ]);
    assert.deepEqual(result.ok.seen, []);
  });

  test("the demo's photo flow runs on AceData", async () => {
    const demo = await browser.newPage();
    const errors = [];
    demo.on('pageerror', (e) => errors.push(String(e)));
    try {
      await demo.goto(proxy.url);
      await demo.waitForSelector('body[data-ready="true"]');
      await demo.selectOption('#provider-picker', 'acedata');
      for (const [input, label] of [['sourceImage', 'Astronaut'], ['faceImage', 'Portrait 1']]) {
        const within = `#flow-photo [data-input="${input}"]`;
        await demo.locator(within).getByRole('button', { name: label, exact: true }).click();
        await demo.waitForFunction((sel) => document.querySelector(sel)?.dataset.filled === 'true', within);
      }
      assert.match(await demo.textContent('#flow-photo .estimate'), /1 request/);
      assert.match(await demo.textContent('#flow-group .estimate'), /acedata does not swap group photos/);
      await demo.click('#flow-photo button.primary');
      await demo.waitForSelector('#flow-photo[data-done="true"]', { timeout: 60_000 });
      assert.deepEqual(errors, []);
    } finally {
      await demo.close();
    }
  });
});
