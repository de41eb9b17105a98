// AiPhotoCraftClient from the built package in headless Chromium, against the real proxy in
// sandbox mode (the proxy polls the sandbox's task status): the four operations end to end with
// Blobs as file parts and the proxy's own upload URLs as text parts, each result image loaded in
// the page; bad input refused with its field before any request; a provider refusal reaching the
// page with its providerCode; and the demo's "swap two people" tab.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';
import { REGION_CHANGE, file, inPage } from './page.mjs';

let proxy;
let browser;
let page;

const run = (fn, args) => inPage(page, 'AiPhotoCraftClient', fn, args);

/**
 * Submits with `submit(client, blobs)`, waits, loads the result image and measures how it differs
 * from `blobs[receiver]` (the image whose faces are replaced) inside and outside its faces.
 */
async function swapAndLoad(submit, files, receiver) {
  return run(async (lib, client, blobs, args) => {
    const make = new Function('client', 'blobs', `return (${args.submit})(client, blobs);`);
    const created = await make(client, blobs);
    const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000 });
    const change = await new Function(`return ${args.regionChange}`)()(lib, blobs[args.receiver], task.resultUrl);
    return { created, task, size: change.size, change };
  }, { files, submit: submit.toString(), receiver, regionChange: REGION_CHANGE });
}

/** The result changed the receiving image's `faces` faces, and nothing far from them. */
function changedInsideFacesOnly(change, faces) {
  assert.equal(change.faces, faces, JSON.stringify(change));
  assert.ok(change.inside > 4, `the faces barely changed: ${JSON.stringify(change)}`);
  assert.ok(change.outside < 1.5, `pixels away from the faces changed: ${JSON.stringify(change)}`);
  assert.ok(change.inside > 4 * change.outside, JSON.stringify(change));
}

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

