// The library's retries and its getToken option, from the built package in headless Chromium
// against the real proxy in sandbox mode. The page's route interception plays the network
// between them: a submit that reached the proxy but whose answer was lost to a 503, a 400, a
// Retry-After that an abort cuts short, and the Authorization header of every request.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';
import { retryDelay } from '../../src/browser.js';
import { file, inPage } from './page.mjs';

let proxy;
let browser;

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  proxy = await startProxy();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

/** A page of the proxy whose submits (the requests with an Idempotency-Key) go to `onSubmit`. */
async function pageWith(onSubmit) {
  const page = await browser.newPage();
  await page.route('**/api/**', async (route) => {
    const key = route.request().headers()['idempotency-key'];
    if (key === undefined) return route.continue();
    return onSubmit(route, key);
  });
  await page.goto(`${proxy.url}/healthz`);
  return page;
}

const unavailable = { code: 503, error: 'upstream_unavailable', message: 'the provider is overloaded (test)' };
const images = { files: { source: file('astronaut.png'), face: file('camera.png') } };

/** In-page source (inPage takes a function or its source): faceSwap of the two test images,
 * uploaded first, with `options`. */
function faceSwapSource(options) {
  return `async (lib, client, blobs) => {
    const source = await client.upload(blobs.source);
    const face = await client.upload(blobs.face);
    return client.faceSwap({ sourceImage: source.url, faceImage: face.url }, ${JSON.stringify(options)});
  }`;
}

describe('the retry rule (src/browser.js)', () => {
  test('only no answer, 429, 502, 503 and 504 are retried, as often as allowed', () => {
    for (const status of [0, 429, 502, 503, 504]) {
      assert.notEqual(retryDelay(status, null, 0, 2, 0), null, `${status}`);
    }
    for (const status of [400, 401, 403, 404, 409, 413, 415, 422, 500, 501]) {
      assert.equal(retryDelay(status, null, 0, 2, 0), null, `${status}`);
    }
    assert.equal(retryDelay(503, null, 2, 2, 0), null);
    assert.equal(retryDelay(503, null, 0, 0, 0), null);
  });

  test('backs off exponentially with jitter, from 250 ms up to 8 s', () => {
    assert.equal(retryDelay(503, null, 0, 2, 0), 250);
    assert.equal(retryDelay(503, null, 0, 2, 0.999), 499.75);
    assert.equal(retryDelay(503, null, 1, 2, 0), 500);
    assert.equal(retryDelay(0, null, 9, 10, 0.5), 6000);
  });

  test('honours Retry-After in seconds up to a minute', () => {
    assert.equal(retryDelay(429, '3', 0, 2, 0.7), 3000);
    assert.equal(retryDelay(503, ' 60 ', 1, 2, 0.1), 60_000);
    assert.equal(retryDelay(429, '61', 0, 2, 0), null);
    // An HTTP date or anything else is not seconds: the backoff applies.
    assert.equal(retryDelay(503, 'Wed, 21 Oct 2026 07:28:00 GMT', 0, 2, 0), 250);
  });
});

describe('retries', () => {
  test('a submit whose answer was lost to a 503 is retried with its key: one task, no second spend', async () => {
    const seen = [];
    let firstAnswer;
    const page = await pageWith(async (route, key) => {
      seen.push(key);
      if (seen.length === 1) {
        // The proxy takes the submit and the provider starts the task; the answer is lost.
        const real = await route.fetch();
        firstAnswer = await real.json();
        return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify(unavailable) });
      }
      return route.continue();
    });
    try {
      const result = await inPage(page, 'FaceSwapClient', faceSwapSource({}), images);
      assert.ok(result.ok, JSON.stringify(result.error));
      assert.equal(seen.length, 2, 'one retry');
      assert.equal(seen[1], seen[0], 'the retry carries the same Idempotency-Key');
      assert.ok(firstAnswer?.data?.task_id, JSON.stringify(firstAnswer));
      assert.equal(result.ok.taskId, firstAnswer.data.task_id, 'the proxy answered the first task again');
    } finally {
      await page.close();
    }
  });

  test('a 400 is not retried, and retries: 0 turns retrying off', async () => {
    let attempts = 0;
    const page = await pageWith(async (route) => {
      attempts += 1;
      const answer = attempts === 1
        ? { status: 400, body: { code: 400, error: 'invalid_parameter', message: 'face_image is not a face (test)', field: 'face_image' } }
        : { status: 503, body: unavailable };
      return route.fulfill({ status: answer.status, contentType: 'application/json', body: JSON.stringify(answer.body) });
    });
    try {
      const refused = await inPage(page, 'FaceSwapClient', faceSwapSource({}), images);
      assert.equal(refused.error?.code, 'invalid_parameter', JSON.stringify(refused));
      assert.equal(refused.error.field, 'faceImage');
      assert.equal(attempts, 1);

      const off = await inPage(page, null, async (lib, client, blobs) => {
        const noRetries = new lib.FaceSwapClient({ retries: 0 });
        const source = await noRetries.upload(blobs.source);
        return noRetries.faceSwap({ sourceImage: source.url, faceImage: source.url });
      }, images);
      assert.equal(off.error?.code, 'upstream_unavailable', JSON.stringify(off));
      assert.equal(attempts, 2, 'the 503 was not retried');
    } finally {
      await page.close();
    }
  });

  test('an abort during the backoff rejects with aborted at once', async () => {
    let attempts = 0;
    const page = await pageWith(async (route) => {
      attempts += 1;
      return route.fulfill({
        status: 503,
        headers: { 'Retry-After': '30' },
        contentType: 'application/json',
        body: JSON.stringify(unavailable),
      });
    });
    try {
      const result = await inPage(page, 'FaceSwapClient', async (lib, client, blobs) => {
        const source = await client.upload(blobs.source);
        const controller = new AbortController();
        const started = performance.now();
        const submit = client.faceSwap({ sourceImage: source.url, faceImage: source.url }, { signal: controller.signal });
        setTimeout(() => controller.abort(), 500);
        try {
          await submit;
          return { resolved: true };
        } catch (e) {
          return { code: e.code, elapsed: performance.now() - started };
        }
      }, images);
      assert.equal(result.ok?.code, 'aborted', JSON.stringify(result));
      assert.ok(result.ok.elapsed < 5_000, `rejected after ${result.ok.elapsed} ms, not after Retry-After's 30 s`);
      assert.equal(attempts, 1);
    } finally {
      await page.close();
    }
  });

  test('bad retries and getToken options name their field', async () => {
    const page = await pageWith((route) => route.continue());
    try {
      const result = await inPage(page, null, async (lib) => {
        const codes = [];
        for (const options of [{ retries: -1 }, { retries: 1.5 }, { retries: 11 }, { retries: '2' }, { getToken: 'token' }]) {
          try {
            new lib.PiApiClient(options);
            codes.push(null);
          } catch (e) {
            codes.push([e.code, e.field]);
          }
        }
        return codes;
      });
      assert.deepEqual(result.ok, [
        ['invalid_parameter', 'retries'], ['invalid_parameter', 'retries'], ['invalid_parameter', 'retries'],
        ['invalid_parameter', 'retries'], ['invalid_parameter', 'getToken'],
      ]);
    } finally {
      await page.close();
    }
  });
});

