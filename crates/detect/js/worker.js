// The detection worker: loads faceswap-detect's wasm (BlazeFace) on first message and answers each
// { id, data, width, height, threshold, keypoints, smallFaces } with { id, faces, pixels } (faces
// flat [x1, y1, x2, y2, score, (12 keypoint values when asked), ...]; pixels: data's buffer, handed
// back for reuse) or { id, error }. With smallFaces it loads, once, the module that adds rustface
// (./seeta/, BlazeFace plus rustface's small faces).
import init, { detectRgba } from './faceswap_detect.js';

const ready = init();
let small = null;

function loadSmall() {
  small ??= import('./seeta/faceswap_detect.js').then(async (module) => {
    await module.default();
    return module.detectRgbaSmall;
  });
  return small;
}

self.onmessage = async ({ data: job }) => {
  try {
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
