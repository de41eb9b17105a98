// The built package (pkg/faceswap_wasm.js) driven in headless Chromium against the real proxy in
// sandbox mode: every operation end to end, and every error path a caller can meet.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, launchChromium, root, startProxy } from '../../scripts/harness.mjs';

const media = join(root, 'target', 'test-media');
let proxy;
let browser;
let page;

/** Runs `fn(lib, client, args)` in the page, with the package loaded and a client for `/api`. */
function inPage(fn, args = {}) {
  return page.evaluate(
    async ({ source, args }) => {
      const lib = await import('/pkg/faceswap_wasm.js');
      await lib.default();
      const client = new lib.FaceSwapClient({ baseUrl: args.baseUrl ?? '/api', timeoutMs: 60_000 });
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
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

describe('every operation, end to end through the proxy and the sandbox', () => {
  test('upload stores a file and answers a URL that serves it', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const uploaded = await client.upload(blobs.face);
      const served = await fetch(uploaded.url);
      return { ...uploaded, servedType: served.headers.get('content-type'), servedSize: (await served.arrayBuffer()).byteLength };
    }, { files: { face: file('camera.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.contentType, 'image/png');
    assert.equal(result.ok.servedType, 'image/png');
    assert.equal(result.ok.size, readFileSync(join(media, 'camera.png')).length);
    assert.equal(result.ok.servedSize, result.ok.size);
    assert.match(result.ok.url, /^http:\/\/127\.0\.0\.1:\d+\/uploads\//);
  });

  test('faceSwap with two Blobs (multipart) ends in a result image', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const statuses = [];
      const created = await client.faceSwap({ sourceImage: blobs.source, faceImage: blobs.face });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 60_000, onStatus: (t) => statuses.push(t.status) });
      const image = await createImageBitmap(await (await fetch(task.resultUrl)).blob());
      return { created, task, statuses, width: image.width, height: image.height };
    }, { files: { source: file('astronaut.png', 'image/png'), face: file('camera.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.created.points, 2);
    assert.equal(result.ok.task.status, 'succeeded');
    assert.equal(result.ok.task.taskId, result.ok.created.taskId);
    assert.equal(result.ok.statuses.at(-1), 'succeeded');
    assert.deepEqual([result.ok.width, result.ok.height], [512, 512]);
  });

  test('extractFace, multiFaceSwap and extractBase64Face on a two-face photo', async () => {
    const result = await inPage(async (lib, client, blobs, args) => {
      const group = await client.upload(blobs.group);
      const face = await client.upload(blobs.face);
      const extracted = await client.extractFace({ img: group.url });
      const fromBlob = await client.extractFace({ img: blobs.group });
      const base64 = await client.extractBase64Face({ base64Img: `data:image/png;base64,${args.files.group.base64}` });
      const created = await client.multiFaceSwap({ sourceImage: group.url, faceImage: [face.url], index: [1] });
      const task = await client.waitForResult(created.taskId);
      return { extracted, fromBlob, base64, created, task };
    }, { files: { group: file('two-faces.png', 'image/png'), face: file('astronaut.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    const { extracted, fromBlob, base64, created, task } = result.ok;
    assert.equal(extracted.faces.length, 2);
    assert.equal(extracted.points, 2);
    assert.ok(extracted.faces[0][0] < extracted.faces[1][0], 'boxes are sorted left to right');
    for (const box of extracted.faces) assert.ok(box[2] > box[0] && box[3] > box[1]);
    assert.deepEqual(fromBlob.faces, extracted.faces);
    assert.deepEqual(base64.pos, extracted.faces);
    assert.equal(created.points, 5);
    assert.equal(task.status, 'succeeded');
  });

  test("multiFaceSwap with Blobs goes as the provider's file form, one face_image per face", async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const sent = [];
      const original = globalThis.fetch;
      globalThis.fetch = async (...a) => {
        const request = new Request(...a);
        if (request.url.includes('multi_faceswap')) {
          sent.push([...(await request.clone().formData()).keys()]);
        }
        if (request.url.includes('/api/uploads')) sent.push('upload');
        return original(request);
      };
      try {
        const created = await client.multiFaceSwap({ sourceImage: blobs.group, faceImage: [blobs.face, blobs.other], index: [0, 1] });
        const task = await client.waitForResult(created.taskId);
        return { created, task, submits: sent };
      } finally {
        globalThis.fetch = original;
      }
    }, { files: { group: file('two-faces.png', 'image/png'), face: file('astronaut.png', 'image/png'), other: file('camera.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    const { created, task, submits } = result.ok;
    assert.equal(created.points, 5);
    assert.equal(task.status, 'succeeded');
    assert.deepEqual(submits, [['source_image', 'face_image', 'face_image', 'index', 'index']], 'no upload first');
  });

  test('videoFaceSwap with a video Blob (uploaded first) ends in a playable mp4', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const created = await client.videoFaceSwap({ sourceVideo: blobs.video, faceImage: blobs.face, duration: 3 });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 120_000 });
      const video = document.createElement('video');
      video.muted = true;
      video.src = task.resultUrl;
      await new Promise((ok, fail) => { video.onloadedmetadata = ok; video.onerror = () => fail(new Error('video did not load')); });
      return { created, task, width: video.videoWidth, height: video.videoHeight, duration: video.duration };
    }, { files: { video: file('two-faces.mp4', 'video/mp4'), face: file('astronaut.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.created.points, 6);
    assert.equal(result.ok.task.status, 'succeeded');
    assert.deepEqual([result.ok.width, result.ok.height], [1024, 512]);
    assert.ok(Math.abs(result.ok.duration - 3) < 0.2, `duration ${result.ok.duration}`);
  });

  test('multiVideoFaceSwap with a face crop as faceRef', async () => {
    const result = await inPage(async (lib, client, blobs, args) => {
      const video = await client.upload(blobs.video);
      const bitmap = await createImageBitmap(blobs.group);
      const { pos } = await client.extractBase64Face({ base64Img: args.files.group.base64 });
      const [x1, y1, x2, y2] = pos[0];
      const canvas = new OffscreenCanvas(x2 - x1, y2 - y1);
      canvas.getContext('2d').drawImage(bitmap, x1, y1, x2 - x1, y2 - y1, 0, 0, x2 - x1, y2 - y1);
      const crop = await canvas.convertToBlob({ type: 'image/jpeg' });
      const bytes = new Uint8Array(await crop.arrayBuffer());
      let binary = '';
      for (const b of bytes) binary += String.fromCharCode(b);
      const refInfo = [{ faceRef: btoa(binary), faceUrl: blobs.face }];
      const estimate = lib.estimateCredits('multiVideoFaceSwap', { duration: 3, refInfo });
      const created = await client.multiVideoFaceSwap({ sourceVideo: video.url, refInfo, duration: 3 });
      const task = await client.waitForResult(created.taskId, { timeoutMs: 120_000 });
      return { estimate, created, task };
    }, { files: { video: file('two-faces.mp4', 'video/mp4'), group: file('two-faces.png', 'image/png'), face: file('camera.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.estimate, 12);
    assert.equal(result.ok.created.points, 12);
    assert.equal(result.ok.task.status, 'succeeded');
    assert.match(result.ok.task.resultUrl, /^https?:\/\//);
  });
});

describe('error paths', () => {
  test('invalid input is rejected with the field and no request', async () => {
    const result = await inPage(async (lib, client) => {
      let calls = 0;
      const realFetch = globalThis.fetch;
      globalThis.fetch = (...a) => { calls += 1; return realFetch(...a); };
      try {
        await client.multiFaceSwap({ sourceImage: 'https://x.example/a.png', faceImage: ['https://x.example/b.png'], index: [0, 1] });
      } catch (e) {
        return { code: e.code, field: e.field, message: e.message, calls, isError: e instanceof Error };
      } finally {
        globalThis.fetch = realFetch;
      }
    });
    assert.deepEqual(result.ok, { code: 'invalid_parameter', field: 'index', message: 'index has 2 entries but faceImage has 1', calls: 0, isError: true });
  });

  test('a 4xx from the proxy keeps its code, status and field', async () => {
    const result = await inPage(async (lib, client) => client.upload(new Blob(['GIF89a, not accepted'], { type: 'image/gif' })));
    assert.equal(result.error.code, 'unsupported_media_type');
    assert.equal(result.error.status, 415);
    assert.equal(result.error.name, 'FaceSwapError');
  });

  test('a 5xx from the proxy (provider unreachable) is upstream_unavailable', async () => {
    const deadPort = await freePort();
    const broken = await startProxy({ AIFACESWAP_API_KEY: 'test-key-not-real', AIFACESWAP_BASE_URL: `http://127.0.0.1:${deadPort}`, ALLOWED_ORIGINS: proxy.url });
    try {
      const result = await inPage(async (lib, client) => client.extractFace({ img: 'https://cdn.example/a.png' }), { baseUrl: `${broken.url}/api` });
      assert.ok(result.error, JSON.stringify(result));
      assert.ok(result.error.status >= 500, `status ${result.error.status}`);
      assert.match(result.error.code, /^upstream_(unavailable|error)$/);
      assert.ok(!JSON.stringify(result.error).includes('test-key-not-real'));
    } finally {
      await broken.stop();
    }
  });

  test('an unreachable proxy is a network_error', async () => {
    const port = await freePort();
    const result = await inPage(async (lib, client) => client.extractFace({ img: 'https://cdn.example/a.png' }), { baseUrl: `http://127.0.0.1:${port}/api` });
    assert.equal(result.error.code, 'network_error');
    assert.equal(result.error.status, undefined);
  });

  test('abort and timeout while waiting for a video task', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const video = await client.upload(blobs.video);
      const face = await client.upload(blobs.face);
      const created = await client.videoFaceSwap({ sourceVideo: video.url, faceImage: face.url, duration: 3 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const errors = [];
      for (const options of [{ signal: controller.signal }, { timeoutMs: 50 }]) {
        try {
          await client.waitForResult(created.taskId, options);
          errors.push(null);
        } catch (e) {
          errors.push(e.code);
        }
      }
      const task = await client.waitForResult(created.taskId, { timeoutMs: 120_000 });
      return { errors, status: task.status };
    }, { files: { video: file('two-faces.mp4', 'video/mp4'), face: file('astronaut.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.deepEqual(result.ok.errors, ['aborted', 'timeout']);
    assert.equal(result.ok.status, 'succeeded');
  });

  test('a task the provider fails (no face in the image) rejects with task_failed', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const canvas = new OffscreenCanvas(256, 256);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#3a7';
      ctx.fillRect(0, 0, 256, 256);
      const blank = await canvas.convertToBlob({ type: 'image/png' });
      const created = await client.faceSwap({ sourceImage: blank, faceImage: blobs.face });
      return client.waitForResult(created.taskId, { timeoutMs: 60_000 });
    }, { files: { face: file('astronaut.png', 'image/png') } });
    assert.equal(result.error?.code, 'task_failed', JSON.stringify(result));
    assert.equal(result.error.task.status, 'failed');
  });

  test('a retried submit with the same Idempotency-Key answers the same task', async () => {
    const result = await inPage(async (lib, client, blobs) => {
      const source = await client.upload(blobs.source);
      const face = await client.upload(blobs.face);
      const request = { sourceImage: source.url, faceImage: face.url };
      const first = await client.faceSwap(request, { idempotencyKey: 'e2e-retry-1' });
      const second = await client.faceSwap(request, { idempotencyKey: 'e2e-retry-1' });
      return { first, second };
    }, { files: { source: file('astronaut.png', 'image/png'), face: file('camera.png', 'image/png') } });
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.ok.second.taskId, result.ok.first.taskId);
  });
});
