// findPeople for the browser: samples frames across a video, and lets the detection worker find
// the faces in each, link them into people and pick each person's best view (the people finder's
// own module, ./people/, with face-api.js's face recognition network). Loaded by the core package
// on the first findPeople call.
//
// Frames are taken by seeking a video element of our own (the caller's element is never moved).
// WebCodecs' VideoDecoder would decode faster, but it needs the encoded chunks: a demuxer for
// MP4 and WebM this package does not ship, so seeking it is, for every browser.
import { ask, faceSwapError, option, surface } from './index.js';

/** The longer side frames are scaled down to (larger frames gain the detector nothing). */
const MAX_SIDE = 1280;
let nextSession = 1;

function aborted() {
  return faceSwapError('aborted', 'the call was aborted by its AbortSignal');
}

/** A video element of our own for `video`: an element (its file), a Blob or File, or a URL. */
function ownVideo(video) {
  const own = document.createElement('video');
  own.muted = true;
  own.playsInline = true;
  own.preload = 'auto';
  let revoke = null;
  if (typeof HTMLVideoElement === 'function' && video instanceof HTMLVideoElement) {
    const src = video.currentSrc || video.src;
    if (!src) throw faceSwapError('invalid_parameter', 'video has no file to sample (a live stream or srcObject cannot be searched); pass the File or its URL', 'video');
    if (video.crossOrigin !== null) own.crossOrigin = video.crossOrigin;
    own.src = src;
  } else if (typeof Blob === 'function' && video instanceof Blob) {
    revoke = URL.createObjectURL(video);
    own.src = revoke;
  } else if (typeof video === 'string' && video.trim() !== '') {
    own.src = video;
  } else {
    throw faceSwapError('invalid_parameter', 'video must be a <video> element, a Blob or File, or a URL', 'video');
  }
  // In the page (1 px, transparent) so Chromium presents each sought frame: a detached video
  // may answer `seeked` before the new frame is drawable (drawImage then gives the old one).
  own.setAttribute('aria-hidden', 'true');
  own.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0.01;pointer-events:none';
  document.body?.append(own);
  const close = () => {
    own.remove();
    own.removeAttribute('src');
    own.load();
    if (revoke) URL.revokeObjectURL(revoke);
  };
  return { own, close };
}

/** How long to wait for a sought frame to be presented before trusting `seeked` alone. */
const FRAME_WAIT_MS = 250;

/** Resolves true when `video` presents its next frame. */
function nextFrame(video) {
  return new Promise((ok) => video.requestVideoFrameCallback(() => ok(true)));
}

/** Resolves when `target` fires `ok`; rejects on `error` or when `signal` aborts. */
function once(target, ok, signal, failure) {
  return new Promise((resolve, reject) => {
    const done = (fn, value) => {
      target.removeEventListener(ok, onOk);
      target.removeEventListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
      fn(value);
    };
    const onOk = () => done(resolve);
    const onError = () => done(reject, failure());
    const onAbort = () => done(reject, aborted());
    target.addEventListener(ok, onOk);
    target.addEventListener('error', onError);
    signal?.addEventListener('abort', onAbort);
  });
}

