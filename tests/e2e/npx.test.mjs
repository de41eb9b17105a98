// `npx faceswap-proxy` as users get it: scripts/package-proxy.sh packs the launcher and the Linux
// x64 platform package (here around the debug build), both are installed from their tarballs
// into a fresh folder (no registry), and `npx faceswap-proxy` runs the binary with no Rust on
// PATH: `--version`; with no settings, the sandbox and the demo, where a photo swap succeeds in
// Chromium; with a key, exactly its provider; each stopped by SIGTERM.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { built, freePort, launchChromium, root, targetDir } from '../../scripts/harness.mjs';

test('npx faceswap-proxy runs the binary of the platform package', { skip: process.platform !== 'linux' || process.arch !== 'x64' }, async () => {
  const packs = mkdtempSync(join(tmpdir(), 'faceswap-proxy-npm-'));
  after(() => rmSync(packs, { recursive: true, force: true }));
  const tarballs = execFileSync('bash', ['scripts/package-proxy.sh', packs], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, PROXY_BINARY: built(join(targetDir, 'debug', 'faceswap-proxy')) },
  }).trim().split('\n');
  assert.equal(tarballs.length, 2);
  const app = mkdtempSync(join(tmpdir(), 'faceswap-proxy-app-'));
  after(() => rmSync(app, { recursive: true, force: true }));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'proxy-app', private: true }));
  // The launcher alone would fetch its platform package from the registry; here both come from their tarballs.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--silent', ...tarballs], { cwd: app, stdio: 'inherit' });

  const launcher = JSON.parse(readFileSync(join(app, 'node_modules/faceswap-proxy/package.json'), 'utf8'));
  const platform = JSON.parse(readFileSync(join(app, 'node_modules/faceswap-proxy-linux-x64/package.json'), 'utf8'));
  assert.deepEqual(launcher.bin, { 'faceswap-proxy': 'bin/faceswap-proxy.js' });
  assert.equal(launcher.optionalDependencies['faceswap-proxy-linux-x64'], launcher.version);
  assert.equal(platform.version, launcher.version);
  assert.deepEqual([platform.os, platform.cpu], [['linux'], ['x64']]);

  // No Rust toolchain on PATH: the package needs none.
  const PATH = process.env.PATH.split(':').filter((dir) => !/cargo|rustup/.test(dir)).join(':');
  assert.throws(() => execFileSync('rustc', ['--version'], { env: { ...process.env, PATH }, stdio: 'ignore' }));
  const baseEnv = { ...process.env, PATH };
  for (const name of Object.keys(baseEnv)) {
    if (/_API_KEY$|_BASE_URL$|^SANDBOX$|^PROVIDERS$|^(WWW|PKG)_DIR$|^DATABASE_URL$|^UPLOAD_DIR$/.test(name)) delete baseEnv[name];
  }

  const version = execFileSync('npx', ['--no-install', 'faceswap-proxy', '--version'], { cwd: app, encoding: 'utf8', env: baseEnv });
  assert.equal(version.trim(), `faceswap-proxy ${launcher.version}`);

  // With no settings but the port: the sandbox and the demo, as `npm start` serves them.
  await withProxy(app, { ...baseEnv, PORT: String(await freePort()) }, async (url) => {
    const config = await (await fetch(`${url}/api/config`)).json();
    assert.deepEqual(config.providers.map((p) => p.mode), ['sandbox', 'sandbox', 'sandbox', 'sandbox']);
    const browser = await launchChromium();
    try {
      const demo = await browser.newPage();
      const errors = [];
      demo.on('pageerror', (e) => errors.push(String(e)));
      await demo.goto(url);
      await demo.waitForSelector('body[data-ready="true"]');
      for (const [input, label] of [['sourceImage', 'Astronaut'], ['faceImage', 'Portrait 1']]) {
        const within = `#flow-photo [data-input="${input}"]`;
        await demo.locator(within).getByRole('button', { name: label, exact: true }).click();
        await demo.waitForFunction((sel) => document.querySelector(sel)?.dataset.filled === 'true', within);
      }
      await demo.click('#flow-photo button.primary');
      await demo.waitForSelector('#flow-photo[data-done="true"]', { timeout: 60_000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
  // SQLite under ./data of the folder it was started in.
  assert.ok(existsSync(join(app, 'data', 'faceswap.db')), 'data/faceswap.db');

  // With a key and no SANDBOX: exactly the keyed provider, live.
  await withProxy(app, {
    ...baseEnv,
    PORT: String(await freePort()),
    AIFACESWAP_API_KEY: 'test-key-not-real',
    AIFACESWAP_BASE_URL: 'http://127.0.0.1:9',
  }, async (url) => {
    const config = await (await fetch(`${url}/api/config`)).json();
    assert.deepEqual(config.providers.map((p) => [p.id, p.mode]), [['aifaceswap', 'live']]);
  });
});

/**
 * Runs `npx faceswap-proxy` in `cwd` with `env` until it answers /healthz, calls `use(url)`, then
 * stops it with SIGTERM (its own process group: npx, the launcher, the binary, signalled as a
 * terminal would) and checks that the binary has let go of its port.
 */
async function withProxy(cwd, env, use) {
  const url = `http://127.0.0.1:${env.PORT}`;
  const proxy = spawn('npx', ['--no-install', 'faceswap-proxy'], {
    cwd,
    detached: true,
    env: { ...env, RUST_LOG: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((done) => proxy.on('exit', (code, signal) => done({ code, signal })));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.equal(proxy.exitCode, null, 'the proxy exited');
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      assert.ok(Date.now() < deadline, 'the proxy did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    await use(url);
  } finally {
    process.kill(-proxy.pid, 'SIGTERM');
  }
  const { code, signal } = await exited;
  assert.ok(code === 0 || signal === 'SIGTERM', `exit ${code} ${signal}`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${url}/healthz`);
    } catch {
      break;
    }
    assert.ok(Date.now() < deadline, 'the binary still answers after SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
  }
}
