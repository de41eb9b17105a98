// Signed task events to the app's own backend (APP_WEBHOOK_URL): a receiver in this file checks
// every delivery with the Standard Webhooks specification's own npm package, against each of the
// two secrets the proxy signs with. The sandbox fails every task at once
// (SANDBOX_FAIL_TASKS_NEXT), so each task ends within a moment of its submit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { freePort, startPostgres, startProxy } from '../../scripts/harness.mjs';

const SECRETS = [`whsec_${randomBytes(24).toString('base64')}`, `whsec_${randomBytes(32).toString('base64')}`];

/** Everything the tests start, stopped at the end whatever happened. */
const running = [];
after(async () => {
  for (const thing of running.reverse()) await thing.stop();
});

/**
 * The app's backend: records every request; `mode` says how it answers: `ok` (204, after
 * checking the signatures), `down` (503), `gone` (410), `hang` (never answers).
 */
async function startReceiver() {
  const port = await freePort();
  const receiver = {
    url: `http://127.0.0.1:${port}/events`,
    mode: 'ok',
    /** Every request, in order: `{ id, answered, headers, body }`. */
    requests: [],
    /** Deliveries answered 2xx, their signatures checked: `{ id, event }`. */
    delivered: [],
    /** Deliveries whose signatures did not check, with why. */
    invalid: [],
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request = { id: req.headers['webhook-id'], answered: receiver.mode, headers: req.headers, body };
      receiver.requests.push(request);
      if (receiver.mode === 'hang') return;
      if (receiver.mode === 'down' || receiver.mode === 'gone') {
        res.writeHead(receiver.mode === 'down' ? 503 : 410).end();
        return;
      }
      try {
        // One signature per secret, space separated: each secret alone verifies the delivery.
        assert.equal(req.headers['webhook-signature'].split(' ').length, SECRETS.length);
        let event;
        for (const secret of SECRETS) event = new Webhook(secret).verify(body, req.headers);
        receiver.delivered.push({ id: request.id, event });
        res.writeHead(204).end();
      } catch (err) {
        receiver.invalid.push({ id: request.id, error: String(err) });
        res.writeHead(400).end();
      }
    });
  });
  await new Promise((done) => server.listen(port, '127.0.0.1', done));
  receiver.stop = () =>
    new Promise((done) => {
      server.closeAllConnections();
      server.close(done);
    });
  running.push(receiver);
  return receiver;
}

/** A proxy sending its task events to `receiver`, quickly retried. */
async function proxyFor(receiver, env = {}) {
  const proxy = await startProxy({
    APP_WEBHOOK_URL: receiver.url,
    APP_WEBHOOK_SECRET: SECRETS.join(' '),
    APP_WEBHOOK_RETRY_MS: '200',
    SANDBOX_FAIL_TASKS_NEXT: '1000',
    ...env,
  });
  running.push(proxy);
  return proxy;
}

/**
 * Submits a face swap to the sandbox through `proxy` (inputs on loopback, which the sandbox
 * accepts; the task fails before they are read); resolves to its task id.
 */
async function submit(proxy) {
  const res = await fetch(`${proxy.url}/api/aifaceswap/v1/faceswap`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ source_image: `${proxy.url}/a.jpg`, face_image: `${proxy.url}/b.jpg` }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  const taskId = body.data?.task_id;
  assert.ok(taskId, JSON.stringify(body));
  return taskId;
}

