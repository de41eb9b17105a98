// detectFaces for the browser: turns the source into RGBA pixels with the canvas, sends them to a
// worker running the faceswap-detect wasm, and answers boxes in the provider's [x1, y1, x2, y2]
// convention, left to right. Loaded by the core package on the first detectFaces call.
const DRAWABLE = ['HTMLImageElement', 'HTMLVideoElement', 'HTMLCanvasElement', 'OffscreenCanvas', 'ImageBitmap', 'SVGImageElement', 'VideoFrame'];
let worker = null;
let nextId = 1;
const pending = new Map();
// A pixel buffer the worker handed back after a detection: the next caller's ImageData is copied
// into it (a fresh 2 MB buffer costs more to fill than one already mapped) and moved, not cloned.
let spare = null;

export function faceSwapError(code, message, field) {
  return Object.assign(new Error(message), { name: 'FaceSwapError', code, ...(field ? { field } : {}) });
}

function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    if (data.pixels) spare = data.pixels;
    const job = pending.get(data.id);
    if (!job) return;
    pending.delete(data.id);
    if (data.error) job.reject(faceSwapError('internal', `${job.what} failed: ${data.error}`));
    else job.resolve(data.faces);
  };
  worker.onerror = (event) => {
    const error = faceSwapError('internal', `the face detection worker failed: ${event.message ?? 'it could not start'}`);
    for (const job of pending.values()) job.reject(error);
    pending.clear();
    worker = null;
  };
}

/** Sends `message` to the worker (moving `transfer`); resolves its answer's `faces`. */
export function ask(message, transfer = [], what = 'face detection') {
  if (!worker) startWorker();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, what });
    worker.postMessage({ ...message, id }, transfer);
  });
}

export function option(options, name, fallback, valid, rule) {
  const value = options?.[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !valid(value)) {
    throw faceSwapError('invalid_parameter', `${name} must be ${rule}`, name);
  }
  return value;
}

export function surface(width, height) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

/** RGBA pixels of `source`, and whether they are ours to move to the worker. */
async function pixels(source) {
  if (typeof ImageData === 'function' && source instanceof ImageData) return { image: source, owned: false };
  let drawable = source;
  if (typeof source === 'string' || typeof source?.base64 === 'string') {
    const text = typeof source === 'string' ? source : source.base64;
    const plain = text.startsWith('data:') ? text.slice(text.indexOf(',') + 1) : text;
    try {
      drawable = await createImageBitmap(await (await fetch(`data:application/octet-stream;base64,${plain}`)).blob());
    } catch {
      throw faceSwapError('invalid_parameter', 'source is not a JPEG, PNG or WebP image in base64', 'source');
    }
  } else if (!DRAWABLE.some((name) => typeof globalThis[name] === 'function' && source instanceof globalThis[name])) {
    throw faceSwapError('invalid_parameter', 'source must be an ImageData, a canvas, an image, a video, an ImageBitmap or a captured frame', 'source');
  } else {
    try {
      drawable = await createImageBitmap(source);
    } catch {
      throw faceSwapError('invalid_parameter', 'source has no picture yet (an image still loading, or a video with no data)', 'source');
    }
  }
  const { width, height } = drawable;
  const canvas = surface(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(drawable, 0, 0);
  drawable.close?.();
  try {
    return { image: context.getImageData(0, 0, width, height), owned: true };
  } catch {
    throw faceSwapError('tainted_canvas', 'the image or video comes from another origin without CORS, so the browser forbids reading its pixels; set crossOrigin="anonymous" on the element (before setting src) and serve the file with Access-Control-Allow-Origin');
  }
}

/** The pixels to move to the worker: ours as they are, a caller's copied (into the spare buffer
 * when it has the size). */
function movable(image, owned) {
  if (owned) return image.data;
  const size = image.data.byteLength;
  const buffer = spare?.byteLength === size ? spare : new ArrayBuffer(size);
  if (buffer === spare) spare = null;
  const copy = new Uint8ClampedArray(buffer);
  copy.set(image.data);
  return copy;
}

/** See `detectFaces` in faceswap_wasm.d.ts. */
export async function detectFaces(source, options) {
  const minFaceSize = option(options, 'minFaceSize', 20, (n) => n >= 20, 'a number of pixels, 20 or more');
  const threshold = option(options, 'threshold', 0.5, (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  const keypoints = options?.keypoints === true;
  const smallFaces = options?.smallFaces === true;
  const { image, owned } = await pixels(source);
  const data = movable(image, owned);
  // The pixels are moved to the worker, not cloned; a caller's ImageData is left intact (copied).
  const flat = await ask({ data, width: image.width, height: image.height, threshold, keypoints, smallFaces }, [data.buffer]);
  const boxes = [];
  const scores = [];
  const points = [];
  const stride = keypoints ? 17 : 5;
  for (let i = 0; i + stride <= flat.length; i += stride) {
    const box = [Math.round(flat[i]), Math.round(flat[i + 1]), Math.round(flat[i + 2]), Math.round(flat[i + 3])];
    if (box[2] - box[0] < minFaceSize && box[3] - box[1] < minFaceSize) continue;
    boxes.push(box);
    scores.push(flat[i + 4]);
    // Faces only rustface found (smallFaces) have no keypoints: null.
    if (keypoints) points.push(Number.isNaN(flat[i + 5]) ? null : Array.from({ length: 6 }, (_, k) => [flat[i + 5 + 2 * k], flat[i + 6 + 2 * k]]));
  }
  return keypoints ? { boxes, scores, keypoints: points } : { boxes, scores };
}
