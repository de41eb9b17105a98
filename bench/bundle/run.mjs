// Gzipped size of the core package (pkg/faceswap_wasm_bg.wasm + pkg/faceswap_wasm.js) against
// @fal-ai/client 1.10.1 bundled and minified with esbuild, measured in the same run.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..', '..');
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

const wasm = readFileSync(join(root, 'pkg', 'faceswap_wasm_bg.wasm'));
const glue = readFileSync(join(root, 'pkg', 'faceswap_wasm.js'));
// Snippets are small JS modules the glue imports eagerly (the lazy detector's loader).
const snippetDir = join(root, 'pkg', 'snippets');
const snippets = readdirSync(snippetDir, { recursive: true })
  .filter((name) => name.endsWith('.js'))
  .map((name) => readFileSync(join(snippetDir, name)));
const snippetBytes = snippets.reduce((sum, s) => sum + gz(s), 0);
const ours = gz(wasm) + gz(glue) + snippetBytes;

const falVersion = JSON.parse(readFileSync(join(root, 'node_modules', '@fal-ai', 'client', 'package.json'), 'utf8')).version;
const bundled = await build({
  stdin: { contents: "export * from '@fal-ai/client';", resolveDir: root, loader: 'js' },
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  write: false,
  logLevel: 'error',
});
const fal = gz(bundled.outputFiles[0].contents);

// The budget grows with the providers served: 60 KiB for the shared code and aifaceswap's
// FaceSwapClient, 4 KiB for each further provider's class (PiApiClient, ...).
const providerClasses = readFileSync(join(root, 'pkg', 'faceswap_wasm.d.ts'), 'utf8')
  .match(/^export class \w+Client\b/gm) ?? [];
const budget = (60 + 4 * Math.max(0, providerClasses.length - 1)) * 1024;

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`faceswap-wasm: wasm ${wasm.length} B (gzip ${gz(wasm)} B) + js ${glue.length} B (gzip ${gz(glue)} B) + ${snippets.length} snippet(s) (gzip ${snippetBytes} B) = ${ours} B gzipped (${kib(ours)})`);
console.log(`@fal-ai/client ${falVersion} (esbuild, minified): ${bundled.outputFiles[0].contents.length} B, ${fal} B gzipped (${kib(fal)})`);
console.log(`ratio faceswap-wasm / @fal-ai/client = ${(ours / fal).toFixed(2)}  (budget for ${providerClasses.length} provider classes: ${kib(budget)}, ${ours <= budget ? 'within' : 'OVER'})`);
