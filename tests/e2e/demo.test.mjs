// The demo page as a person uses it: all four flows in headless Chromium against the proxy in
// sandbox mode, with sample media; each finished flow is saved as a screenshot in test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';

const output = join(root, 'test-output');
let proxy;
let browser;
let page;
const pageErrors = [];

before(async () => {
  mkdirSync(output, { recursive: true });
  proxy = await startProxy();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(proxy.url);
  await page.waitForSelector('body[data-ready="true"]');
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

/** Clicks the sample button `label` inside the media input `within`. */
async function pickSample(within, label) {
  await page.locator(within).getByRole('button', { name: label, exact: true }).click();
  await page.waitForFunction((sel) => {
    const input = document.querySelector(sel);
    return (input?.matches('.media-input') ? input : input?.querySelector('.media-input'))?.dataset.filled === 'true';
  }, within);
}

async function resultLoaded(flow, kind) {
  const selector = `#${flow} .result .result-media`;
  await page.waitForSelector(selector, { timeout: 5_000 });
  return page.$eval(selector, (el, kind) => new Promise((ok) => {
    if (kind === 'image') { if (el.complete && el.naturalWidth) ok([el.naturalWidth, el.naturalHeight]); else { el.onload = () => ok([el.naturalWidth, el.naturalHeight]); el.onerror = () => ok(null); } }
    else { if (el.readyState >= 1) ok([el.videoWidth, el.videoHeight]); else { el.onloadedmetadata = () => ok([el.videoWidth, el.videoHeight]); el.onerror = () => ok(null); } }
  }), kind);
}

test('the page says it runs against the sandbox', async () => {
  assert.match(await page.textContent('#mode'), /Sandbox/);
  const html = await page.content();
  assert.ok(!/AIFACESWAP_API_KEY|Bearer /.test(html));
});

test('the page lists the providers with their modes', async () => {
  const items = await page.$$eval('#providers li', (list) => list.map((li) => ({ id: li.dataset.provider, mode: li.dataset.mode, text: li.textContent })));
  const config = await page.evaluate(async () => (await fetch('/api/config')).json());
  assert.ok(items.length >= 1);
  const own = items.find((item) => item.id === config.provider);
  assert.ok(own, JSON.stringify(items));
  assert.equal(own.mode, 'sandbox');
  assert.match(own.text, /Sandbox/);
  assert.match(own.text, /faceSwap/);
  assert.equal(await page.isVisible('#providers'), true);
});

test('photo swap', async () => {
  await page.click('#tab-photo');
  await pickSample('#flow-photo [data-input="sourceImage"]', 'Astronaut');
  await pickSample('#flow-photo [data-input="faceImage"]', 'Portrait 1');
  assert.match(await page.textContent('#flow-photo .estimate'), /2 credits/);
  await page.click('#flow-photo button.primary');
  await page.waitForSelector('#flow-photo[data-done="true"]', { timeout: 60_000 });
  assert.deepEqual(await resultLoaded('flow-photo', 'image'), [512, 512]);
  assert.ok(await page.$eval('#flow-photo a.download', (a) => a.href.startsWith('http')));
  await page.screenshot({ path: join(output, 'demo-photo.png'), fullPage: true });
});

test('group photo: find faces (API, then free in the browser), pick one, give it a new face', async () => {
  await page.click('#tab-group');
  await pickSample('#flow-group [data-input="sourceImage"]', 'Two people');
  await page.locator('#flow-group').getByRole('button', { name: 'Find faces with the API (2 credits)' }).click();
  await page.waitForSelector('#flow-group[data-finder="api"]', { timeout: 30_000 });
  assert.equal(await page.getAttribute('#flow-group', 'data-faces'), '2');
  const apiBoxes = await page.$$eval('#flow-group .box', (boxes) => boxes.map((b) => b.getAttribute('style')));
  await page.locator('#flow-group').getByRole('button', { name: 'Find faces (free, in your browser)' }).click();
  await page.waitForSelector('#flow-group[data-finder="browser"]', { timeout: 30_000 });
  assert.equal(await page.getAttribute('#flow-group', 'data-faces'), '2');
  assert.equal((await page.$$eval('#flow-group .box', (boxes) => boxes.map((b) => b.getAttribute('style')))).length, apiBoxes.length);
  await page.click('#flow-group .box[data-index="1"]');
  assert.equal(await page.getAttribute('#flow-group .box[data-index="1"]', 'aria-pressed'), 'true');
  await pickSample('#flow-group [data-face="1"]', 'Astronaut');
  await page.getByRole('button', { name: 'Swap chosen faces' }).click();
  await page.waitForSelector('#flow-group[data-done="true"]', { timeout: 60_000 });
  assert.deepEqual(await resultLoaded('flow-group', 'image'), [1024, 512]);
  await page.screenshot({ path: join(output, 'demo-group.png'), fullPage: true });
});

test('video swap', async () => {
  await page.click('#tab-video');
  await pickSample('#flow-video [data-input="sourceVideo"]', 'Two people (mp4)');
  await pickSample('#flow-video [data-input="faceImage"]', 'Astronaut');
  await page.waitForFunction(() => /credits/.test(document.querySelector('#flow-video .estimate').textContent));
  assert.match(await page.textContent('#flow-video .estimate'), /costs 6 credits/);
  await page.getByRole('button', { name: 'Swap face in video' }).click();
  await page.waitForSelector('#flow-video[data-done="true"]', { timeout: 180_000 });
  assert.deepEqual(await resultLoaded('flow-video', 'video'), [1024, 512]);
  await page.screenshot({ path: join(output, 'demo-video.png'), fullPage: true });
});

test('multi-person video: scrub, capture, find faces, assign a new face, submit', async () => {
  await page.click('#tab-multivideo');
  await pickSample('#flow-multivideo [data-input="sourceVideo"]', 'Two people (mp4)');
  await page.waitForFunction(() => !document.querySelector('#flow-multivideo .actions button.primary').disabled);
  await page.$eval('#flow-multivideo video[aria-label="Video to scrub"]', (v) => new Promise((ok) => { v.onseeked = ok; v.currentTime = 1.2; }));
  await page.getByRole('button', { name: 'Capture this frame' }).click();
  await page.waitForSelector('#flow-multivideo .stage img');
  await page.locator('#flow-multivideo').getByRole('button', { name: 'Find faces (free, in your browser)' }).click();
  await page.waitForSelector('#flow-multivideo[data-finder="browser"]', { timeout: 30_000 });
  assert.equal(await page.getAttribute('#flow-multivideo', 'data-faces'), '2');
  assert.equal(await page.locator('#flow-multivideo .face-card img.crop').count(), 2);
  await page.click('#flow-multivideo .box[data-index="0"]');
  await pickSample('#flow-multivideo [data-face="0"] .media-input', 'Portrait 1');
  assert.match(await page.textContent('#flow-multivideo .estimate'), /costs 12 credits/);
  await page.getByRole('button', { name: 'Swap faces in video' }).click();
  await page.waitForSelector('#flow-multivideo[data-done="true"]', { timeout: 180_000 });
  assert.deepEqual(await resultLoaded('flow-multivideo', 'video'), [1024, 512]);
  await page.screenshot({ path: join(output, 'demo-multivideo.png'), fullPage: true });
});

test('multi-person video: find the people in the whole video, give each a new face, submit', async () => {
  await page.click('#tab-multivideo');
  await page.$eval('#flow-multivideo', (el) => { delete el.dataset.done; delete el.dataset.finder; });
  await pickSample('#flow-multivideo [data-input="sourceVideo"]', 'Two people who cross (mp4)');
  const findPeople = page.locator('#flow-multivideo').getByRole('button', { name: 'Find the people in the video (free, in your browser)' });
  await page.waitForFunction(() => [...document.querySelectorAll('#flow-multivideo button')].some((b) => b.textContent.startsWith('Find the people') && !b.disabled));
  await findPeople.click();
  await page.waitForSelector('#flow-multivideo[data-finder="people"]', { timeout: 60_000 });
  assert.equal(await page.getAttribute('#flow-multivideo', 'data-people'), '2');
  const crops = await page.$$eval('#flow-multivideo [data-person] img.crop', (imgs) => Promise.all(imgs.map((img) => img.decode().then(() => [img.naturalWidth, img.naturalHeight]))));
  assert.equal(crops.length, 2);
  assert.ok(crops.every(([w, h]) => w > 100 && h > 100), JSON.stringify(crops));
  assert.match(await page.textContent('#flow-multivideo [data-person="0"]'), /Person 1: seen \d+ times/);
  for (const [index, sample] of [[0, 'Astronaut'], [1, 'Portrait 2']]) {
    await page.locator(`#flow-multivideo [data-person="${index}"]`).getByRole('button', { name: `Give person ${index + 1} a new face` }).click();
    await pickSample(`#flow-multivideo [data-person="${index}"] .media-input`, sample);
  }
  assert.match(await page.textContent('#flow-multivideo .estimate'), /costs \d+ credits/);
  await page.getByRole('button', { name: 'Swap faces in video' }).click();
  await page.waitForSelector('#flow-multivideo[data-done="true"]', { timeout: 300_000 });
  assert.deepEqual(await resultLoaded('flow-multivideo', 'video'), [1024, 512]);
  await page.screenshot({ path: join(output, 'demo-multivideo-people.png'), fullPage: true });
});

test('errors show in plain language next to the input at fault', async () => {
  await page.click('#tab-photo');
  await page.fill('#flow-photo [data-input="sourceImage"] input[type="url"]', 'ftp://example.com/a.png');
  await page.dispatchEvent('#flow-photo [data-input="sourceImage"] input[type="url"]', 'change');
  await page.click('#flow-photo button.primary');
  await page.waitForFunction(() => document.querySelector('#flow-photo [data-input="sourceImage"] .field-error').textContent.length > 0);
  assert.match(await page.textContent('#flow-photo [data-input="sourceImage"] .field-error'), /sourceImage must be an absolute http/);
});

test('no uncaught page errors', () => {
  assert.deepEqual(pageErrors, []);
});
