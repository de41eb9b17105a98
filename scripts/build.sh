#!/usr/bin/env bash
# Builds the browser library into pkg/: wasm32 release build, wasm-bindgen --target web, wasm-opt
# from npm's binaryen package (Debian's binaryen is too old for current modules).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=wasm-release
cargo build -p faceswap-wasm --lib --target wasm32-unknown-unknown --profile "$profile"
wasm="target/wasm32-unknown-unknown/$profile/faceswap_wasm.wasm"

rm -rf pkg.tmp && mkdir -p pkg.tmp
wasm-bindgen "$wasm" --out-dir pkg.tmp --target web --typescript --no-demangle
npx --no-install wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg.tmp/faceswap_wasm_bg.wasm -o pkg.tmp/faceswap_wasm_bg.wasm
rm -rf pkg && mv pkg.tmp pkg
printf '[build] pkg/faceswap_wasm_bg.wasm: %s bytes, gzipped %s bytes\n' \
  "$(wc -c < pkg/faceswap_wasm_bg.wasm)" "$(gzip -9c pkg/faceswap_wasm_bg.wasm | wc -c)" >&2
