// The library's transport in src/browser.js, in Node against a fake `fetch`:
// - `post`, every submit and upload: its headers, the JSON of a 2xx answer, and the failures it
//   names (Refused with what the proxy answered, Aborted, TimedOut, NotJson);
// - `taskStates`, waitForResult's: the event stream and its reconnection with Last-Event-ID, a
//   state the wasm could not read not taken as read, polling where the answer is no stream or
//   streaming keeps failing, and a refusal of the proxy, the abort, the time limit and a failing
//   getToken ending it.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { post, taskStates } from '../../src/browser.js';

const URL = '/api/acedata/tasks/t1';
const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** An event-stream answer with these events (each `[id or null, data]`). */
function stream(events) {
  const text = events.map(([id, data]) => `${id === null ? '' : `id: ${id}\n`}event: status\ndata: ${data}\n\n`).join('');
  return new Response(text, { headers: { 'Content-Type': 'text/event-stream' } });
}

/** Installs a fetch answering the n-th call with `answers[n]()`; returns the calls it saw. */
function fakeFetch(answers) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, headers: { ...init.headers }, body: init.body, method: init.method, at: Date.now() });
    const answer = answers[calls.length - 1];
    if (!answer) throw new Error(`unexpected call ${calls.length} to ${url}`);
    return answer();
  };
  return calls;
}

const signal = () => AbortSignal.timeout(30_000);

/** `promise`, with Node kept awake until it settles: `AbortSignal.timeout`'s timer does not. */
async function awake(promise) {
  const timer = setInterval(() => {}, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(timer);
  }
}

test('the stream: each event in turn, then a reconnection with Last-Event-ID after it ends', async () => {
  const calls = fakeFetch([
    () => stream([['1', '{"s":"pending"}'], ['2', '{"s":"running"}']]),
    () => stream([['3', '{"s":"succeeded"}']]),
  ]);
  const states = taskStates(URL, 0, null, signal());
  assert.equal(await states.next(false), '{"s":"pending"}');
  assert.equal(await states.next(false), '{"s":"running"}');
  assert.equal(await states.next(false), '{"s":"succeeded"}');
  states.stop();
  assert.deepEqual(calls.map((c) => [c.url, c.headers]), [
    [`${URL}/events`, { Accept: 'text/event-stream' }],
    [`${URL}/events`, { Accept: 'text/event-stream', 'Last-Event-ID': '2' }],
  ]);
  assert.ok(calls[1].at - calls[0].at >= 240, 'reconnects after 250 ms');
});

test('a state the wasm could not read is not taken as read: the stream is opened again from the last one read', async () => {
  const calls = fakeFetch([
    () => stream([['1', '{"s":"pending"}'], ['2', 'not json']]),
    () => stream([['2', '{"s":"succeeded"}']]),
  ]);
  const states = taskStates(URL, 0, null, signal());
  assert.equal(await states.next(false), '{"s":"pending"}');
  assert.equal(await states.next(false), 'not json');
  assert.equal(await states.next(true), '{"s":"succeeded"}');
  assert.equal(calls[1].headers['Last-Event-ID'], '1');
  assert.ok(calls[1].at - calls[0].at >= 490, 'a failure doubles the pause to 500 ms');
});

test('an answer that is no event stream: the task is polled, with growing pauses', async () => {
  const calls = fakeFetch([
    () => Response.json({ s: 'pending' }),
    () => Response.json({ s: 'pending' }),
    () => Response.json({ s: 'running' }),
    () => Response.json({ s: 'succeeded' }),
  ]);
  const states = taskStates(URL, 0, null, signal());
  assert.equal(await states.next(false), '{"s":"pending"}');
  assert.equal(await states.next(false), '{"s":"running"}');
  assert.equal(await states.next(false), '{"s":"succeeded"}');
  assert.deepEqual(calls.map((c) => c.url), [`${URL}/events`, URL, URL, URL]);
  assert.deepEqual(calls[1].headers, {});
  const pauses = calls.slice(1).map((c, i) => c.at - calls[i].at);
  assert.ok(pauses[0] >= 240 && pauses[1] >= 365 && pauses[2] >= 550, `pauses ${pauses}`);
});

test('three failed streams in a row: the wait polls instead', async () => {
  const calls = fakeFetch([
    () => new Response('busy', { status: 500 }),
    () => new Response('busy', { status: 503 }),
    () => new Response('busy', { status: 408 }),
    () => Response.json({ s: 'succeeded' }),
  ]);
  const states = taskStates(URL, 0, null, signal());
  assert.equal(await states.next(false), '{"s":"succeeded"}');
  assert.deepEqual(calls.map((c) => c.url), [`${URL}/events`, `${URL}/events`, `${URL}/events`, URL]);
});

