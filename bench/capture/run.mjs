// captureFrame + cropFaces (three crops) on a 1920x1080 H.264 video, through the library and
// through a plain JavaScript implementation of the same steps in the same page; prints both
// medians and their ratio (target: at most 1.1). scripts/bench.sh builds pkg/ and the proxy first.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';

const ROUNDS = Number(process.env.CAPTURE_ROUNDS ?? 30);
const media = join(root, 'target', 'test-media');
execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
const video = join(media, 'bench-1080p.mp4');
if (!existsSync(video)) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', join(media, 'two-faces.png'), '-t', '4', '-r', '25',
    '-vf', 'scale=1920:1080,format=yuv420p', '-c:v', 'libx264', '-movflags', '+faststart', video]);
}

const proxy = await startProxy();
const browser = await launchChromium();
try {
  const upload = await fetch(`${proxy.url}/api/uploads`, { method: 'POST', headers: { 'Content-Type': 'video/mp4' }, body: (await import('node:fs')).readFileSync(video) });
  const { url } = await upload.json();
  const page = await browser.newPage();
  await page.goto(`${proxy.url}/healthz`);
  const result = await page.evaluate(async ({ url, rounds }) => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    const video = document.createElement('video');
    video.muted = true;
    video.preload = 'auto';
    video.src = url;
    document.body.append(video);
    await new Promise((ok) => { video.oncanplaythrough = ok; });
    const boxes = [[300, 200, 620, 600], [900, 250, 1180, 620], [1400, 300, 1700, 700]];

    const blobToBase64 = (blob) => new Promise((ok, fail) => {
      const reader = new FileReader();
      reader.onload = () => ok(reader.result.slice(reader.result.indexOf(',') + 1));
      reader.onerror = fail;
      reader.readAsDataURL(blob);
    });
    const plainCapture = async (time) => {
      const presented = new Promise((ok) => video.requestVideoFrameCallback((now, meta) => ok(meta.mediaTime)));
      video.currentTime = time;
      await new Promise((ok) => video.addEventListener('seeked', ok, { once: true }));
      const shown = await Promise.race([presented, new Promise((ok) => setTimeout(() => ok(video.currentTime), 250))]);
      const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
      canvas.getContext('2d').drawImage(video, 0, 0, video.videoWidth, video.videoHeight);
      const base64 = await blobToBase64(await canvas.convertToBlob({ type: 'image/jpeg' }));
      return { base64, width: canvas.width, height: canvas.height, time: shown };
    };
    const plainCrop = async (frame, boxes, padding = 0.2) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:application/octet-stream;base64,${frame.base64}`)).blob());
      const crops = [];
      for (const [x1, y1, x2, y2] of boxes) {
        const w = x2 - x1;
        const h = y2 - y1;
        const left = Math.floor(Math.max(0, x1 - w * padding));
        const top = Math.floor(Math.max(0, y1 - h * padding));
        const width = Math.ceil(Math.min(bitmap.width, x2 + w * padding)) - left;
        const height = Math.ceil(Math.min(bitmap.height, y2 + h * padding)) - top;
        const canvas = new OffscreenCanvas(width, height);
        canvas.getContext('2d').drawImage(bitmap, left, top, width, height, 0, 0, width, height);
        crops.push(await blobToBase64(await canvas.convertToBlob({ type: 'image/jpeg' })));
      }
      bitmap.close();
      return crops;
    };
    const runs = {
      library: async (time) => lib.cropFaces(await lib.captureFrame(video, { time }), boxes),
      plain: async (time) => plainCrop(await plainCapture(time), boxes),
    };
    const samples = { library: [], plain: [] };
    for (let i = 0; i < rounds + 3; i++) {
      const time = 0.2 + (i % 12) * 0.3;
      const order = i % 2 ? ['library', 'plain'] : ['plain', 'library'];
      for (const name of order) {
        const start = performance.now();
        const crops = await runs[name](time);
        const elapsed = performance.now() - start;
        if (crops.length !== 3) throw new Error(`${name} made ${crops.length} crops`);
        if (i >= 3) samples[name].push(elapsed);
      }
    }
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    return { library: median(samples.library), plain: median(samples.plain), rounds };
  }, { url, rounds: ROUNDS });
  console.log(`capture 1920x1080 + 3 crops, median of ${result.rounds} rounds (headless Chromium):`);
  console.log(`  faceswap-wasm captureFrame + cropFaces: ${result.library.toFixed(1)} ms`);
  console.log(`  plain JavaScript, same steps:           ${result.plain.toFixed(1)} ms`);
  console.log(`  ratio library / plain JS = ${(result.library / result.plain).toFixed(3)}  (target <= 1.1)`);
} finally {
  await browser.close();
  await proxy.stop();
}
