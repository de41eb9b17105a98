#!/usr/bin/env node
// `npx faceswap-proxy`: runs the prebuilt proxy binary of this platform's package (an
// optionalDependency that npm installs only where its `os` and `cpu` match), with the same
// arguments, environment and standard streams; exits as it exits. Signals reach it directly
// (same process group), and those sent to this launcher are passed on.
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
const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });
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
