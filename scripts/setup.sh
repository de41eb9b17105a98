#!/usr/bin/env bash
# Installs what the build (and, with --test, the tests) need, only where it is missing:
#   the wasm32 target, wasm-bindgen-cli of exactly the Cargo.lock version, npm packages from
#   package-lock.json, Debian's ffmpeg, and for tests Debian's chromium, chromium-driver,
#   postgresql (the server the proxy's PostgreSQL tests start) and nginx (the load balancer of
#   the proxy's balancer test), and for the S3 test PyPI's moto[server] in target/s3-venv.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_tools=false
[[ "${1:-}" == "--test" ]] && want_test_tools=true

log() { printf '[setup] %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Cargo.lock decides the wasm-bindgen version; the CLI must match it exactly.
if [[ ! -f Cargo.lock ]]; then
  cargo generate-lockfile
fi
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have_version=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have_version" != "$bindgen_version" ]] || ! command -v wasm-bindgen-test-runner >/dev/null; then
  log "installing wasm-bindgen-cli $bindgen_version (found: ${have_version:-none})"
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

# npm packages, exactly as package-lock.json pins them; skipped while node_modules is newer.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
fi

# ffmpeg makes the sample media and runs the sandbox's video swaps; Chromium and its driver run
# the browser tests.
missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
# A C toolchain and make build the bundled SQLite.
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v make >/dev/null || missing+=(make)
if $want_test_tools; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  # The proxy's PostgreSQL tests start a throwaway server of their own (initdb + postgres).
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  # The balancer test runs nginx (as the test's user, in a temporary folder) in front of two
  # proxies.
  [[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || missing+=(nginx)
  # The metrics tests check the proxy's /metrics with promtool and scrape it with a real
  # Prometheus (run as the test's user, in a temporary folder): Debian's `prometheus` has both.
  { command -v promtool >/dev/null && command -v prometheus >/dev/null; } || missing+=(prometheus)
  # The S3 test runs PyPI's moto (an S3-compatible server) from a venv, which needs these.
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
fi
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The proxy's S3 test (UPLOAD_STORE=s3) runs moto's S3-compatible server, from PyPI, in a venv
# of its own under target/ (the test looks there).
if $want_test_tools && [[ ! -x target/s3-venv/bin/moto_server ]]; then
  log "installing moto[server] from PyPI into target/s3-venv"
  python3 -m venv target/s3-venv
  target/s3-venv/bin/pip install -q 'moto[server]==5.2.5'
fi
