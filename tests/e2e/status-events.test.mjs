// The event-stream reader of waitForResult (`statusEvents` in src/browser.js), in Node: events
// split across chunks, comments and keep-alives, CRLF line ends split between chunks, the last
// event id kept for reconnecting, and an event cut off by the end of the stream dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusEvents } from '../../src/browser.js';

/** Every event `statusEvents` yields from a body sent as `chunks`. */
async function read(chunks) {
  const bytes = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(bytes.encode(chunk));
      controller.close();
    },
  });
  const events = statusEvents(body);
  const seen = [];
  for (let event = await events.next(); event !== null; event = await events.next()) seen.push(event);
  return seen;
}

test('an event split across chunks, with its id', async () => {
  assert.deepEqual(await read(['event: sta', 'tus\nid: 3\ndata: {"a":', '1}\n\n']), [{ data: '{"a":1}', id: '3' }]);
});

test('comments, keep-alives and events of other names are skipped; data lines join with \\n', async () => {
  const body = ': keep-alive\r\n\r\ndata: one\r\n\r\nevent: status\r\ndata: one\r\ndata: two\r\n\r\n';
  assert.deepEqual(await read([body]), [{ data: 'one\ntwo', id: null }]);
});

test('a CR at the end of a chunk and the LF that starts the next are one line end', async () => {
  const events = await read(['event: status\r', '\ndata: a\r', '\ndata: b\r', '\n\r', '\n']);
  assert.deepEqual(events, [{ data: 'a\nb', id: null }]);
});

test('the last id is kept for later events; an id with NUL is ignored; a cut-off event is dropped', async () => {
  const events = await read([
    'event: status\nid: 7\ndata: x\n\n',
    'event: status\ndata: y\n\n',
    'event: status\nid: a\0b\ndata: z\n\n',
    'event: status\ndata: cut',
  ]);
  assert.deepEqual(events, [{ data: 'x', id: '7' }, { data: 'y', id: '7' }, { data: 'z', id: '7' }]);
});

test('cancel stops reading the body', async () => {
  let cancelled = false;
  const body = new ReadableStream({ pull() {}, cancel() { cancelled = true; } });
  statusEvents(body).cancel();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(cancelled, true);
});
