// The detection worker: loads faceswap-detect's wasm (BlazeFace) on first message and answers each
// { id, data, width, height, threshold, keypoints } with { id, faces } (flat
// [x1, y1, x2, y2, score, (12 keypoint values when asked), ...]) or { id, error }.
import init, { detectRgba } from './faceswap_detect.js';

const ready = init();

self.onmessage = async ({ data: job }) => {
  try {
    await ready;
    const started = performance.now();
    const faces = detectRgba(job.data, job.width, job.height, job.threshold, job.keypoints);
    self.postMessage({ id: job.id, faces, ms: performance.now() - started }, [faces.buffer]);
  } catch (error) {
    self.postMessage({ id: job.id, error: String(error?.message ?? error) });
  }
};