/** See `findPeople` in faceswap_wasm.d.ts. */
export async function findPeople(video, options) {
  const samplesPerSecond = option(options, 'samplesPerSecond', 2, (n) => n > 0 && n <= 30, 'a number of samples per second, above 0 and at most 30');
  const maxPeople = option(options, 'maxPeople', 10, (n) => Number.isInteger(n) && n >= 1 && n <= 100, 'a whole number from 1 to 100');
  const threshold = option(options, 'threshold', 0.5, (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  const onProgress = options?.onProgress;
  if (onProgress !== undefined && onProgress !== null && typeof onProgress !== 'function') {
    throw faceSwapError('invalid_parameter', 'onProgress must be a function', 'onProgress');
  }
  const signal = options?.signal;
  if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) {
    throw faceSwapError('invalid_parameter', 'signal must be an AbortSignal', 'signal');
  }
  if (signal?.aborted) throw aborted();

  const { own, close } = ownVideo(video);
  const session = nextSession++;
  let started = false;
  try {
    const loaded = once(own, 'loadedmetadata', signal, () => faceSwapError('invalid_parameter', 'video could not be loaded (not a video the browser can play, or not reachable)', 'video'));
    own.load();
    // The worker loads the people finder and its model while the video loads.
    const start = ask({ people: 'start', session, threshold }, [], 'finding people');
    // From here on the worker may hold the session: `finally` ends it (ending one it never
    // started is harmless), whatever fails first.
    started = true;
    start.catch(() => {});
    await loaded;
    await start;
    const duration = own.duration;
    if (!Number.isFinite(duration) || duration <= 0) {
      throw faceSwapError('invalid_parameter', 'video has no finite duration (a live stream cannot be searched)', 'video');
    }
    const total = Math.max(1, Math.floor(duration * samplesPerSecond));
    const scale = Math.min(1, MAX_SIDE / Math.max(own.videoWidth, own.videoHeight));
    const width = Math.max(1, Math.round(own.videoWidth * scale));
    const height = Math.max(1, Math.round(own.videoHeight * scale));
    const canvas = surface(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    let trustFrames = typeof own.requestVideoFrameCallback === 'function';
    let done = 0;
    let inFlight = Promise.resolve();
    for (let k = 0; k < total; k++) {
      // Sample k: the middle of the k-th 1/samplesPerSecond of the clip.
      const time = Math.min((k + 0.5) / samplesPerSecond, duration);
      const presented = trustFrames ? nextFrame(own) : null;
      own.currentTime = time;
      await once(own, 'seeked', signal, () => faceSwapError('invalid_parameter', `video could not be read at ${time.toFixed(2)} s`, 'video'));
      // Wait for the sought frame to be presented; a browser that never presents one (no
      // requestVideoFrameCallback, or a page in the background) is trusted on `seeked` alone.
      if (presented && !(await Promise.race([presented, new Promise((ok) => setTimeout(() => ok(false), FRAME_WAIT_MS))]))) trustFrames = false;
      context.drawImage(own, 0, 0, width, height);
      let image;
      try {
        image = context.getImageData(0, 0, width, height);
      } catch {
        throw faceSwapError('tainted_canvas', 'the video comes from another origin without CORS, so the browser forbids reading its pixels; set crossOrigin="anonymous" on the element (before setting src) and serve the file with Access-Control-Allow-Origin');
      }
      // One frame in the worker while the next is sought: frames go in order.
      const previous = inFlight;
      inFlight = (async () => {
        await previous;
        const answer = await ask({ people: 'frame', session, data: image.data, width, height, time }, [image.data.buffer], 'finding people');
        done++;
        onProgress?.({ done, total, time, faces: answer.faces });
      })();
      inFlight.catch(() => {});
      await previous;
      if (signal?.aborted) throw aborted();
    }
    await inFlight;
    if (signal?.aborted) throw aborted();
    const { flat, crops, descriptors } = await ask({ people: 'finish', session, maxPeople }, [], 'finding people');
    started = false;
    const back = 1 / scale;
    const people = crops.map((crop, i) => ({ crop: crop.base64, box: null, time: null, times: [], boxes: [], descriptor: descriptors[i] }));
    for (let i = 0; i + 8 <= flat.length; i += 8) {
      const person = people[flat[i]];
      const box = [flat[i + 2], flat[i + 3], flat[i + 4], flat[i + 5]].map((v) => Math.round(v * back));
      person.times.push(flat[i + 1]);
      person.boxes.push(box);
      if (flat[i + 6] === 1) {
        person.box = box;
        person.time = flat[i + 1];
      }
    }
    return { people, samples: total, duration, width: own.videoWidth, height: own.videoHeight };
  } finally {
    if (started) ask({ people: 'end', session }, [], 'finding people').catch(() => {});
    close();
  }
}
