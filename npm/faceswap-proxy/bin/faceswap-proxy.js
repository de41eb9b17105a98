#!/usr/bin/env node
// `npx faceswap-proxy`: runs the prebuilt proxy binary of this platform's package (an
// optionalDependency that npm installs only where its `os` and `cpu` match), with the same
// arguments, environment and standard streams; exits as it exits. Signals reach it directly
// (same process group), and those sent to this launcher are passed on.
//
// Started with no settings it is what `npm start` is in a clone of the repository: the built-in
// sandbox answers every provider (SANDBOX=on, unless SANDBOX is set or a provider's key is given)
// and the demo page and the browser library this package carries (www/, pkg/) are served, on
// 127.0.0.1:8080 with SQLite under ./data.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');

/** The platform packages, by `${process.platform}-${process.arch}`. */
const PLATFORMS = {
  'linux-x64': 'faceswap-proxy-linux-x64',
};

function binaryPath() {
  const key = `${process.platform}-${process.arch}`;
  const name = PLATFORMS[key];
  if (!name) {
    throw new Error(
      `faceswap-proxy has no prebuilt binary for ${key} (there is one for: ${Object.keys(PLATFORMS).join(', ')}); ` +
        'build it from the repository with `cargo build --release -p faceswap-proxy`',
    );
  }
  try {
    return path.join(path.dirname(require.resolve(`${name}/package.json`)), 'bin', 'faceswap-proxy');
  } catch {
    throw new Error(
      `the package ${name}, which holds the faceswap-proxy binary for ${key}, is not installed: ` +
        'reinstall without --no-optional (or --omit=optional)',
    );
  }
}

let binary;
try {
  binary = binaryPath();
} catch (err) {
  console.error(`faceswap-proxy: ${err.message}`);
  process.exit(1);
}
const args = process.argv.slice(2);
/** True when `name` is set in the environment or given as `--flag` / `--flag=...`. */
const given = (name, flag) =>
  process.env[name] !== undefined || args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
const env = { ...process.env };
const keyed = Object.keys(process.env).some((name) => name.endsWith('_API_KEY'))
  || args.some((arg) => /^--[a-z0-9-]+-api-key(=|$)/.test(arg));
if (!given('SANDBOX', '--sandbox') && !keyed) env.SANDBOX = 'on';
if (!given('WWW_DIR', '--www-dir')) env.WWW_DIR = path.join(__dirname, '..', 'www');
if (!given('PKG_DIR', '--pkg-dir')) env.PKG_DIR = path.join(__dirname, '..', 'pkg');
const child = spawn(binary, args, { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (err) => {
  console.error(`faceswap-proxy: cannot run ${binary}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
