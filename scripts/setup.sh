#!/usr/bin/env bash
# Installs what the build (and, with --test, the tests) need, only where it is missing:
#   the wasm32 target, wasm-bindgen-cli of exactly the Cargo.lock version, npm packages from
#   package-lock.json, Debian's ffmpeg, and for tests Debian's chromium, chromium-driver,
#   postgresql (the server the proxy's PostgreSQL tests start) and nginx (the load balancer of
#   the proxy's balancer test).
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
fi
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
