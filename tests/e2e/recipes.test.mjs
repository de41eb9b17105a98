// The README's quickstart followed word for word, and the cross-origin recipe of docs/recipes.md:
// the package packed with `npm pack` and installed from the tarball into a fresh app, the files
// the Markdown names (`js file=vite.config.js`, `html file=index.html`, `js file=main.js`)
// written as printed (only the proxy's port differs: the test's proxy listens on a free one),
// Vite run on them, and a face swapped through the proxy's sandbox in Chromium by choosing two
// files and pressing Swap, as a person would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packTarball } from '../../scripts/bundle-app.mjs';
import { freePort, launchChromium, root, startProxy } from '../../scripts/harness.mjs';

/** The files a Markdown document names: `{ 'main.js': source, ... }`. */
function recipeFiles(path) {
  const files = {};
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const named = /^```\w+ file=(\S+)$/.exec(lines[i].trim());
    if (!named) continue;
    let end = i + 1;
    while (end < lines.length && lines[end].trim() !== '```') end += 1;
    files[named[1]] = `${lines.slice(i + 1, end).join('\n')}\n`;
    i = end;
  }
  return files;
}

/** A fresh app folder with the tarball installed, Vite linked in, and `files` written. */
function app(tarball, files, proxyUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'faceswap-recipe-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'recipe', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--silent', tarball], { cwd: dir, stdio: 'inherit' });
  symlinkSync(join(root, 'node_modules', 'vite'), join(dir, 'node_modules', 'vite'));
  for (const [name, source] of Object.entries(files)) {
    writeFileSync(join(dir, name), source.replaceAll('http://127.0.0.1:8080', proxyUrl));
  }
  return dir;
}

/** Chooses the two test photos in the page's form, presses Swap and waits for the result. */
async function swapLikeAPerson(page) {
  const media = join(root, 'target', 'test-media');
  await page.setInputFiles('input[name="photo"]', join(media, 'astronaut.png'));
  await page.setInputFiles('input[name="face"]', join(media, 'camera.png'));
  await page.click('button');
  await page.waitForFunction(() => /succeeded|Could not/.test(document.querySelector('#status').textContent), null, { timeout: 60_000 });
  const status = await page.textContent('#status');
  const size = await page.$eval('#result', (img) => new Promise((ok) => {
    if (img.complete && img.naturalWidth) ok([img.naturalWidth, img.naturalHeight]);
    else { img.onload = () => ok([img.naturalWidth, img.naturalHeight]); img.onerror = () => ok(null); }
  }));
  return { status, size };
}

let tarball;
let browser;
const stops = [];

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'test-media.sh')], { stdio: 'inherit' });
  tarball = packTarball();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const stop of stops.reverse()) await stop();
});

describe('recipes that a person follows', () => {
  test('the README quickstart: a Vite dev server sending /api to the proxy', { timeout: 300_000 }, async () => {
    const files = recipeFiles(join(root, 'README.md'));
    assert.deepEqual(Object.keys(files).sort(), ['index.html', 'main.js', 'vite.config.js']);
    const proxy = await startProxy();
    stops.push(() => proxy.stop());
    const dir = app(tarball, files, proxy.url);
    const { createServer } = await import('vite');
    const port = await freePort();
    const server = await createServer({ root: dir, configFile: join(dir, 'vite.config.js'), logLevel: 'warn', server: { host: '127.0.0.1', port, strictPort: true } });
    await server.listen();
    stops.push(() => server.close());
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await swapLikeAPerson(page);
    assert.equal(result.status, 'Status: succeeded');
    assert.deepEqual(result.size, [512, 512]);
  });

  test('docs/recipes.md: a page on another origin with baseUrl and ALLOWED_ORIGINS', { timeout: 300_000 }, async () => {
    const files = recipeFiles(join(root, 'docs', 'recipes.md'));
    assert.deepEqual(Object.keys(files).sort(), ['index.html', 'main.js']);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const proxy = await startProxy({ ALLOWED_ORIGINS: origin });
    stops.push(() => proxy.stop());
    const dir = app(tarball, files, proxy.url);
    const { build, preview } = await import('vite');
    await build({ root: dir, configFile: false, logLevel: 'warn', build: { outDir: join(dir, 'dist') } });
    const server = await preview({ root: dir, configFile: false, logLevel: 'warn', build: { outDir: join(dir, 'dist') }, preview: { host: '127.0.0.1', port, strictPort: true } });
    stops.push(() => new Promise((done) => server.httpServer.close(done)));
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const result = await swapLikeAPerson(page);
    assert.equal(result.status, 'Status: succeeded');
    assert.deepEqual(result.size, [512, 512]);
  });
});