/** Waits until `check()` is truthy, within `ms`. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('every change is delivered once, signed with each secret, and carries no secret', async () => {
  const receiver = await startReceiver();
  const proxy = await proxyFor(receiver, { APP_WEBHOOK_EVENTS: 'all' });
  const ids = [await submit(proxy), await submit(proxy)];
  await until(() => receiver.delivered.length >= 4, 20_000, 'two events per task');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(receiver.invalid, []);
  const seen = receiver.delivered.map(({ event }) => `${event.data.task_id} ${event.type}`).sort();
  assert.deepEqual(seen, ids.flatMap((id) => [`${id} task.failed`, `${id} task.pending`]).sort());
  for (const { id, event } of receiver.delivered) {
    assert.match(id, /^msg_[0-9a-f]{32}$/);
    assert.equal(event.data.provider, 'aifaceswap');
    assert.equal(event.timestamp, event.data.updated_at);
    for (const field of ['task_id', 'status', 'type', 'result_url', 'points', 'created_at', 'updated_at']) {
      assert.ok(field in event.data, `${field} in ${JSON.stringify(event)}`);
    }
  }
  assert.equal(new Set(receiver.delivered.map((d) => d.id)).size, 4, 'one id per event');
  for (const { headers, body } of receiver.requests) {
    assert.equal(headers['content-type'], 'application/json');
    assert.ok(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000) < 60);
    for (const secret of SECRETS) assert.ok(!body.includes(secret.slice(6)), 'no secret in a body');
    assert.ok(!/hooks\/|token|api_key|authorization/i.test(body), body);
  }
});

test('by default only the end of a task is sent; a failed delivery is tried again until it arrives', async () => {
  const receiver = await startReceiver();
  receiver.mode = 'down';
  const proxy = await proxyFor(receiver);
  const taskId = await submit(proxy);
  await until(() => receiver.requests.length >= 3, 20_000, 'three refused tries');
  receiver.mode = 'ok';
  await until(() => receiver.delivered.length === 1, 20_000, 'the delivery after the receiver is back');
  const [{ id, event }] = receiver.delivered;
  assert.equal(event.type, 'task.failed');
  assert.equal(event.data.task_id, taskId);
  assert.equal(event.data.status, 'failed');
  // Every try was the same event.
  assert.deepEqual(new Set(receiver.requests.map((r) => r.id)), new Set([id]));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(receiver.delivered.length, 1, 'nothing after the delivery');
});

test('410 Gone stops every delivery to that URL', async () => {
  const receiver = await startReceiver();
  receiver.mode = 'gone';
  const proxy = await proxyFor(receiver);
  await submit(proxy);
  await until(() => receiver.requests.length === 1, 20_000, 'the first delivery');
  receiver.mode = 'ok';
  await submit(proxy);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(receiver.requests.length, 1, 'nothing after the 410, not even a retry');
  assert.deepEqual(receiver.delivered, []);
});

test('a proxy killed (SIGKILL) in the middle of a delivery delivers it after its restart', async () => {
  const receiver = await startReceiver();
  receiver.mode = 'hang';
  const env = { APP_WEBHOOK_TIMEOUT_MS: '1000' };
  const first = await proxyFor(receiver, env);
  const taskId = await submit(first);
  await until(() => receiver.requests.length === 1, 20_000, 'the delivery in flight');
  await first.kill();
  receiver.mode = 'ok';
  // The same database and folders: what a restarted service finds.
  await proxyFor(receiver, {
    ...env,
    DATABASE_URL: `sqlite://${join(first.data, 'faceswap.db')}`,
    UPLOAD_DIR: join(first.data, 'uploads'),
  });
  await until(() => receiver.delivered.length === 1, 20_000, 'the delivery after the restart');
  assert.equal(receiver.delivered[0].id, receiver.requests[0].id, 'the same event');
  assert.equal(receiver.delivered[0].event.data.task_id, taskId);
});

test('two proxies on one PostgreSQL database deliver each event once', async () => {
  const receiver = await startReceiver();
  const pg = await startPostgres();
  running.push(pg);
  const env = { DATABASE_URL: pg.url, APP_WEBHOOK_EVENTS: 'all' };
  const proxies = [await proxyFor(receiver, env), await proxyFor(receiver, env)];
  const ids = [];
  for (let i = 0; i < 6; i += 1) ids.push(await submit(proxies[i % 2]));
  await until(() => new Set(receiver.delivered.map((d) => d.id)).size >= 12, 30_000, 'two events per task');
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(receiver.invalid, []);
  // Each (task, type) came with one webhook-id, whichever proxy sent it; a repeat would carry
  // the same id.
  const idsByEvent = new Map();
  for (const { id, event } of receiver.delivered) {
    const key = `${event.data.task_id} ${event.type}`;
    idsByEvent.set(key, new Set([...(idsByEvent.get(key) ?? []), id]));
  }
  assert.deepEqual([...idsByEvent.keys()].sort(), ids.flatMap((id) => [`${id} task.failed`, `${id} task.pending`]).sort());
  for (const [key, eventIds] of idsByEvent) assert.equal(eventIds.size, 1, key);
  assert.equal(receiver.delivered.length, 12, 'no event delivered twice');
});
