// Gzipped size (level 9) of what users download, against @fal-ai/client 1.10.1 bundled and
// minified with esbuild, measured in the same run:
// - the package root (`faceswap-wasm`, every provider): pkg/faceswap_wasm.js + its wasm + the
//   snippets the glue imports eagerly (the lazy detector's loader);
// - each provider entry (`faceswap-wasm/piapi`, ...): pkg/{id}.js + pkg/{id}_bg.wasm + snippets;
// - what a Vite production build of a one-provider app emits before it detects faces (library
//   code only: the app's code is a few lines), from the packed tarball (scripts/bundle-app.mjs).
// Targets: the root at most 60 KiB, each provider entry at most 36 KiB; the face detector loads
// lazily and is not counted.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLASSES, initialBytes, packTarball, viteApp } from '../../scripts/bundle-app.mjs';

const root = resolve(import.meta.dirname, '..', '..');
const pkg = join(root, 'pkg');
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

const snippetDir = join(pkg, 'snippets');
const snippets = readdirSync(snippetDir, { recursive: true })
  .filter((name) => name.endsWith('.js'))
  .reduce((sum, name) => sum + gz(readFileSync(join(snippetDir, name))), 0);

/** An entry of pkg/: its wasm, its glue and the snippets, gzipped. */
function entry(name) {
  const wasm = gz(readFileSync(join(pkg, `${name}_bg.wasm`)));
  const glue = gz(readFileSync(join(pkg, `${name}.js`)));
  return { wasm, glue, total: wasm + glue + snippets };
}

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
console.log(`@fal-ai/client ${falVersion} (esbuild, minified): ${fal} B gzipped (${kib(fal)})`);

const ROOT_TARGET = 60 * 1024;
const ENTRY_TARGET = 36 * 1024;
const line = (label, { wasm, glue, total }, target) => console.log(
  `${label.padEnd(28)} wasm ${wasm} B + js ${glue} B + snippets ${snippets} B = ${total} B (${kib(total)}), `
  + `${(total / fal).toFixed(2)}x fal, target ${kib(target)}: ${total <= target ? 'within' : 'OVER'}`,
);
line('faceswap-wasm (all four)', entry('faceswap_wasm'), ROOT_TARGET);
for (const provider of Object.keys(CLASSES)) line(`faceswap-wasm/${provider}`, entry(provider), ENTRY_TARGET);

const tarball = packTarball();
for (const provider of Object.keys(CLASSES)) {
  const dist = await viteApp(tarball, provider);
  const { files, bytes } = initialBytes(dist, 'main.js', provider);
  console.log(`Vite app with faceswap-wasm/${provider}: ${files.join(' + ')} = ${bytes} B gzipped (${kib(bytes)}), ${(bytes / fal).toFixed(2)}x fal`);
}