describe('getToken', () => {
  test('is called for every request and its token sent as a bearer token', async () => {
    const page = await browser.newPage();
    const authorizations = [];
    await page.route('**/api/**', (route) => {
      authorizations.push([new URL(route.request().url()).pathname, route.request().headers().authorization ?? null]);
      return route.continue();
    });
    await page.goto(`${proxy.url}/healthz`);
    try {
      const result = await inPage(page, null, async (lib, client, blobs) => {
        let issued = 0;
        const withToken = new lib.FaceSwapClient({ getToken: async () => `token-${(issued += 1)}` });
        const source = await withToken.upload(blobs.source);
        const face = await withToken.upload(blobs.face);
        const created = await withToken.faceSwap({ sourceImage: source.url, faceImage: face.url });
        const failing = new lib.FaceSwapClient({ getToken: () => { throw new Error('signed out'); } });
        let refused;
        try {
          await failing.upload(blobs.face);
        } catch (e) {
          refused = { code: e.code, message: e.message };
        }
        return { created, issued, refused };
      }, images);
      assert.ok(result.ok?.created?.taskId, JSON.stringify(result));
      assert.equal(result.ok.issued, 3);
      assert.deepEqual(authorizations.map(([, auth]) => auth), ['Bearer token-1', 'Bearer token-2', 'Bearer token-3']);
      assert.equal(result.ok.refused.code, 'unauthorized');
      assert.match(result.ok.refused.message, /getToken failed: signed out/);
    } finally {
      await page.close();
    }
  });

  test("carries each user's token to a proxy that checks them (AUTH_HS256_SECRET)", async () => {
    const secret = 'an app secret for the end-to-end test, 32 bytes or more';
    const users = await startProxy({ AUTH_HS256_SECRET: secret, AUTH_AUDIENCE: 'faceswap-e2e' });
    const page = await browser.newPage();
    try {
      await page.goto(`${users.url}/healthz`);
      const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const jwt = (sub) => {
        const signed = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, aud: 'faceswap-e2e', exp: Math.floor(Date.now() / 1000) + 600 })}`;
        return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
      };
      const result = await inPage(page, null, async (lib, client, blobs, args) => {
        const signedIn = new lib.FaceSwapClient({ getToken: () => Promise.resolve(args.token) });
        const source = await signedIn.upload(blobs.source);
        const face = await signedIn.upload(blobs.face);
        const created = await signedIn.faceSwap({ sourceImage: source.url, faceImage: face.url });
        const task = await signedIn.waitForResult(created.taskId, { timeoutMs: 60_000 });
        let anonymous;
        try {
          await new lib.FaceSwapClient().upload(blobs.face);
        } catch (e) {
          anonymous = { code: e.code, status: e.status };
        }
        return { status: task.status, anonymous };
      }, { ...images, token: jwt('ada') });
      assert.equal(result.ok?.status, 'succeeded', JSON.stringify(result));
      assert.deepEqual(result.ok.anonymous, { code: 'unauthorized', status: 401 });
    } finally {
      await page.close();
      await users.stop();
    }
  });
});
