// The detection worker: loads faceswap-detect's wasm (BlazeFace) on first message and answers each
// { id, data, width, height, threshold, keypoints, smallFaces } with { id, faces, pixels } (faces
// flat [x1, y1, x2, y2, score, (12 keypoint values when asked), ...]; pixels: data's buffer, handed
// back for reuse) or { id, error }. With smallFaces it loads, once, the module that adds rustface
// (./seeta/, BlazeFace plus rustface's small faces).
// Messages with `people` are findPeople's (./people.js): they load, once, the people finder's
// module (./people/: BlazeFace plus face-api.js's face recognition network, whose weights it
// fetches from ./people/ on the first findPeople call only).
import init, { detectRgba } from './faceswap_detect.js';

const ready = init();
let small = null;
let people = null;

function loadSmall() {
  small ??= import('./seeta/faceswap_detect.js').then(async (module) => {
    await module.default();
    return module.detectRgbaSmall;
  });
  return small;
}

async function fetchModelFile(url, as) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the face recognition model's ${url.pathname.split('/').pop()} could not be fetched (HTTP ${response.status})`);
  return as === 'text' ? response.text() : new Uint8Array(await response.arrayBuffer());
}

function loadPeople() {
  people ??= (async () => {
    const started = performance.now();
    const module = await import('./people/faceswap_detect.js');
    await module.default();
    const [manifest, weights] = await Promise.all([
      // Literal URLs, so bundlers (Vite, webpack) find the files and emit them with the worker.
      fetchModelFile(new URL('./people/face_recognition_model-weights_manifest.json', import.meta.url), 'text'),
      fetchModelFile(new URL('./people/face_recognition_model.bin', import.meta.url), 'bytes'),
    ]);
    module.peopleLoadModel(manifest, weights);
    return { module, loadMs: performance.now() - started };
  })();
  // A failed load (the network, say) is tried again by the next call.
  people.catch(() => { people = null; });
  return people;
}

/** A crop `[x, y, width, height]` (little-endian u32) + RGBA as plain base64 JPEG. */
async function encodeCrop(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const [x, y, width, height] = [0, 4, 8, 12].map((at) => view.getUint32(at, true));
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(bytes.buffer, bytes.byteOffset + 16, width * height * 4), width, height), 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
  const binary = new Uint8Array(await blob.arrayBuffer());
  let text = '';
  for (let i = 0; i < binary.length; i += 0x8000) text += String.fromCharCode(...binary.subarray(i, i + 0x8000));
  return { base64: btoa(text), cropBox: [x, y, x + width, y + height] };
}

async function peopleJob(job) {
  const { module, loadMs } = await loadPeople();
  switch (job.people) {
    case 'start':
      module.peopleStart(job.session, job.threshold);
      return { loadMs };
    case 'frame':
      return { faces: module.peopleAddFrame(job.session, job.data, job.width, job.height, job.time) };
    case 'finish': {
      const started = performance.now();
      const flat = module.peopleFinish(job.session, job.maxPeople);
      const count = flat.length ? flat[flat.length - 8] + 1 : 0;
      const crops = [];
      const descriptors = [];
      for (let i = 0; i < count; i++) {
        crops.push(await encodeCrop(module.peopleCrop(job.session, i)));
        descriptors.push(Array.from(module.peopleDescriptor(job.session, i)));
      }
      module.peopleEnd(job.session);
      return { flat, crops, descriptors, finishMs: performance.now() - started };
    }
    case 'end':
      module.peopleEnd(job.session);
      return {};
    default:
      throw new Error(`unknown people job ${job.people}`);
  }
}

self.onmessage = async ({ data: job }) => {
  try {
    if (job.people) {
      self.postMessage({ id: job.id, faces: await peopleJob(job) });
      return;
    }
    const detect = job.smallFaces ? await loadSmall() : (await ready, detectRgba);
    const started = performance.now();
    const faces = detect(job.data, job.width, job.height, job.threshold, job.keypoints);
    // The pixels go back too (they are in the wasm's memory now), for the next call to reuse.
    const pixels = job.data.buffer;
    self.postMessage({ id: job.id, faces, ms: performance.now() - started, pixels }, [faces.buffer, pixels]);
  } catch (error) {
    self.postMessage({ id: job.id, error: String(error?.message ?? error) });
  }
};
