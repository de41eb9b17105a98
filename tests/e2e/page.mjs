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
