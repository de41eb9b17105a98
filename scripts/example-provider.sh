#!/usr/bin/env bash
# Builds what the end-to-end test of the example provider runs (tests/e2e/example.test.mjs): the
# proxy and the browser library with the cargo feature `example-provider`, which registers a
# provider that exists only to prove the provider seam. Both go to
# $CARGO_TARGET_DIR/example-provider/ (faceswap-proxy and pkg/), never to pkg/ or target/debug/:
# the published package and the proxy `npm start` runs never hold it.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
out="$target_dir/example-provider"
rm -rf "$out" && mkdir -p "$out/pkg"

# The feature changes faceswap-core, so cargo keeps these artifacts beside the usual ones; the
# binary is copied out before the usual build writes target/debug/faceswap-proxy again.
cargo build -p faceswap-proxy --features example-provider --locked
cp "$target_dir/debug/faceswap-proxy" "$out/faceswap-proxy"

cargo build -p faceswap-wasm --lib --features example-provider --target wasm32-unknown-unknown --locked
wasm-bindgen "$target_dir/wasm32-unknown-unknown/debug/faceswap_wasm.wasm" \
  --out-dir "$out/pkg" --target web --typescript
# The face detector is the same module as the package's.
if [[ -d pkg/detect ]]; then cp -r pkg/detect "$out/pkg/detect"; fi
printf '[example-provider] %s/faceswap-proxy and %s/pkg built\n' "$out" "$out" >&2
