// Milliseconds per 1024x512 frame for face detection: faceswap-detect as wasm in headless Chromium
// and natively (the same rustface code on the same RGBA pixels, release build), in the same run;
// prints both medians and their ratio (target: at most 1.5). scripts/bench.sh builds pkg/, the
// proxy and the native half (faceswap-bench's detect-bench) first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { built, launchChromium, root, startProxy, targetDir } from '../../scripts/harness.mjs';

const ROUNDS = Number(process.env.DETECT_ROUNDS ?? 15);
execFileSync('bash', [join(root, 'scripts', 'samples.sh')], { stdio: 'inherit' });
const nativeBench = built(join(targetDir, 'release', 'detect-bench'));

const proxy = await startProxy();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
  const wasm = await page.evaluate(async (rounds) => {
    const detect = await import('/pkg/detect/faceswap_detect.js');
    await detect.default();
    const bitmap = await createImageBitmap(await (await fetch('/samples/two-faces.png')).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d');
    context.drawImage(bitmap, 0, 0);
    const { data, width, height } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    const rgba = new Uint8Array(data.buffer);
    const times = [];
    let faces = [];
    for (let i = 0; i < rounds + 2; i++) {
      const start = performance.now();
      faces = detect.detectRgba(rgba, width, height, 20, 2);
      if (i >= 2) times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    let binary = '';
    for (let i = 0; i < rgba.length; i += 0x8000) binary += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
    return { median: times[Math.floor(times.length / 2)], faces: faces.length / 5, width, height, rgba: btoa(binary) };
  }, ROUNDS);
  const frame = join(mkdtempSync(join(tmpdir(), 'detect-bench-')), 'frame.rgba');
  writeFileSync(frame, Buffer.from(wasm.rgba, 'base64'));
  const native = JSON.parse(execFileSync(nativeBench, [frame, String(wasm.width), String(wasm.height), String(ROUNDS)]).toString());
  console.log(`face detection on a ${wasm.width}x${wasm.height} frame (two-faces.png), median of ${ROUNDS}:`);
  console.log(`  wasm in headless Chromium (simd128): ${wasm.median.toFixed(1)} ms, ${wasm.faces} faces`);
  console.log(`  native (release, same code):         ${native.median_ms.toFixed(1)} ms, ${native.boxes.length} faces`);
  console.log(`  ratio wasm / native = ${(wasm.median / native.median_ms).toFixed(2)}  (target <= 1.5)`);
} finally {
  await browser.close();
  await proxy.stop();
}
