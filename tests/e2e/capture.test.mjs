// captureFrame, cropFaces and buildRefInfo in headless Chromium on H.264 mp4 and VP9 webm videos
// made from the test images, with the sandbox's extract_base64_face (through the proxy) as the
// judge that each crop still holds a face.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';

const media = join(root, 'target', 'test-media');
let proxy;
let browser;
let page;
let noCors;
const urls = {};

async function upload(name, type) {
  const res = await fetch(`${proxy.url}/api/uploads`, { method: 'POST', headers: { 'Content-Type': type }, body: readFileSync(join(media, name)) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).url;
}

/** Runs `fn(lib, client, args)` in the page with the package loaded. */
function inPage(fn, args = {}) {
  return page.evaluate(
    async ({ source, args }) => {
      const lib = await import('/pkg/faceswap_wasm.js');
      await lib.default();
      const client = new lib.FaceSwapClient();
      const loadVideo = async (src, crossOrigin) => {
        const video = document.createElement('video');
        video.muted = true;
        video.preload = 'auto';
        if (crossOrigin) video.crossOrigin = crossOrigin;
        video.src = src;
        await new Promise((ok, fail) => { video.onloadeddata = ok; video.onerror = () => fail(new Error(`cannot load ${src}`)); });
        return video;
      };
      const size = async (base64) => {
        const bitmap = await createImageBitmap(await (await fetch(`data:image/*;base64,${base64}`)).blob());
        return [bitmap.width, bitmap.height];
      };
      const run = new Function('lib', 'client', 'args', 'loadVideo', 'size', `return (${source})(lib, client, args, loadVideo, size);`);
      try {
        return { ok: await run(lib, client, args, loadVideo, size) };
      } catch (e) {
        return { error: { name: e.name, code: e.code, field: e.field, message: e.message } };
      }
    },
    { source: fn.toString(), args },
  );
}

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  proxy = await startProxy();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
  urls.mp4 = await upload('two-faces.mp4', 'video/mp4');
  urls.webm = await upload('two-faces.webm', 'video/webm');
  // A second origin that serves the same video without any CORS header.
  noCors = createServer((req, res) => {
    const path = join(media, 'two-faces.mp4');
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise((ok) => noCors.listen(0, '127.0.0.1', ok));
  urls.noCors = `http://127.0.0.1:${noCors.address().port}/two-faces.mp4`;
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  noCors?.close();
});

for (const kind of ['mp4', 'webm']) {
  describe(`${kind} video`, () => {
    test('captureFrame has the video size and the asked time (within one frame)', async () => {
      const result = await inPage(async (lib, client, args, loadVideo, size) => {
        const video = await loadVideo(args.url);
        const frames = [];
        for (const time of [0.5, 1.52, 2.2]) {
          const frame = await lib.captureFrame(video, { time });
          frames.push({ asked: time, time: frame.time, width: frame.width, height: frame.height, decoded: await size(frame.base64), prefix: frame.base64.slice(0, 4) });
        }
        const small = await lib.captureFrame(video, { maxWidth: 512, type: 'image/png' });
        const webp = await lib.captureFrame(video, { type: 'image/webp', quality: 0.8 });
        return { frames, small: { width: small.width, height: small.height, decoded: await size(small.base64), prefix: small.base64.slice(0, 5) }, webpPrefix: webp.base64.slice(0, 4) };
      }, { url: urls[kind] });
      assert.ok(result.ok, JSON.stringify(result.error));
      for (const frame of result.ok.frames) {
        assert.deepEqual([frame.width, frame.height], [1024, 512]);
        assert.deepEqual(frame.decoded, [1024, 512]);
        assert.ok(Math.abs(frame.time - frame.asked) <= 1 / 25 + 1e-6, `asked ${frame.asked}, got ${frame.time}`);
        assert.equal(frame.prefix, '/9j/', 'JPEG by default, no data: prefix');
      }
      assert.deepEqual([result.ok.small.width, result.ok.small.height], [512, 256]);
      assert.deepEqual(result.ok.small.decoded, [512, 256]);
      assert.equal(result.ok.small.prefix, 'iVBOR');
      assert.equal(result.ok.webpPrefix, 'UklG');
    });

    test('cropFaces: box plus padding, and each crop still holds a face', async () => {
      const result = await inPage(async (lib, client, args, loadVideo, size) => {
        const video = await loadVideo(args.url);
        const frame = await lib.captureFrame(video, { time: 1 });
        const { pos } = await client.extractBase64Face({ base64Img: frame.base64 });
        const crops = await lib.cropFaces(frame, pos, { padding: 0.25 });
        const checks = [];
        for (const crop of crops) {
          const faces = await client.extractBase64Face({ base64Img: crop });
          checks.push({ size: await size(crop), faces: faces.pos.length });
        }
        const square = await lib.cropFaces(frame.base64, pos, { square: true, padding: 0 });
        return { pos, checks, squareSizes: await Promise.all(square.map(size)), frameSize: [frame.width, frame.height] };
      }, { url: urls[kind] });
      assert.ok(result.ok, JSON.stringify(result.error));
      const { pos, checks, squareSizes, frameSize } = result.ok;
      assert.equal(pos.length, 2);
      assert.equal(checks.length, 2);
      pos.forEach(([x1, y1, x2, y2], i) => {
        const w = x2 - x1;
        const h = y2 - y1;
        const left = Math.floor(Math.max(0, x1 - 0.25 * w));
        const top = Math.floor(Math.max(0, y1 - 0.25 * h));
        const right = Math.ceil(Math.min(frameSize[0], x2 + 0.25 * w));
        const bottom = Math.ceil(Math.min(frameSize[1], y2 + 0.25 * h));
        assert.deepEqual(checks[i].size, [right - left, bottom - top], `crop ${i}`);
        assert.ok(checks[i].faces >= 1, `crop ${i} has no face`);
        const [sw, sh] = squareSizes[i];
        assert.ok(Math.abs(sw - sh) <= 1 || sw === frameSize[0] || sh === frameSize[1], `square crop ${i}: ${sw}x${sh}`);
      });
    });
  });
}

describe('errors', () => {
  test('a cross-origin video without CORS gives tainted_canvas', async () => {
    const result = await inPage(async (lib, client, args, loadVideo) => lib.captureFrame(await loadVideo(args.url), { time: 0.5 }), { url: urls.noCors });
    assert.equal(result.error?.code, 'tainted_canvas', JSON.stringify(result));
    assert.match(result.error.message, /crossOrigin="anonymous"/);
    assert.match(result.error.message, /Access-Control-Allow-Origin/);
  });

  test('the same video with crossOrigin="anonymous" and CORS can be captured', async () => {
    const result = await inPage(async (lib, client, args, loadVideo) => {
      const frame = await lib.captureFrame(await loadVideo(args.url, 'anonymous'), { time: 0.5 });
      return [frame.width, frame.height];
    }, { url: urls.mp4 });
    assert.deepEqual(result.ok, [1024, 512]);
  });

  test('an errored video, a non-video and bad options are refused clearly', async () => {
    const result = await inPage(async (lib, client, args) => {
      const outcomes = {};
      const attempt = async (name, fn) => {
        try { await fn(); outcomes[name] = 'resolved'; } catch (e) { outcomes[name] = `${e.code}:${e.field}`; }
      };
      const broken = document.createElement('video');
      broken.src = args.notVideo;
      await new Promise((ok) => { broken.onerror = ok; });
      await attempt('errored', () => lib.captureFrame(broken));
      await attempt('empty', () => lib.captureFrame(document.createElement('video')));
      await attempt('notVideo', () => lib.captureFrame(document.createElement('img')));
      const video = document.createElement('video');
      video.muted = true;
      video.src = args.url;
      await attempt('badTime', () => lib.captureFrame(video, { time: -1 }));
      await attempt('pastEnd', () => lib.captureFrame(video, { time: 99 }));
      await attempt('badType', () => lib.captureFrame(video, { type: 'image/gif' }));
      return outcomes;
    }, { notVideo: `${proxy.url}/healthz`, url: urls.mp4 });
    assert.deepEqual(result.ok, {
      errored: 'invalid_parameter:video',
      empty: 'invalid_parameter:video',
      notVideo: 'invalid_parameter:video',
      badTime: 'invalid_parameter:time',
      pastEnd: 'invalid_parameter:time',
      badType: 'invalid_parameter:type',
    });
  });

  test('bad boxes are refused with field "boxes"', async () => {
    const result = await inPage(async (lib, client, args, loadVideo) => {
      const frame = await lib.captureFrame(await loadVideo(args.url), { time: 0.5 });
      const outcomes = [];
      for (const boxes of [[[10, 10, 10, 50]], [[50, 50, 10, 10]], [[0, 0, NaN, 10]], [[2000, 0, 2100, 50]], [[1, 2, 3]], 'nope']) {
        try { await lib.cropFaces(frame, boxes); outcomes.push('resolved'); } catch (e) { outcomes.push(`${e.code}:${e.field}`); }
      }
      return outcomes;
    }, { url: urls.mp4 });
    assert.deepEqual(result.ok, Array(6).fill('invalid_parameter:boxes'));
  });
});

describe('buildRefInfo', () => {
  test('pairs crops with faces, uploads Blobs, refuses more than three', async () => {
    const face = readFileSync(join(media, 'astronaut.png')).toString('base64');
    const result = await inPage(async (lib, client, args, loadVideo) => {
      const frame = await lib.captureFrame(await loadVideo(args.url), { time: 1 });
      const { pos } = await client.extractBase64Face({ base64Img: frame.base64 });
      const crops = await lib.cropFaces(frame, pos);
      const blob = new Blob([Uint8Array.from(atob(args.face), (c) => c.charCodeAt(0))], { type: 'image/png' });
      const refInfo = await client.buildRefInfo(crops, [blob, 'https://cdn.example/new-face.jpg']);
      let tooMany;
      try { await client.buildRefInfo([crops[0], crops[0], crops[0], crops[0]], [blob, blob, blob, blob]); } catch (e) { tooMany = `${e.code}:${e.field}`; }
      let mismatched;
      try { await client.buildRefInfo(crops, [blob]); } catch (e) { mismatched = `${e.code}:${e.field}`; }
      return { refInfo, tooMany, mismatched, crops };
    }, { url: urls.mp4, face });
    assert.ok(result.ok, JSON.stringify(result.error));
    const { refInfo, tooMany, mismatched, crops } = result.ok;
    assert.equal(refInfo.length, 2);
    assert.equal(refInfo[0].faceRef, crops[0]);
    assert.match(refInfo[0].faceUrl, /\/uploads\//);
    assert.equal(refInfo[1].faceUrl, 'https://cdn.example/new-face.jpg');
    assert.equal(tooMany, 'invalid_parameter:refInfo');
    assert.equal(mismatched, 'invalid_parameter:faces');
  });

  test("its code loads with the media helpers', uploading as its client is configured (baseUrl, getToken, retries)", async () => {
    const face = readFileSync(join(media, 'astronaut.png')).toString('base64');
    const result = await inPage(async (lib, _client, args) => {
      const crop = args.face;
      const blob = new Blob([Uint8Array.from(atob(args.face), (c) => c.charCodeAt(0))], { type: 'image/png' });
      const seen = [];
      const realFetch = window.fetch;
      window.fetch = (url, init) => {
        seen.push([String(url), init.headers.Authorization ?? null]);
        return realFetch(url, init);
      };
      try {
        const client = new lib.FaceSwapClient({ baseUrl: '/api/', getToken: () => 'app-token', retries: 0 });
        const refInfo = await client.buildRefInfo([crop], [blob]);
        const loaded = performance.getEntriesByType('resource').some((e) => e.name.endsWith('/media_bg.wasm'));
        let badToken;
        try {
          await new lib.FaceSwapClient({ getToken: () => 42 }).buildRefInfo([crop], [blob]);
        } catch (e) { badToken = `${e.code}:${e.field}`; }
        return { refInfo, seen, loaded, badToken };
      } finally {
        window.fetch = realFetch;
      }
    }, { face });
    assert.ok(result.ok, JSON.stringify(result.error));
    const { refInfo, seen, loaded, badToken } = result.ok;
    assert.match(refInfo[0].faceUrl, /\/uploads\//);
    assert.ok(loaded, 'pkg/media_bg.wasm was fetched');
    assert.deepEqual(seen.filter(([url]) => url.includes('/uploads')), [['/api/uploads', 'Bearer app-token']]);
    assert.equal(badToken, 'invalid_parameter:getToken');
  });
});
