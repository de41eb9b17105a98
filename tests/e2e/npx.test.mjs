// `npx faceswap-proxy` as users get it: scripts/package-proxy.sh packs the launcher and the Linux
// x64 platform package (here around the debug build), both are installed from their tarballs
// into a fresh folder (no registry), and `npx faceswap-proxy` runs the binary: `--version`, then a
// proxy that answers /healthz and stops on SIGTERM.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { built, freePort, root, targetDir } from '../../scripts/harness.mjs';

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

  const version = execFileSync('npx', ['--no-install', 'faceswap-proxy', '--version'], { cwd: app, encoding: 'utf8' });
  assert.equal(version.trim(), `faceswap-proxy ${launcher.version}`);

  const port = await freePort();
  // Its own process group (npx, the launcher, the binary), signalled as a terminal would.
  const proxy = spawn('npx', ['--no-install', 'faceswap-proxy'], {
    cwd: app,
    detached: true,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      SANDBOX: 'off',
      PROVIDERS: '',
      AIFACESWAP_API_KEY: 'test-key-not-real',
      AIFACESWAP_BASE_URL: 'http://127.0.0.1:9',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((done) => proxy.on('exit', (code, signal) => done({ code, signal })));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.equal(proxy.exitCode, null, 'the proxy exited');
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      assert.ok(Date.now() < deadline, 'the proxy did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const config = await (await fetch(`http://127.0.0.1:${port}/api/config`)).json();
    assert.deepEqual(config.providers.map((p) => [p.id, p.mode]), [['aifaceswap', 'live']]);
  } finally {
    process.kill(-proxy.pid, 'SIGTERM');
  }
  const { code, signal } = await exited;
  assert.ok(code === 0 || signal === 'SIGTERM', `exit ${code} ${signal}`);
  // The binary itself has stopped too: its port is free again.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
    } catch {
      break;
    }
    assert.ok(Date.now() < deadline, 'the binary still answers after SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
  }
});
