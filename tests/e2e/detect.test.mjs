// detectFaces in headless Chromium (faceswap-detect compiled to wasm, in a worker) against the
// sandbox's native detector on the same pixels: same face counts, boxes within 2 pixels. The
// sandbox runs BlazeFace plus rustface's small faces, as detectFaces does with { smallFaces: true }:
// the group photo's faces are below BlazeFace's smallest.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';

let proxy;
let browser;
let page;
const requests = [];

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'samples.sh')], { stdio: 'inherit' });
  proxy = await startProxy();
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${proxy.url}/healthz`);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

/** Asserts both lists hold the same number of boxes and each pair is within 2 pixels. */
function assertSameBoxes(browserBoxes, nativeBoxes, what) {
  assert.equal(browserBoxes.length, nativeBoxes.length, `${what}: ${browserBoxes.length} faces in the browser, ${nativeBoxes.length} natively`);
  browserBoxes.forEach((box, i) => {
    const worst = Math.max(...box.map((v, k) => Math.abs(v - nativeBoxes[i][k])));
    assert.ok(worst <= 2, `${what} face ${i}: browser ${box} vs native ${nativeBoxes[i]}`);
  });
}

test('the detector is fetched only on first use', async () => {
  await page.evaluate(async () => { const lib = await import('/pkg/faceswap_wasm.js'); await lib.default(); });
  assert.ok(!requests.some((u) => u.includes('/pkg/detect/')), 'nothing from pkg/detect/ before detectFaces');
});

for (const [name, expected, options] of [['astronaut.png', 1, {}], ['two-faces.png', 2, {}], ['group29.png', 29, { smallFaces: true }]]) {
  test(`${name}: ${expected} faces, the same boxes as the native detector`, async () => {
    const result = await page.evaluate(async ([name, options]) => {
      const lib = await import('/pkg/faceswap_wasm.js');
      await lib.default();
      const client = new lib.FaceSwapClient();
      const blob = await (await fetch(`/samples/${name}`)).blob();
      const image = new Image();
      image.src = URL.createObjectURL(blob);
      await image.decode();
      const fromImage = await lib.detectFaces(image, options);
      const bitmap = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d').drawImage(bitmap, 0, 0);
      const fromImageData = await lib.detectFaces(canvas.getContext('2d').getImageData(0, 0, bitmap.width, bitmap.height), options);
      const withKeypoints = await lib.detectFaces(image, { ...options, keypoints: true });
      const native = await client.extractFace({ img: blob });
      return { fromImage, fromImageData, withKeypoints, native: native.faces };
    }, [name, options]);
    assert.equal(result.fromImage.boxes.length, expected);
    assert.equal(result.fromImage.scores.length, expected);
    assertSameBoxes(result.fromImage.boxes, result.native, name);
    assert.deepEqual(result.fromImageData.boxes, result.fromImage.boxes);
    assert.deepEqual(result.withKeypoints.boxes, result.fromImage.boxes);
    assert.equal(result.withKeypoints.keypoints.length, expected);
    for (const [i, points] of result.withKeypoints.keypoints.entries()) {
      if (points === null) continue; // a face only rustface found
      const [x1, y1, x2, y2] = result.withKeypoints.boxes[i];
      assert.equal(points.length, 6);
      const [rightEye, leftEye, , mouth] = points;
      assert.ok(rightEye[0] < leftEye[0] && (rightEye[1] + leftEye[1]) / 2 < mouth[1], `${name} face ${i}: eyes above the mouth`);
      assert.ok(mouth[0] > x1 && mouth[0] < x2 && mouth[1] > y1 && mouth[1] < y2, `${name} face ${i}: mouth in the box`);
    }
    const lefts = result.fromImage.boxes.map((b) => b[0]);
    assert.deepEqual(lefts, [...lefts].sort((a, b) => a - b), 'sorted left to right');
  });
}

for (const kind of ['mp4', 'webm']) {
  test(`frames captured from the ${kind} video: same faces as natively`, async () => {
    const url = await (async () => {
      const res = await fetch(`${proxy.url}/api/uploads`, {
        method: 'POST',
        headers: { 'Content-Type': `video/${kind}` },
        body: (await import('node:fs')).readFileSync(join(root, 'target', 'test-media', `two-faces.${kind}`)),
      });
      return (await res.json()).url;
    })();
    const result = await page.evaluate(async (url) => {
      const lib = await import('/pkg/faceswap_wasm.js');
      await lib.default();
      const client = new lib.FaceSwapClient();
      const video = document.createElement('video');
      video.muted = true;
      video.src = url;
      await new Promise((ok) => { video.onloadeddata = ok; });
      const out = [];
      for (const time of [0.4, 1.6, 2.6]) {
        const frame = await lib.captureFrame(video, { time, type: 'image/png' });
        // The cameraman (66 px of 1024) is at BlazeFace's smallest face: in some compressed
        // frames only rustface sees him, so compare with the sandbox's detector in full.
        const browser = await lib.detectFaces(frame, { smallFaces: true });
        const fast = await lib.detectFaces(frame);
        const native = await client.extractBase64Face({ base64Img: frame.base64 });
        const crops = await lib.cropFaces(frame, browser.boxes);
        out.push({ time, browser: browser.boxes, fast: fast.boxes, native: native.pos, crops: crops.length });
      }
      return out;
    }, url);
    for (const frame of result) {
      assert.equal(frame.browser.length, 2, `frame at ${frame.time}`);
      assertSameBoxes(frame.browser, frame.native, `${kind} at ${frame.time} s`);
      assert.ok(frame.fast.length >= 1, `${kind} at ${frame.time} s: BlazeFace alone finds the astronaut`);
      assertSameBoxes(frame.fast, frame.native.slice(0, frame.fast.length), `${kind} at ${frame.time} s, BlazeFace alone`);
      assert.equal(frame.crops, 2, 'boxes feed cropFaces directly');
    }
  });
}

test('after first use the detector module was fetched, once', () => {
  const wasm = requests.filter((u) => u.endsWith('/pkg/detect/faceswap_detect_bg.wasm'));
  assert.equal(wasm.length, 1);
});

test('bad sources and options are refused with a field', async () => {
  const result = await page.evaluate(async () => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    const outcomes = [];
    for (const [source, options] of [[42, {}], ['%%%', {}], [new ImageData(40, 40), { minFaceSize: 10 }], [new ImageData(40, 40), { threshold: NaN }], [new ImageData(40, 40), { threshold: 2 }]]) {
      try { await lib.detectFaces(source, options); outcomes.push('resolved'); } catch (e) { outcomes.push(`${e.name}:${e.code}:${e.field}`); }
    }
    const empty = await lib.detectFaces(new ImageData(64, 64));
    return { outcomes, empty: empty.boxes.length };
  });
  assert.deepEqual(result.outcomes, [
    'FaceSwapError:invalid_parameter:source',
    'FaceSwapError:invalid_parameter:source',
    'FaceSwapError:invalid_parameter:minFaceSize',
    'FaceSwapError:invalid_parameter:threshold',
    'FaceSwapError:invalid_parameter:threshold',
  ]);
  assert.equal(result.empty, 0);
});
