// The detection worker: loads faceswap-detect's wasm (BlazeFace) on first message and answers each
// { id, data, width, height, threshold, keypoints, smallFaces } with { id, faces } (flat
// [x1, y1, x2, y2, score, (12 keypoint values when asked), ...]) or { id, error }. With smallFaces
// it loads, once, the module that adds rustface (./seeta/, BlazeFace plus rustface's small faces).
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
    self.postMessage({ id: job.id, faces, ms: performance.now() - started }, [faces.buffer]);
  } catch (error) {
    self.postMessage({ id: job.id, error: String(error?.message ?? error) });
  }
};
