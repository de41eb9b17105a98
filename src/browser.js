// The library's own JavaScript, one module (a wasm-bindgen snippet under
// pkg/snippets/<crate>/src/, hence the paths back to pkg/; one file gzips smaller than three):
// - the lazy loaders of the face detector (pkg/detect/index.js, which starts a worker running
//   the faceswap-detect wasm), of the people finder (pkg/detect/people.js, the same worker) and
//   of the media helpers (`captureFrame`, `cropFaces`:
//   pkg/media.js, the library built with its `media` feature), each fetched on its first call
//   only, so neither the package root nor a provider entry carries their code until a page uses
//   them;
// - the transport every call to the proxy goes through (src/http.rs builds the request and
//   reads the answer): `fetch`, with the app's bearer token and retries. Every check of a
//   request and every error of the library stay in the wasm.
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

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
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
 * Fetches `url` with `init` (its body a string, FormData or Blob, which every attempt can send
 * again), trying again as the rule above allows, `retries` times at most; `getToken` (or null)
 * gives each attempt's `Authorization: Bearer` token. Resolves the last answer, whatever its
 * status; rejects with the last network error or the abort.
 */
export async function send(url, init, retries, getToken) {
  const signal = init.signal ?? null;
  for (let retry = 0; ; retry += 1) {
    if (getToken) {
      const token = await bearer(getToken);
      if (token !== null) init.headers.set('Authorization', `Bearer ${token}`);
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
