// What the end-to-end tests and the browser benchmarks share: the proxy's debug binary on a free
// loopback port (serving pkg/ and the demo's samples) and Debian's Chromium through
// playwright-core. `npm test` and scripts/bench.sh build the proxy first.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const root = resolve(import.meta.dirname, '..');
/** Cargo's target folder (CARGO_TARGET_DIR when set). */
export const targetDir = resolve(root, process.env.CARGO_TARGET_DIR ?? 'target');

/** A binary the scripts build; says how to build it when it is missing. */
export function built(path) {
  if (!existsSync(path)) throw new Error(`${path} is missing: \`npm test\` and \`npm run bench -- NAME\` build it`);
  return path;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/**
 * Starts the debug build of faceswap-proxy (or `binary`) with a fresh data folder; resolves once
 * /healthz answers.
 */
export async function startProxy(env = {}, { binary = join(targetDir, 'debug', 'faceswap-proxy') } = {}) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'faceswap-harness-'));
  const child = spawn(built(binary), [], {
    cwd: root,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite://${join(data, 'faceswap.db')}`,
      UPLOAD_DIR: join(data, 'uploads'),
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      // The providers without a key are answered by the built-in sandbox.
      SANDBOX: 'on',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('proxy did not answer /healthz within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    data,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}
