// Loads the media helpers (`captureFrame`, `cropFaces`: pkg/media.js, the library built with its
// `media` feature) on their first call only, so neither the package root nor a provider entry
// carries their code until a page uses them. Emitted as a wasm-bindgen snippet under
// pkg/snippets/<crate>/src/, hence the path back to pkg/.
let media = null;

function load() {
  media ??= import('../../../media.js').then(async (module) => {
    await module.default();
    return module;
  });
  return media;
}

export function captureFrame(video, options) {
  return load().then((module) => module.captureFrame(video, options));
}

export function cropFaces(frame, boxes, options) {
  return load().then((module) => module.cropFaces(frame, boxes, options));
}
