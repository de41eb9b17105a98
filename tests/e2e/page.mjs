// What the end-to-end tests of the client classes share: running a function in the page with the
// package loaded, a client built, and test media turned into Blobs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../../scripts/harness.mjs';

const media = join(root, 'target', 'test-media');

/** A test media file, ready to become a Blob in the page. */
export function file(name, type = 'image/png') {
  return { base64: readFileSync(join(media, name)).toString('base64'), type };
}

/**
 * Runs `fn(lib, client, blobs, args)` in `page`: `lib` is the package, `client` a new
 * `lib[className]({ baseUrl: '/api', timeoutMs: 60000 })` (none when `className` is null), `blobs`
 * the Blobs of `args.files`. Resolves `{ ok }` or `{ error }` with the rejection's fields.
 */
export function inPage(page, className, fn, args = {}) {
  return page.evaluate(
    async ({ className, source, args }) => {
      const lib = await import('/pkg/faceswap_wasm.js');
      await lib.default();
      const client = className ? new lib[className]({ baseUrl: '/api', timeoutMs: 60_000 }) : null;
      const blobs = {};
      for (const [name, { base64, type }] of Object.entries(args.files ?? {})) {
        blobs[name] = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
      }
      const run = new Function('lib', 'client', 'blobs', 'args', `return (${source})(lib, client, blobs, args);`);
      try {
        return { ok: await run(lib, client, blobs, args) };
      } catch (e) {
        return {
          error: {
            name: e.name, code: e.code, status: e.status, field: e.field, providerCode: e.providerCode,
            message: e.message, task: e.task ?? null,
          },
        };
      }
    },
    { className, source: fn.toString(), args },
  );
}

/**
 * In-page source of `regionChange(lib, input, resultUrl)`: how much a result differs from its
 * input inside the input's face boxes (found by `detectFaces`, each grown by a quarter of its
 * size on every side) and outside them, as mean absolute differences per channel (0..255), with
 * the number of faces found. Pass it in `args` and build it with `new Function` in the page.
 */
export const REGION_CHANGE = `async (lib, input, resultUrl) => {
  const before = await createImageBitmap(input);
  const after = await createImageBitmap(await (await fetch(resultUrl)).blob());
  const { boxes } = await lib.detectFaces(before);
  const width = before.width;
  const height = before.height;
  const pixels = (bitmap) => {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    context.drawImage(bitmap, 0, 0, width, height);
    return context.getImageData(0, 0, width, height).data;
  };
  const a = pixels(before);
  const b = pixels(after);
  const grown = boxes.map(([x1, y1, x2, y2]) => {
    const dx = (x2 - x1) / 4;
    const dy = (y2 - y1) / 4;
    return [x1 - dx, y1 - dy, x2 + dx, y2 + dy];
  });
  const sums = { inside: [0, 0], outside: [0, 0] };
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 4;
      const diff = (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2])) / 3;
      const where = grown.some(([x1, y1, x2, y2]) => x >= x1 && x < x2 && y >= y1 && y < y2) ? 'inside' : 'outside';
      sums[where][0] += diff;
      sums[where][1] += 1;
    }
  }
  return {
    faces: boxes.length,
    size: [after.width, after.height],
    inside: sums.inside[0] / Math.max(1, sums.inside[1]),
    outside: sums.outside[0] / Math.max(1, sums.outside[1]),
  };
}`;
