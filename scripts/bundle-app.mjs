// A one-provider web app built the way a user builds theirs: the package packed with `npm pack`,
// installed from that tarball into a fresh app folder, imported through one provider entry
// (`faceswap-wasm/piapi`, ...), and built for production by Vite or webpack. The bundle benchmark
// measures what such an app emits; the end-to-end test serves it and runs a swap in Chromium.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { root } from './harness.mjs';

/** Each provider entry's client class, as its `.d.ts` exports it. */
export const CLASSES = {
  aifaceswap: 'FaceSwapClient',
  piapi: 'PiApiClient',
  aiphotocraft: 'AiPhotoCraftClient',
  acedata: 'AceDataClient',
};

/** Each provider's one-face swap: its operation, and its fields for the picture and the face. */
const SWAPS = {
  aifaceswap: ['faceSwap', 'sourceImage', 'faceImage'],
  piapi: ['faceSwap', 'targetImage', 'swapImage'],
  aiphotocraft: ['basicSwap', 'targetImage', 'srcImage'],
  acedata: ['faceSwap', 'targetImageUrl', 'sourceImageUrl'],
};

/** Packs the package (pkg/ must be built) into a fresh folder; resolves the tarball's path. */
export function packTarball() {
  const dir = mkdtempSync(join(tmpdir(), 'faceswap-pack-'));
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  return join(dir, out.trim().split('\n').pop());
}

/**
 * The app's own code: `window.app` runs the one-face swap of the entry's class and follows the
 * task, prices the swap, finds faces with the lazily loaded detector and crops them with the
 * lazily loaded media helpers, and finds the people in a video with the lazily loaded people
 * finder.
 */
function appSource(provider) {
  const [operation, targetField, faceField] = SWAPS[provider];
  return `import init, { estimateCost, detectFaces, cropFaces, findPeople, ${CLASSES[provider]} as Client } from 'faceswap-wasm/${provider}';

const ready = init();
window.app = {
  async swap(target, face) {
    await ready;
    const client = new Client();
    const { taskId } = await client.${operation}({ ${targetField}: target, ${faceField}: face });
    return client.waitForResult(taskId, { timeoutMs: 60000 });
  },
  async cost() {
    await ready;
    return estimateCost('${provider}', '${operation}');
  },
  async detect(blob) {
    await ready;
    return detectFaces(await createImageBitmap(blob));
  },
  async crop(base64, boxes) {
    await ready;
    return cropFaces(base64, boxes);
  },
  async people(video) {
    await ready;
    const { people } = await findPeople(video, { samplesPerSecond: 1 });
    return people.map((person) => person.times.length);
  },
};
document.body.dataset.ready = 'true';
`;
}

/** A fresh app folder holding the app's source, with the tarball installed (no registry). */
function appFolder(tarball, provider, tool) {
  const dir = mkdtempSync(join(tmpdir(), `faceswap-${tool}-app-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `${tool}-app`, private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--silent', tarball], { cwd: dir, stdio: 'inherit' });
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.js'), appSource(provider));
  return dir;
}

/** Builds a one-provider app with Vite for production; resolves the folder it emitted. */
export async function viteApp(tarball, provider) {
  const dir = appFolder(tarball, provider, 'vite');
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>vite app</title><script type="module" src="/src/main.js"></script>\n');
  const { build } = await import('vite');
  await build({
    root: dir,
    logLevel: 'warn',
    configFile: false,
    build: {
      outDir: join(dir, 'dist'),
      // Names without hashes, so a test and the benchmark can tell the files apart.
      rolldownOptions: { output: { entryFileNames: 'main.js', chunkFileNames: '[name].js', assetFileNames: '[name][extname]' } },
    },
  });
  return join(dir, 'dist');
}

/** Builds a one-provider app with webpack for production; resolves the folder it emitted. */
export async function webpackApp(tarball, provider) {
  const dir = appFolder(tarball, provider, 'webpack');
  const { default: webpack } = await import('webpack');
  const dist = join(dir, 'dist');
  const stats = await new Promise((done, fail) => {
    webpack({
      mode: 'production',
      context: dir,
      entry: './src/main.js',
      output: {
        path: dist,
        filename: 'main.js',
        chunkFilename: '[name].[id].js',
        assetModuleFilename: '[name]-[contenthash:8][ext]',
        publicPath: '/',
        clean: true,
      },
      resolve: { modules: [join(dir, 'node_modules')] },
      performance: { hints: false },
    }, (err, result) => (err ? fail(err) : done(result)));
  });
  if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>webpack app</title><body><script src="/main.js"></script></body>\n');
  return dist;
}

/** Every file under `dir`, with its path relative to it. */
export function filesOf(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, name: relative(dir, path) }));
}

/**
 * What a one-provider app loads before it detects faces, gzipped (level 9): the script its page
 * loads (`entry`) and the library's wasm (`${provider}_bg...wasm`), each listed by name. The face
 * detector (its loader chunk, worker, glue and models) loads on the first `detectFaces` only.
 */
export function initialBytes(dist, entry, provider) {
  const files = filesOf(dist).filter(({ name }) => name === entry
    || (name.endsWith('.wasm') && name.startsWith(`${provider}_bg`)));
  const gz = (path) => gzipSync(readFileSync(path), { level: 9 }).length;
  return { files: files.map(({ name }) => name), bytes: files.reduce((sum, { path }) => sum + gz(path), 0) };
}
