// The transport of waitForResult (`taskStates` in src/browser.js), in Node against a fake
// `fetch`: the event stream and its reconnection with Last-Event-ID, a refused state not taken
// as read, polling where the answer is no stream or streaming keeps failing, a refusal of the
// proxy handed over as its Response, and the abort and a failing getToken ending it.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { taskStates } from '../../src/browser.js';

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
    calls.push({ url, headers: { ...init.headers }, at: Date.now() });
    const answer = answers[calls.length - 1];
    if (!answer) throw new Error(`unexpected call ${calls.length} to ${url}`);
    return answer();
  };
  return calls;
}

const signal = () => AbortSignal.timeout(30_000);

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

test('a refused state is not taken as read: the stream is opened again from the last one read', async () => {
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

test('a refusal of the proxy (a 4xx but 408 and 429) is handed over as its Response', async () => {
  fakeFetch([() => Response.json({ error: 'not_found' }, { status: 404 })]);
  const answer = await taskStates(URL, 0, null, signal()).next(false);
  assert.ok(answer instanceof Response);
  assert.equal(answer.status, 404);
});

test('the abort rejects, in a pause too; a failing getToken rejects at once', async () => {
  fakeFetch([() => new Response('busy', { status: 500 })]);
  const controller = new AbortController();
  const pending = taskStates(URL, 0, null, controller.signal).next(false);
  setTimeout(() => controller.abort(new Error('stop')), 100);
  await assert.rejects(pending, /stop/);

  const calls = fakeFetch([]);
  const getToken = () => { throw new Error('signed out'); };
  await assert.rejects(taskStates(URL, 0, getToken, signal()).next(false), (e) => e.name === 'GetTokenFailed');
  assert.equal(calls.length, 0);
});