describe('AIPhotoCraft through the proxy and the sandbox', () => {
  test('/api/config lists AIPhotoCraft in sandbox mode with its four operations', async () => {
    const config = await (await fetch(`${proxy.url}/api/config`)).json();
    const entry = config.providers.find((p) => p.id === 'aiphotocraft');
    assert.equal(entry.mode, 'sandbox');
    assert.deepEqual([...entry.operations].sort(), ['basicSwap', 'coupleSwap', 'swap1From2', 'swapFaceSameImage']);
  });

  test('basicSwap with two Blobs changes the target inside its face only', async () => {
    const result = await swapAndLoad(
      (client, blobs) => client.basicSwap({ srcImage: blobs.face, targetImage: blobs.target, enhance: false }),
      { face: file('camera.png'), target: file('astronaut.png') },
      'target',
    );
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(typeof result.ok.created.taskId, 'string');
    assert.equal(result.ok.task.provider, 'aiphotocraft');
    assert.equal(result.ok.task.status, 'succeeded');
    assert.deepEqual(result.ok.size, [512, 512]);
    changedInsideFacesOnly(result.ok.change, 1);
  });

  test('coupleSwap with an uploaded URL as the target and a crossed swapIndex', async () => {
    const result = await run(async (lib, client, blobs, args) => {
      const uploaded = await client.upload(blobs.couple);
      // Counted from 0 as the page's example `0,1`; descending crosses the couple.
      const created = await client.coupleSwap({ srcImage: blobs.couple, targetImage: uploaded.url, swapIndex: [1, 0] });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000 });
      const change = await new Function(`return ${args.regionChange}`)()(lib, blobs.couple, task.resultUrl);
      return { task, change };
    }, { files: { couple: file('two-faces.png') }, regionChange: REGION_CHANGE });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.task.status, 'succeeded');
    assert.deepEqual(result.ok.change.size, [1024, 512]);
    changedInsideFacesOnly(result.ok.change, 2);
  });

  test('swap1From2 and swapFaceSameImage change the two faces of srcImage only', async () => {
    const two = await swapAndLoad(
      (client, blobs) => client.swap1From2({ srcImage: blobs.couple, targetImage1: blobs.a, targetImage2: blobs.b }),
      { couple: file('two-faces.png'), a: file('camera.png'), b: file('astronaut.png') },
      'couple',
    );
    assert.ok(two.ok, JSON.stringify(two.error));
    assert.deepEqual(two.ok.size, [1024, 512]);
    changedInsideFacesOnly(two.ok.change, 2);
    const same = await swapAndLoad(
      (client, blobs) => client.swapFaceSameImage({ srcImage: blobs.couple }),
      { couple: file('two-faces.png') },
      'couple',
    );
    assert.ok(same.ok, JSON.stringify(same.error));
    assert.equal(same.ok.task.status, 'succeeded');
    assert.deepEqual(same.ok.size, [1024, 512]);
    changedInsideFacesOnly(same.ok.change, 2);
  });

  test('a face-count refusal of the provider reaches the page with its providerCode', async () => {
    const result = await run(async (lib, client, blobs) => {
      const created = await client.swapFaceSameImage({ srcImage: blobs.one });
      return client.waitForResult(created.taskId, { timeoutMs: 60_000 });
    }, { files: { one: file('astronaut.png') } });
    assert.ok(result.error, 'a one-face photo cannot have its two faces exchanged');
    const { code, providerCode, task } = result.error;
    // The sandbox refuses at submit (invalid_parameter with AIPhotoCraft's word) or fails the task.
    if (code === 'invalid_parameter') {
      assert.match(providerCode, /face/);
    } else {
      assert.equal(code, 'task_failed');
      assert.equal(task.status, 'failed');
    }
  });

  test('bad input is refused with its field before any request', async () => {
    const result = await run(async (lib, client, blobs) => {
      const seen = [];
      const original = globalThis.fetch;
      globalThis.fetch = (...a) => { seen.push(String(a[0]?.url ?? a[0])); return original(...a); };
      const errors = [];
      for (const request of [
        { srcImage: blobs.couple, targetImage: blobs.couple, swapIndex: '1,1' },
        { srcImage: 'javascript:alert(1)', targetImage: blobs.couple },
        { srcImage: new Blob(['text']), targetImage: blobs.couple },
      ]) {
        try { await client.coupleSwap(request); } catch (e) { errors.push([e.code, e.field]); }
      }
      globalThis.fetch = original;
      return { errors, seen };
    }, { files: { couple: file('two-faces.png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.deepEqual(result.ok.errors, [
      ['invalid_parameter', 'swapIndex'], ['invalid_parameter', 'srcImage'], ['invalid_parameter', 'srcImage'],
    ]);
    assert.deepEqual(result.ok.seen, []);
  });

  test('estimateCost prices each operation as its submit and the polls of a typical task', async () => {
    const result = await inPage(page, null, async (lib) =>
      ['basicSwap', 'coupleSwap', 'swap1From2', 'swapFaceSameImage'].map((op) => lib.estimateCost('aiphotocraft', op, {})));
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.deepEqual(result.ok, Array(4).fill({ amount: 3, unit: 'requests' }));
  });

  test("the sandbox's task-status answers in the page's shape, which the proxy reads to the result", async () => {
    // The sandbox answers a finished task as the page prints it: {"image_url": ...}, no status.
    const result = await run(async (lib, client, blobs) => {
      const created = await client.swapFaceSameImage({ srcImage: blobs.couple });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000 });
      return { taskId: created.taskId, task };
    }, { files: { couple: file('two-faces.png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.task.status, 'succeeded');
    const config = await (await fetch(`${proxy.url}/api/config`)).json();
    assert.equal(config.providers.find((p) => p.id === 'aiphotocraft').mode, 'sandbox');
    assert.deepEqual(result.ok.task.cost, { amount: 3, unit: 'requests' });
  });
});

describe("the demo's AIPhotoCraft flows", () => {
  /** The demo page, ready, with its console errors collected. */
  async function demoPage() {
    const demo = await browser.newPage();
    const errors = [];
    demo.on('pageerror', (e) => errors.push(String(e)));
    await demo.goto(proxy.url);
    await demo.waitForSelector('body[data-ready="true"]');
    return { demo, errors };
  }

  async function pickSample(demo, within, label) {
    await demo.locator(within).getByRole('button', { name: label, exact: true }).click();
    await demo.waitForFunction((sel) => document.querySelector(sel)?.dataset.filled === 'true', within);
  }

  async function resultSize(demo, flow) {
    return demo.$eval(`#${flow} .result .result-media`, (img) => new Promise((ok) => {
      if (img.complete && img.naturalWidth) ok([img.naturalWidth, img.naturalHeight]);
      else { img.onload = () => ok([img.naturalWidth, img.naturalHeight]); img.onerror = () => ok(null); }
    }));
  }

  test('"Swap two people" exchanges the faces of the sample and shows the result', async () => {
    const { demo, errors } = await demoPage();
    try {
      assert.equal(await demo.isVisible('#tab-couple'), true);
      await demo.click('#tab-couple');
      await pickSample(demo, '#flow-couple [data-input="srcImage"]', 'Two people');
      assert.match(await demo.textContent('#flow-couple .estimate'), /3 requests/);
      await demo.click('#flow-couple button.primary');
      await demo.waitForSelector('#flow-couple[data-done="true"]', { timeout: 60_000 });
      assert.deepEqual(await resultSize(demo, 'flow-couple'), [1024, 512]);
      assert.deepEqual(errors, []);
    } finally {
      await demo.close();
    }
  });

  test('the photo flow runs on AIPhotoCraft; the video flow says it cannot', async () => {
    const { demo, errors } = await demoPage();
    try {
      await demo.selectOption('#provider-picker', 'aiphotocraft');
      await pickSample(demo, '#flow-photo [data-input="sourceImage"]', 'Astronaut');
      await pickSample(demo, '#flow-photo [data-input="faceImage"]', 'Portrait 1');
      assert.match(await demo.textContent('#flow-photo .estimate'), /3 requests/);
      await demo.click('#flow-photo button.primary');
      await demo.waitForSelector('#flow-photo[data-done="true"]', { timeout: 60_000 });
      assert.deepEqual(await resultSize(demo, 'flow-photo'), [512, 512]);
      assert.match(await demo.textContent('#flow-video .estimate'), /aiphotocraft does not swap videos/);
      assert.equal(await demo.isDisabled('#flow-video button.primary'), true);
      assert.deepEqual(errors, []);
    } finally {
      await demo.close();
    }
  });
});
