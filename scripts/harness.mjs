// What the end-to-end tests and the browser benchmarks share: the proxy's debug binary on a free
// loopback port (serving pkg/ and the demo's samples) and Debian's Chromium through
// playwright-core. `npm test` and scripts/bench.sh build the proxy first.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
  const end = async (signal) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  return {
    url,
    data,
    /** Stops the proxy as an operator would (SIGTERM, graceful). */
    stop: () => end('SIGTERM'),
    /** Kills the proxy at once (SIGKILL): nothing it was doing finishes. */
    kill: () => end('SIGKILL'),
  };
}

/**
 * A throwaway PostgreSQL server (Debian's postgresql package, as `scripts/setup.sh --test`
 * installs it) on a free loopback port, like the Rust tests' `common/pg.rs`: as root it runs as
 * the `postgres` user. Resolves to `{ url, stop }` once it accepts connections.
 */
export async function startPostgres() {
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`)).sort((a, b) => Number(a) - Number(b))
    : [];
  if (versions.length === 0) throw new Error('no PostgreSQL server found: run `scripts/setup.sh --test`');
  const bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync('/tmp/faceswap-pg-');
  if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const as = (program, args) => (root ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', program, ...args]] : [program, args]);
  const data = join(dir, 'data');
  execFileSync(...as(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-locale', '-E', 'UTF8']), { cwd: dir, stdio: 'ignore' });
  const port = await freePort();
  const child = spawn(...as(`${bin}/postgres`, ['-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off']), { cwd: dir, stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
    let pid = '';
    try {
      pid = readFileSync(join(data, 'postmaster.pid'), 'utf8');
    } catch {
      // not started yet
    }
    if (pid.split('\n')[7]?.trim() === 'ready') break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('postgres was not ready within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
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
