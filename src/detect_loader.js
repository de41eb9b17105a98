// Loads the face detector (pkg/detect/index.js, which starts a worker running the faceswap-detect
// wasm) on the first call only, so the core package stays small. This file is emitted as a
// wasm-bindgen snippet under pkg/snippets/<crate>/src/, hence the path back to pkg/detect/.
let detector = null;

export function detectFaces(source, options) {
  detector ??= import('../../../detect/index.js');
  return detector.then((module) => module.detectFaces(source, options));
}
