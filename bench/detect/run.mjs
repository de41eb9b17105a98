// Face detection in headless Chromium, one run, the same frames for everyone: this project's
// detectFaces (BlazeFace full range, sparse, run by faceswap-detect's own network runner in wasm
// with simd128, in its Web Worker) against the peer: MediaPipe's Tasks API (the npm package
// @mediapipe/tasks-vision, FaceDetector with the CPU delegate: XNNPACK in wasm with SIMD, served
// from node_modules/) running the very same model file (crates/detect/models/, with the TFLite
// metadata the Tasks API asks for added by ./tflite-metadata.mjs). The two are timed in the same
// rounds, in turns (each round one call of each, the order swapping every round). Also shown:
// MediaPipe's legacy solution (@mediapipe/face_detection, model "full": WebGL, in software
// here), rustface (the detector before: pkg/detect/seeta/, the module detectFaces loads for
// { smallFaces: true }, built with the feature `seeta`) and, natively, BlazeFace on the same
// pixels (release). Prints milliseconds per 1024x512 frame (median) and the ratio detectFaces /
// tasks-vision CPU (target: at most 1.0), then recall: on the test media, turned by 20 to 45
// degrees and mirrored, how many of the legacy solution's faces each detector finds (IoU > 0.5),
// and the detector module's gzipped size. scripts/bench.sh builds pkg/ and the native half first.
// Nothing is fetched from outside this machine: requests to other hosts (tasks-vision's usage
// logs) are refused at once.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import { built, launchChromium, root, targetDir } from '../../scripts/harness.mjs';
import { withImageMetadata } from './tflite-metadata.mjs';

const ROUNDS = Number(process.env.DETECT_ROUNDS ?? 15);
execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
const nativeBench = built(join(targetDir, 'release', 'detect-bench'));
const seetaDir = built(join(root, 'pkg', 'detect', 'seeta'));
const model = withImageMetadata(readFileSync(join(root, 'crates', 'detect', 'models', 'face_detection_full_range_sparse.tflite')), 'face_detection_full_range_sparse');

