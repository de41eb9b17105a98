// The library's own JavaScript, one module (a wasm-bindgen snippet under
// pkg/snippets/<crate>/src/, hence the paths back to pkg/; one file gzips smaller than three):
// - the lazy loaders of the face detector (pkg/detect/index.js, which starts a worker running
//   the faceswap-detect wasm), of the people finder (pkg/detect/people.js, the same worker) and
//   of the media helpers (`captureFrame`, `cropFaces` and aifaceswap's `buildRefInfo`:
//   pkg/media.js, the library built with its `media` and `ref-info` features), each fetched on
//   its first call only, so neither the package root nor a provider entry carries their code
//   until a page uses them;
// - the transport every call to the proxy goes through (src/http.rs builds the request and
//   reads the answer): `fetch`, with the app's bearer token and retries;
// - the transport of `waitForResult` (`taskStates`: the task's event stream, read by
//   `statusEvents`, resumed after it ends, and polling where streaming fails), which hands each
//   state of the task to src/wait.rs to judge. Every check of a request or of an answer, and
//   every error of the library, stay in the wasm.
//
// The retry rule, in one place: a call is tried again after no HTTP answer at all, or after a
// 429, 502, 503 or 504; never after another status, an abort or the call's time limit (both end
// `signal`). It waits the answer's Retry-After when it gives one in seconds, up to a minute (a
// longer one is the caller's to honour: the error carries `retryAfter`), else a random point in
// the upper half of 500 ms doubled per retry, capped at 8 s. A submit keeps its Idempotency-Key
// on every attempt, so the proxy answers a retried submit with its first answer and never spends
// twice.

let detector = null;

export function detectFaces(source, options) {
  detector ??= import('../../../detect/index.js');
  return detector.then((module) => module.detectFaces(source, options));
}

let people = null;

export function findPeople(video, options) {
  people ??= import('../../../detect/people.js');
  return people.then((module) => module.findPeople(video, options));
}

let media = null;

function loadMedia() {
  media ??= import('../../../media.js').then(async (module) => {
    await module.default();
    return module;
  });
  return media;
}

export function captureFrame(video, options) {
  return loadMedia().then((module) => module.captureFrame(video, options));
}

export function cropFaces(frame, boxes, options) {
  return loadMedia().then((module) => module.cropFaces(frame, boxes, options));
}

export function buildRefInfo(client, crops, faces, options) {
  return loadMedia().then((module) => module.buildRefInfo(client, crops, faces, options));
}
// The promise the call being stepped waits on, and the outcome it resumes with (src/drive.rs):
// `drive` sets and reads them on either side of each synchronous step, so a call started from
// inside another's step (an `onStatus` callback, say) keeps its own.
let waitingOn = null;
let outcome = null;

export function waitOn(promise) {
  waitingOn = promise;
}

export function settled() {
  if (!outcome.ok) throw outcome.value;
  return outcome.value;
}

/**
 * Runs a call of the library (src/drive.rs) to its end: each `run.step()` runs it until it waits
 * on a promise (`waitOn`) or ends, returning its result or throwing its error; the promise's
 * outcome is what the next step resumes it with (`settled`).
 */
export async function drive(run) {
  try {
    for (;;) {
      const result = run.step();
      outcome = null;
      const next = waitingOn;
      if (next === null) return result;
      waitingOn = null;
      try {
        outcome = { ok: true, value: await next };
      } catch (value) {
        outcome = { ok: false, value };
      }
    }
  } finally {
    run.free();
  }
}

const RETRYABLE = [429, 502, 503, 504];
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8000;
const MAX_RETRY_AFTER_MS = 60000;

/**
 * Milliseconds to wait before retry number `retry` (0 for the first) of a call whose attempt
 * ended with HTTP `status` (0: no answer) and `retryAfter` (the header, or null), when `retries`
 * are allowed in all; null when it must not be retried. `random` is in [0, 1).
 */
export function retryDelay(status, retryAfter, retry, retries, random) {
  if (retry >= retries || (status !== 0 && !RETRYABLE.includes(status))) return null;
  const seconds = retryAfter === null || retryAfter.trim() === '' ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1000 <= MAX_RETRY_AFTER_MS ? seconds * 1000 : null;
  }
  const ceiling = Math.min(FIRST_BACKOFF_MS * 2 ** retry, MAX_BACKOFF_MS);
  return (ceiling / 2) * (1 + random);
}