test('a refusal of the proxy (a 4xx but 408 and 429) ends it: rejected as Refused with its status and body', async () => {
  fakeFetch([() => Response.json({ error: 'not_found' }, { status: 404 })]);
  await assert.rejects(taskStates(URL, 0, null, signal()).next(false), (e) => (
    e.name === 'Refused' && e.status === 404 && e.body.error === 'not_found' && e.retryAfter === null
  ));
});

test('the abort rejects, in a pause too; a failing getToken rejects at once', async () => {
  fakeFetch([() => new Response('busy', { status: 500 })]);
  const controller = new AbortController();
  const pending = taskStates(URL, 0, null, controller.signal).next(false);
  setTimeout(() => controller.abort(new Error('stop')), 100);
  await assert.rejects(pending, (e) => e.name === 'Aborted');

  const calls = fakeFetch([]);
  const getToken = () => { throw new Error('signed out'); };
  await assert.rejects(taskStates(URL, 0, getToken, signal()).next(false), (e) => e.name === 'GetTokenFailed');
  assert.equal(calls.length, 0);
});

test('post: a JSON text with its type and key, resolving the JSON of a 2xx answer', async () => {
  const calls = fakeFetch([() => Response.json({ task_id: 't1' })]);
  assert.deepEqual(await post('/api/p/run', '{"a":1}', 'key-1', null, 1000, 0, null), { task_id: 't1' });
  assert.deepEqual(calls.map((c) => [c.method, c.url, c.headers, c.body]), [
    ['POST', '/api/p/run', { 'Idempotency-Key': 'key-1', 'Content-Type': 'application/json' }, '{"a":1}'],
  ]);
});

test('post: a Blob goes with its type (or octet-stream), a FormData with none; no key when none is given', async () => {
  const calls = fakeFetch([
    () => Response.json({}),
    () => Response.json({}),
    () => Response.json({}),
  ]);
  await post('/api/uploads', new Blob(['x'], { type: 'image/png' }), null, null, Infinity, 0, null);
  await post('/api/uploads', new Blob(['x']), undefined, null, 0, 0, null);
  await post('/api/p/run', new FormData(), 'k', null, 1000, 0, null);
  assert.deepEqual(calls.map((c) => c.headers), [
    { 'Content-Type': 'image/png' },
    { 'Content-Type': 'application/octet-stream' },
    { 'Idempotency-Key': 'k' },
  ]);
});

test('post: an empty key is a fresh random one for each call, the same on its retries', async () => {
  const calls = fakeFetch([
    () => new Response('busy', { status: 503, headers: { 'Retry-After': '0' } }),
    () => Response.json({}),
    () => Response.json({}),
  ]);
  await post('/api/p/run', '{}', '', null, 1000, 2, null);
  await post('/api/p/run', '{}', '', null, 1000, 2, null);
  const keys = calls.map((c) => c.headers['Idempotency-Key']);
  assert.match(keys[0], /^[0-9a-f]{32}$/);
  assert.equal(keys[1], keys[0]);
  assert.match(keys[2], /^[0-9a-f]{32}$/);
  assert.notEqual(keys[2], keys[0]);
});

test('post: another answer rejects as Refused (status, Retry-After, JSON body or none); a 2xx that is no JSON as NotJson', async () => {
  fakeFetch([
    () => Response.json({ error: 'rate_limited' }, { status: 429, headers: { 'Retry-After': '120' } }),
    () => new Response('Bad Gateway', { status: 502 }),
    () => new Response('<html>', { headers: { 'Content-Type': 'text/html' } }),
  ]);
  await assert.rejects(post('/api/p/run', '{}', 'k', null, 1000, 0, null), (e) => (
    e.name === 'Refused' && e.status === 429 && e.retryAfter === '120' && e.body.error === 'rate_limited'
  ));
  await assert.rejects(post('/api/p/run', '{}', 'k', null, 1000, 0, null), (e) => (
    e.name === 'Refused' && e.status === 502 && e.body === undefined
  ));
  await assert.rejects(post('/api/p/run', '{}', 'k', null, 1000, 0, null), (e) => e.name === 'NotJson');
});

test('post: the caller\'s abort rejects as Aborted (before any request when already aborted), the time limit as TimedOut', async () => {
  const calls = fakeFetch([() => new Promise(() => {})]);
  await assert.rejects(post('/api/p/run', '{}', 'k', AbortSignal.abort(), 1000, 0, null), (e) => e.name === 'Aborted');
  assert.equal(calls.length, 0);
  globalThis.fetch = (url, init) => new Promise((_, reject) => {
    init.signal.addEventListener('abort', () => reject(init.signal.reason));
  });
  await awake(assert.rejects(post('/api/p/run', '{}', 'k', new AbortController().signal, 50, 0, null), (e) => e.name === 'TimedOut'));
});

test('taskStates: the wait\'s time limit rejects as TimedOut', async () => {
  fakeFetch([() => new Response('busy', { status: 500 })]);
  await awake(assert.rejects(taskStates(URL, 0, null, null, 100).next(false), (e) => e.name === 'TimedOut'));
});
