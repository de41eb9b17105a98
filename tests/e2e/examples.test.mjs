// Every JavaScript example of README.md and docs/*.md, extracted from the Markdown and run as it
// is in headless Chromium against the proxy in sandbox mode: `faceswap-wasm` (and each provider
// entry) is mapped to the built package by an import map, and the demo's samples are served at
// /samples/. A block whose info string names a file (`js file=main.js`) belongs to a recipe,
// which recipes.test.mjs assembles and runs instead.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLASSES } from '../../scripts/bundle-app.mjs';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';

/** The runnable `js` blocks of a Markdown file: `{ where, code }`. */
export function examplesOf(path, name) {
  const examples = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i].trim() !== '```js') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end += 1;
    examples.push({ where: `${name}:${start}`, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return examples;
}

const documents = [
  ['README.md', join(root, 'README.md')],
  ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => [`docs/${name}`, join(root, 'docs', name)]),
];
const examples = documents.flatMap(([name, path]) => examplesOf(path, name));

let proxy;
let browser;

before(async () => {
  const www = mkdtempSync(join(tmpdir(), 'faceswap-examples-'));
  cpSync(join(root, 'www', 'samples'), join(www, 'samples'), { recursive: true });
  const imports = { 'faceswap-wasm': '/pkg/faceswap_wasm.js' };
  for (const provider of Object.keys(CLASSES)) imports[`faceswap-wasm/${provider}`] = `/pkg/${provider}.js`;
  writeFileSync(join(www, 'index.html'), `<!doctype html><title>examples</title><script type="importmap">${JSON.stringify({ imports })}</script>\n`);
  proxy = await startProxy({ WWW_DIR: www });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

describe('the documentation\'s JavaScript examples run as written', () => {
  test('there are examples to run', () => assert.ok(examples.length >= 8, String(examples.length)));

  for (const { where, code } of examples) {
    test(where, { timeout: 300_000 }, async () => {
      const page = await browser.newPage();
      const logged = [];
      page.on('console', (message) => logged.push(message.text()));
      try {
        await page.goto(`${proxy.url}/`);
        const outcome = await page.evaluate(async (source) => {
          const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
          try {
            await import(url);
            return { ok: true };
          } catch (e) {
            return { error: `${e?.name}: ${e?.message} (code ${e?.code}, field ${e?.field})` };
          }
        }, code);
        assert.ok(outcome.ok, `${where}: ${outcome.error}\nconsole: ${logged.join('\n')}`);
      } finally {
        await page.close();
      }
    });
  }
});