/** An error the library reports as its own: `name` tells src/http.rs which. */
function failure(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** `getToken()`'s token for one attempt (called each time, so the app can refresh it). */
async function bearer(getToken) {
  let token;
  try {
    token = await getToken();
  } catch (e) {
    throw failure('GetTokenFailed', `getToken failed: ${e?.message ?? e}`);
  }
  if (token === null || token === undefined) return null;
  if (typeof token !== 'string' || token.trim() === '') {
    throw failure('GetTokenInvalid', 'getToken must give a token string (or a promise of one), null or undefined');
  }
  return token;
}

/** Resolves after `ms`, or rejects as soon as `signal` (optional) aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/**
 * Fetches `url` with `init` (a plain object, its `headers` a plain object, its body a string,
 * FormData or Blob, which every attempt can send again), trying again as the rule above allows,
 * `retries` times at most; `getToken` (or null) gives each attempt's `Authorization: Bearer`
 * token. Resolves the last answer, whatever its
 * status; rejects with the last network error or the abort.
 */
async function send(url, init, retries, getToken) {
  const signal = init.signal ?? null;
  for (let retry = 0; ; retry += 1) {
    if (getToken) {
      const token = await bearer(getToken);
      if (token !== null) init.headers.Authorization = `Bearer ${token}`;
    }
    let answer = null;
    let error = null;
    try {
      answer = await fetch(url, init);
      if (answer.ok) return answer;
    } catch (e) {
      if (signal?.aborted) throw e;
      error = e;
    }
    const wait = retryDelay(answer?.status ?? 0, answer?.headers.get('Retry-After') ?? null, retry, retries, Math.random());
    if (wait === null) {
      if (error) throw error;
      return answer;
    }
    await sleep(wait, signal);
  }
}

/**
 * The caller's `signal` and a time limit of `ms` (none unless a number above 0 and finite) as
 * one `signal`; `fail(error)` is the error a call under them is to reject with: one named
 * `Aborted` when the caller's signal fired, `TimedOut` when the limit did, else `error`.
 */
function limit(signal, ms) {
  const timeout = ms > 0 && ms < Infinity ? AbortSignal.timeout(ms) : null;
  const signals = [signal, timeout].filter(Boolean);
  return {
    signal: signals.length > 0 ? AbortSignal.any(signals) : null,
    fail(error) {
      if (signal?.aborted) return failure('Aborted', 'aborted');
      if (timeout?.aborted) return failure('TimedOut', 'timed out');
      return error;
    },
  };
}

/**
 * The error named `Refused` of an answer that is not 2xx, for src/http.rs to read the proxy's
 * error from: its `status`, its `retryAfter` (the Retry-After header, or null) and its JSON
 * `body` (undefined when it has none).
 */
async function refused(answer) {
  const error = failure('Refused', `HTTP ${answer.status}`);
  error.status = answer.status;
  error.retryAfter = answer.headers.get('Retry-After');
  error.body = await answer.json().catch(() => undefined);
  return error;
}

/** 128 random bits as 32 hex digits (`crypto.randomUUID` needs a secure context). */
function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * POSTs `body` (a JSON text, a FormData, or a Blob sent with its type) to `url` through `send`,
 * with the Idempotency-Key `key` (a random one when it is empty, none when it is null or
 * undefined), within `ms` (see `limit`) and until
 * `signal` aborts. Resolves the JSON of a 2xx answer; rejects with an error named `Refused` (any
 * other answer, see `refused`), `Aborted`, `TimedOut`, `NotJson` (a 2xx answer that is no JSON),
 * `GetTokenFailed` or `GetTokenInvalid`, or with the network's error.
 */
export async function post(url, body, key, signal, ms, retries, getToken) {
  const limited = limit(signal, ms);
  if (signal?.aborted) throw limited.fail(null);
  const headers = {};
  if (key != null) headers['Idempotency-Key'] = key || randomKey();
  if (typeof body === 'string') headers['Content-Type'] = 'application/json';
  else if (body instanceof Blob) headers['Content-Type'] = body.type || 'application/octet-stream';
  const init = { method: 'POST', body, headers };
  if (limited.signal) init.signal = limited.signal;
  let answer;
  try {
    answer = await send(url, init, retries, getToken);
    if (answer.ok) return await answer.json();
  } catch (error) {
    throw limited.fail(error instanceof SyntaxError ? failure('NotJson', error.message) : error);
  }
  throw await refused(answer);
}

/**
 * The `status` events of a task's event stream, read from `body` (a `ReadableStream` of an
 * answer in the WHATWG event-stream format, UTF-8). `next()` resolves the next one as
 * `{ data, id }`, `id` being the last event id seen (sent back as `Last-Event-ID` on
 * reconnecting) or null, and resolves null when the stream ends; an event cut off by the end is
 * dropped, as the format says. `cancel()` stops reading.
 */
export function statusEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const ready = [];
  let rest = '';
  let name = '';
  let data = null;
  let id = null;
  let lastId = null;
  function line(text) {
    if (text === '') {
      if (id !== null) lastId = id;
      if (data !== null && name === 'status') ready.push({ data, id: lastId });
      id = null;
      name = '';
      data = null;
      return;
    }
    if (text[0] === ':') return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }
  return {
    async next() {
      while (ready.length === 0) {
        const { done, value } = await reader.read();
        if (done) return null;
        rest += decoder.decode(value, { stream: true });
        // A CR that ends the text so far may be the first half of a CRLF: it waits for more.
        const held = rest.endsWith('\r');
        const lines = (held ? rest.slice(0, -1) : rest).split(/\r\n|\r|\n/);
        rest = lines.pop() + (held ? '\r' : '');
        lines.forEach(line);
      }
      return ready.shift();
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}

const WAIT_FIRST_MS = 250;
const WAIT_MAX_MS = 10000;
const STREAM_ATTEMPTS = 3;

/** Whether an answer with HTTP `status` ends a wait: a 4xx but 408 and 429. */
function endsWait(status) {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * The states of the task at `url` (the proxy's task route) as the proxy reports them, for
 * `waitForResult` (src/wait.rs), which judges each and ends the wait. `next(unread)` resolves
 * the JSON text of the task's next state: from its event stream (`url` + `/events`, reconnected
 * 250 ms after it ends, with `Last-Event-ID` once an event had an id), or, when the answer is no
 * event stream or three attempts in a row failed, by polling `url`, the pause growing by half
 * after each state up to 10 s. `unread` tells that the wasm could not read the state it was
 * given last: a failure, like an error answer or a broken connection, after which the pause
 * doubles (up to 10 s) and the state is asked for again. Every call goes through `send` (its
 * token and retries); failures are retried until the caller's signal `caller` aborts or the time
 * limit of `ms` ends (see `limit`), which rejects, as does a failed `getToken`, and when the
 * proxy refuses (a 4xx but 408 and 429; see `refused`): the wait ends with its error. `stop()`
 * closes the stream.
 */
export function taskStates(url, retries, getToken, caller, ms) {
  const limited = limit(caller, ms);
  const signal = limited.signal ?? new AbortController().signal;
  let pause = WAIT_FIRST_MS;
  let failures = 0;
  let polling = false;
  let polled = false;
  let events = null;
  let id = null;
  let lastId = null;
  function stop() {
    events?.cancel();
    events = null;
  }
  async function failed() {
    stop();
    failures += 1;
    if (failures >= STREAM_ATTEMPTS) polling = true;
    pause = Math.min(pause * 2, WAIT_MAX_MS);
    await sleep(pause, signal);
  }
  // A rejection that ends the wait: the abort, or the app's getToken failing.
  const ends = (error) => signal.aborted || String(error?.name).startsWith('GetToken');
  async function next(unread) {
    if (signal.aborted) throw signal.reason;
    if (unread) {
      await failed();
    } else {
      lastId = id;
      if (polled) {
        pause = Math.min(pause * 1.5, WAIT_MAX_MS);
        await sleep(pause, signal);
      }
    }
    polled = false;
    for (;;) {
      if (events) {
        let event;
        try {
          event = await events.next();
        } catch (error) {
          if (ends(error)) throw error;
          await failed();
          continue;
        }
        if (event) {
          id = event.id;
          return event.data;
        }
        events = null;
        failures = 0;
        pause = WAIT_FIRST_MS;
        await sleep(pause, signal);
        continue;
      }
      const headers = polling ? {} : { Accept: 'text/event-stream' };
      if (!polling && lastId !== null) headers['Last-Event-ID'] = lastId;
      let answer;
      try {
        answer = await send(polling ? url : `${url}/events`, { headers, signal }, retries, getToken);
        if (answer.ok && polling) {
          const text = await answer.text();
          polled = true;
          return text;
        }
      } catch (error) {
        if (ends(error)) throw error;
        await failed();
        continue;
      }
      if (!answer.ok) {
        if (endsWait(answer.status)) throw await refused(answer);
        await failed();
      } else if (answer.body && answer.headers.get('Content-Type')?.startsWith('text/event-stream')) {
        events = statusEvents(answer.body);
      } else {
        polling = true;
        await sleep(pause, signal);
      }
    }
  }
  return {
    next: (unread) => next(unread).catch((error) => {
      throw limited.fail(error);
    }),
    stop,
  };
}
