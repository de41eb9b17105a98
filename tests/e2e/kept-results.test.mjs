// Results that outlive the provider (KEEP_RESULTS), against the real proxy binary and its
// built-in sandbox: a face swap's result is copied by the proxy (FETCH_ALLOW_PRIVATE admits the
// sandbox, plain http on loopback) and still served, whole and by range, after the sandbox has
// deleted its own copy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { root, startProxy } from '../../scripts/harness.mjs';

const media = join(root, 'target', 'test-media');
let proxy;

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  proxy = await startProxy({ KEEP_RESULTS: 'true', FETCH_ALLOW_PRIVATE: 'true' });
});

after(async () => {
  await proxy?.stop();
});

/** Uploads a test image; resolves to its URL at the proxy. */
async function upload(name) {
  const res = await fetch(`${proxy.url}/api/uploads`, {
    method: 'POST',
    headers: { 'Content-Type': 'image/png' },
    body: readFileSync(join(media, name)),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).url;
}

/** Waits until `check()` resolves truthy, within `ms`; resolves to its value. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a kept result is still served after the sandbox deleted its own copy", async () => {
  const res = await fetch(`${proxy.url}/api/aifaceswap/v1/faceswap`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ source_image: await upload('astronaut.png'), face_image: await upload('camera.png') }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const taskId = (await res.json()).data.task_id;
  const task = await until(async () => {
    const view = await (await fetch(`${proxy.url}/api/aifaceswap/tasks/${taskId}`)).json();
    return view.status === 'pending' ? null : view;
  }, 90_000, 'the swap');
  assert.equal(task.status, 'succeeded', JSON.stringify(task));
  const kept = `${proxy.url}/results/aifaceswap/${taskId}`;
  assert.equal(task.result_url, kept);
  assert.notEqual(task.provider_result_url, kept);
  const original = await (await fetch(task.provider_result_url)).arrayBuffer();

  // Copied in the background: until then the address redirects to the provider's.
  await until(async () => (await fetch(kept, { redirect: 'manual' })).status === 200, 20_000, 'the copy');
  rmSync(join(proxy.data, 'sandbox', 'results', basename(new URL(task.provider_result_url).pathname)));
  assert.equal((await fetch(task.provider_result_url)).status, 404, "the sandbox's copy is gone");

  const whole = await fetch(kept, { redirect: 'manual' });
  assert.equal(whole.status, 200);
  assert.match(whole.headers.get('content-type'), /^image\//);
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), Buffer.from(original));
  const part = await fetch(kept, { headers: { Range: 'bytes=0-99' }, redirect: 'manual' });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 0-99/${original.byteLength}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), Buffer.from(original).subarray(0, 100));
});
