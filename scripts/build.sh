#!/usr/bin/env bash
# Builds the browser library into pkg/: wasm32 release build, wasm-bindgen --target web, wasm-opt
# from npm's binaryen package (Debian's binaryen is too old for current modules).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=wasm-release
# Panic locations carry source paths into the wasm: strip the machine-specific prefixes (shorter,
# smaller, and no home directory in the published package).
remap="--remap-path-prefix=$PWD/="
for registry in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  remap+=" --remap-path-prefix=$registry="
done
RUSTFLAGS="${RUSTFLAGS:-} $remap" \
cargo build -p faceswap-wasm --lib --target wasm32-unknown-unknown --profile "$profile"
wasm="target/wasm32-unknown-unknown/$profile/faceswap_wasm.wasm"

rm -rf pkg.tmp && mkdir -p pkg.tmp
wasm-bindgen "$wasm" --out-dir pkg.tmp --target web --typescript --no-demangle
npx --no-install wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg.tmp/faceswap_wasm_bg.wasm -o pkg.tmp/faceswap_wasm_bg.wasm
# The JS glue ships minified (the .d.ts keeps every doc comment); bundlers would minify it anyway.
npx --no-install esbuild pkg.tmp/faceswap_wasm.js --minify --format=esm --log-level=warning \
  --outfile=pkg.tmp/faceswap_wasm.js --allow-overwrite
rm -rf pkg && mv pkg.tmp pkg
for file in faceswap_wasm_bg.wasm faceswap_wasm.js; do
  printf '[build] pkg/%s: %s bytes, gzipped %s bytes\n' "$file" "$(wc -c < "pkg/$file")" "$(gzip -9c "pkg/$file" | wc -c)" >&2
done