// Static files only: the library, the rustface module, MediaPipe's packages, the model with its
// metadata and the test media.
const mounts = {
  '/pkg/': join(root, 'pkg'),
  '/seeta/': seetaDir,
  '/mediapipe/': join(root, 'node_modules', '@mediapipe', 'face_detection'),
  '/tasks-vision/': join(root, 'node_modules', '@mediapipe', 'tasks-vision'),
  '/media/': join(targetDir, 'test-media'),
};
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png' };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://localhost').pathname));
  if (path === '/model.tflite') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(model);
    return;
  }
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><meta charset="utf-8"><title>bench/detect</title>');
    return;
  }
  const mount = Object.keys(mounts).find((m) => path.startsWith(m));
  try {
    const body = await readFile(join(mounts[mount], path.slice(mount.length)));
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const origin = `http://127.0.0.1:${server.address().port}`;
  await page.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.addScriptTag({ url: '/mediapipe/face_detection.js' });
  const result = await page.evaluate(async (rounds) => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    const raw = await import('/pkg/detect/faceswap_detect.js');
    await raw.default();
    const seeta = await import('/seeta/faceswap_detect.js');
    await seeta.default();
    const peer = new FaceDetection({ locateFile: (file) => `/mediapipe/${file}` });
    peer.setOptions({ model: 'full', minDetectionConfidence: 0.5 });
    let answer;
    peer.onResults((results) => answer(results));
    await peer.initialize();
    const vision = await import('/tasks-vision/vision_bundle.mjs');
    const fileset = await vision.FilesetResolver.forVisionTasks('/tasks-vision/wasm');
    const tasks = await vision.FaceDetector.createFromOptions(fileset, {
      baseOptions: { delegate: 'CPU', modelAssetBuffer: new Uint8Array(await (await fetch('/model.tflite')).arrayBuffer()) },
      runningMode: 'IMAGE',
      minDetectionConfidence: 0.5,
    });

    const image = async (name) => createImageBitmap(await (await fetch(`/media/${name}`)).blob());
    /** `bitmap` turned by `degrees` (and mirrored) on a grey canvas that holds all of it. */
    function frame(bitmap, degrees = 0, mirrored = false) {
      const a = (degrees * Math.PI) / 180;
      const w = Math.ceil(bitmap.width * Math.abs(Math.cos(a)) + bitmap.height * Math.abs(Math.sin(a)));
      const h = Math.ceil(bitmap.width * Math.abs(Math.sin(a)) + bitmap.height * Math.abs(Math.cos(a)));
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.fillStyle = '#808080';
      context.fillRect(0, 0, w, h);
      context.translate(w / 2, h / 2);
      if (mirrored) context.scale(-1, 1);
      context.rotate(a);
      context.drawImage(bitmap, -bitmap.width / 2, -bitmap.height / 2);
      return { canvas, data: context.getImageData(0, 0, w, h) };
    }
    async function mediapipe(canvas) {
      const done = new Promise((resolve) => { answer = resolve; });
      await peer.send({ image: canvas });
      const { detections } = await done;
      return detections.map(({ boundingBox: b }) => [
        (b.xCenter - b.width / 2) * canvas.width, (b.yCenter - b.height / 2) * canvas.height,
        (b.xCenter + b.width / 2) * canvas.width, (b.yCenter + b.height / 2) * canvas.height,
      ]);
    }
    const boxes = (flat) => Array.from({ length: flat.length / 5 }, (_, i) => Array.from(flat.slice(i * 5, i * 5 + 4)));
    const ours = async ({ data }) => (await lib.detectFaces(data)).boxes;
    const rustface = ({ data }) => boxes(seeta.detectRgbaSeeta(data.data, data.width, data.height, 20, 2));
    const middle = (times) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
    async function time(run) {
      const start = performance.now();
      await run();
      return performance.now() - start;
    }
    /** Medians of `a` and `b` timed in the same rounds, in turns, the first call swapping each round. */
    async function interleaved(a, b) {
      const [ta, tb] = [[], []];
      for (let i = 0; i < rounds + 2; i++) {
        let x, y;
        if (i % 2) {
          y = await time(b);
          x = await time(a);
        } else {
          x = await time(a);
          y = await time(b);
        }
        if (i >= 2) {
          ta.push(x);
          tb.push(y);
        }
      }
      return [middle(ta), middle(tb)];
    }
    async function median(run) {
      const times = [];
      for (let i = 0; i < rounds + 2; i++) {
        const start = performance.now();
        await run();
        if (i >= 2) times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)];
    }

    const two = frame(await image('two-faces.png'));
    const rgba = new Uint8Array(two.data.data.buffer);
    const tasksFaces = tasks.detect(two.data).detections.length;
    const [detectFaces, tasksVision] = await interleaved(() => ours(two), () => tasks.detect(two.data));
    const timing = {
      detectFaces,
      tasksVision,
      wasm: await median(() => raw.detectRgba(rgba, two.data.width, two.data.height, 0.5, false)),
      mediapipe: await median(() => mediapipe(two.canvas)),
      rustface: await median(() => rustface(two)),
      small: await median(() => lib.detectFaces(two.data, { smallFaces: true })),
    };
    let binary = '';
    for (let i = 0; i < rgba.length; i += 0x8000) binary += String.fromCharCode(...rgba.subarray(i, i + 0x8000));

    const recall = [];
    for (const name of ['astronaut.png', 'camera.png', 'two-faces.png', 'group29.png']) {
      const bitmap = await image(name);
      const turns = name === 'group29.png' ? [[0, false]] : [[0, false], [0, true]];
      if (name !== 'group29.png') for (const d of [-45, -30, -20, 20, 30, 45]) turns.push([d, false], [d, true]);
      for (const [degrees, mirrored] of turns) {
        const f = frame(bitmap, degrees, mirrored);
        recall.push({ name, degrees, mirrored, peer: await mediapipe(f.canvas), ours: await ours(f), rustface: rustface(f) });
      }
    }
    return { timing, tasksFaces, recall, width: two.data.width, height: two.data.height, rgba: btoa(binary) };
  }, ROUNDS);

  const file = join(mkdtempSync(join(tmpdir(), 'detect-bench-')), 'frame.rgba');
  writeFileSync(file, Buffer.from(result.rgba, 'base64'));
  const native = JSON.parse(execFileSync(nativeBench, [file, String(result.width), String(result.height), String(ROUNDS)]).toString());
  const t = result.timing;
  const line = (what, ms) => console.log(`  ${what.padEnd(56)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / t.tasksVision).toFixed(2)}x tasks-vision CPU`);
  console.log(`face detection on a ${result.width}x${result.height} frame (two-faces.png), headless Chromium, median of ${ROUNDS}:`);
  line('detectFaces (BlazeFace in faceswap-detect, worker)', t.detectFaces);
  line('tasks-vision FaceDetector, CPU (same model), the peer', t.tasksVision);
  line('  of detectFaces: detectRgba in the page (wasm, simd128)', t.wasm);
  line('MediaPipe face_detection (legacy, model "full", WebGL)', t.mediapipe);
  line('rustface (SeetaFace, wasm, simd128), the detector before', t.rustface);
  line('detectFaces with { smallFaces: true } (+ rustface)', t.small);
  line('BlazeFace natively (release, same code)', native.median_ms);
  console.log(`  (faces found in the frame: tasks-vision ${result.tasksFaces}, natively ${native.boxes.length})`);
  console.log(`  ratio detectFaces / tasks-vision CPU = ${(t.detectFaces / t.tasksVision).toFixed(2)}  (target <= 1.0)`);

  const iou = (a, b) => {
    const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
    const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h;
    return union > 0 ? (w * h) / union : 0;
  };
  const found = (peer, mine, min) => peer.filter((p) => mine.some((m) => iou(p, m) > min)).length;
  console.log('\nrecall against the faces of MediaPipe\'s legacy solution (IoU > 0.5; rustface\'s tighter boxes at IoU > 0.3):');
  const totals = { peer: 0, ours: 0, rustface: 0, extra: 0 };
  const groups = new Map();
  for (const r of result.recall) {
    const key = r.name + (r.degrees || r.mirrored ? ' turned/mirrored' : '');
    const g = groups.get(key) ?? { frames: 0, peer: 0, ours: 0, rustface: 0, oursTotal: 0, rustfaceTotal: 0 };
    g.frames += 1;
    g.peer += r.peer.length;
    g.ours += found(r.peer, r.ours, 0.5);
    g.rustface += found(r.peer, r.rustface, 0.3);
    g.oursTotal += r.ours.length;
    g.rustfaceTotal += r.rustface.length;
    groups.set(key, g);
  }
  for (const [key, g] of groups) {
    console.log(`  ${key.padEnd(32)} ${String(g.frames).padStart(2)} frames: peer ${g.peer}, detectFaces ${g.ours} of them (${g.oursTotal} in all), rustface ${g.rustface} of them (${g.rustfaceTotal} in all)`);
  }
  const wasm = readFileSync(join(root, 'pkg', 'detect', 'faceswap_detect_bg.wasm'));
  const seetaWasm = readFileSync(join(seetaDir, 'faceswap_detect_bg.wasm'));
  console.log(`\ndetector module pkg/detect/faceswap_detect_bg.wasm: ${wasm.length} bytes, gzipped ${gzipSync(wasm, { level: 9 }).length}`);
  console.log(`pkg/detect/seeta/ (BlazeFace + rustface, for smallFaces): ${seetaWasm.length} bytes, gzipped ${gzipSync(seetaWasm, { level: 9 }).length}`);
} finally {
  await browser.close();
  server.close();
}
