#!/usr/bin/env bash
# Builds the browser library into pkg/: wasm32 release build, wasm-bindgen --target web, wasm-opt
# from npm's binaryen package (Debian's binaryen is too old for current modules).
# On a fresh clone it first installs what it needs (scripts/setup.sh installs only what is
# missing); the npm tools run from node_modules/.bin, never through npx, so nothing else is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bin=node_modules/.bin
for tool in wasm-opt esbuild; do
  if [[ ! -x "$bin/$tool" ]]; then
    printf '[build] %s/%s is missing after setup: run npm ci (package-lock.json pins binaryen and esbuild)\n' "$bin" "$tool" >&2
    exit 1
  fi
done

profile=wasm-release
# Panic locations carry source paths into the wasm: strip the machine-specific prefixes (shorter,
# smaller, and no home directory in the published package).
remap="--remap-path-prefix=$PWD/="
for registry in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  remap+=" --remap-path-prefix=$registry="
done
target_dir="${CARGO_TARGET_DIR:-target}"
wasm="$target_dir/wasm32-unknown-unknown/$profile/faceswap_wasm.wasm"
rm -rf pkg.tmp && mkdir -p pkg.tmp

# One entry: the library built with cargo `features` (empty: the default, all four providers)
# into pkg.tmp/NAME.js and NAME_bg.wasm. Every entry shares pkg/snippets/ and pkg/detect/.
entry() {
  local name=$1 features=$2
  if [[ -z "$features" ]]; then
    RUSTFLAGS="${RUSTFLAGS:-} $remap" \
      cargo build -p faceswap-wasm --lib --target wasm32-unknown-unknown --profile "$profile"
  else
    RUSTFLAGS="${RUSTFLAGS:-} $remap" \
      cargo build -p faceswap-wasm --lib --target wasm32-unknown-unknown --profile "$profile" \
      --no-default-features --features "$features"
  fi
  # No producers section: it only names the compilers (about 90 bytes gzipped).
  wasm-bindgen "$wasm" --out-dir pkg.tmp --out-name "$name" --target web --typescript \
    --no-demangle --remove-producers-section
  # The module owns its memory (zero-filled when instantiated) and Rust never uses its lowest
  # 1 KiB (the stack starts at 1 MiB and grows down): two facts wasm-opt may build on (about
  # 180 bytes gzipped). After a first -Oz, flattening the code and rebuilding its control flow
  # (--flatten --rereloop) lets two more -Oz rounds find about 1% more (350 bytes gzipped of a
  # provider entry), for about 10 s per module.
  "$bin/wasm-opt" -Oz --flatten --rereloop -Oz -Oz --low-memory-unused --zero-filled-memory \
    --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "pkg.tmp/${name}_bg.wasm" -o "pkg.tmp/${name}_bg.wasm"
  # The JS glue ships minified (the .d.ts keeps every doc comment); bundlers would minify it
  # anyway.
  "$bin/esbuild" "pkg.tmp/$name.js" --minify --format=esm --log-level=warning \
    --outfile="pkg.tmp/$name.js" --allow-overwrite
  # The names only the wasm and its glue share (wasm-bindgen's hashed import names, the internal
  # exports) become one or two letters in both (about 3 KB gzipped per entry).
  node scripts/short-wasm-names.mjs "pkg.tmp/${name}_bg.wasm" "pkg.tmp/$name.js" "pkg.tmp/${name}_bg.wasm.d.ts"
}

# The package root, `faceswap-wasm`: every provider.
entry faceswap_wasm ""
# One entry per provider (`faceswap-wasm/piapi`, ...): its class, estimateCost, waitForResult,
# uploads, errors and the media helpers, without the other providers' code (nor `swapFace`).
for provider in aifaceswap piapi aiphotocraft acedata; do
  entry "$provider" "$provider"
done
# `captureFrame`, `cropFaces` and aifaceswap's `buildRefInfo` themselves (pkg/media.js: the face_ref
# toolkit): every entry above loads it on the first call of any of them, so a page that never
# captures, crops or pairs faces never downloads it.
entry media media,ref-info
# The snippets every entry imports (the lazy loaders of the detector and the media helpers) ship
# minified too, as the glue does; their sources under src/ keep the comments.
for snippet in pkg.tmp/snippets/*/src/*.js; do
  "$bin/esbuild" "$snippet" --minify --format=esm --log-level=warning --outfile="$snippet" --allow-overwrite
done

# The face detector: a second module in pkg/detect/, loaded by the library's worker on first use.
# Its own target dir keeps the SIMD flag from rebuilding the core library's dependencies.
RUSTFLAGS="${RUSTFLAGS:-} $remap -C target-feature=+simd128" CARGO_TARGET_DIR="$target_dir/detect-wasm" \
  cargo build -p faceswap-detect --lib --target wasm32-unknown-unknown --profile detect-release
wasm-bindgen "$target_dir/detect-wasm/wasm32-unknown-unknown/detect-release/faceswap_detect.wasm" \
  --out-dir pkg.tmp/detect --target web --typescript
"$bin/wasm-opt" -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg.tmp/detect/faceswap_detect_bg.wasm -o pkg.tmp/detect/faceswap_detect_bg.wasm
# The same crate with rustface (feature seeta) for detectFaces(source, { smallFaces: true }): a
# third module, pkg/detect/seeta/, fetched only by a call that asks for small faces.
RUSTFLAGS="${RUSTFLAGS:-} $remap -C target-feature=+simd128" CARGO_TARGET_DIR="$target_dir/detect-wasm-seeta" \
  cargo build -p faceswap-detect --lib --features seeta --target wasm32-unknown-unknown --profile detect-release
wasm-bindgen "$target_dir/detect-wasm-seeta/wasm32-unknown-unknown/detect-release/faceswap_detect.wasm" \
  --out-dir pkg.tmp/detect/seeta --target web --typescript
"$bin/wasm-opt" -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg.tmp/detect/seeta/faceswap_detect_bg.wasm -o pkg.tmp/detect/seeta/faceswap_detect_bg.wasm
# The people finder (findPeople): the same crate with feature `people` (BlazeFace, face-api.js's
# face recognition network and the linking of faces into people), a fourth module,
# pkg/detect/people/, with the network's weights beside it (copied from the npm package
# @vladmandic/face-api, MIT): the worker fetches both on the first findPeople call only.
RUSTFLAGS="${RUSTFLAGS:-} $remap -C target-feature=+simd128" CARGO_TARGET_DIR="$target_dir/detect-wasm-people" \
  cargo build -p faceswap-detect --lib --features people --target wasm32-unknown-unknown --profile detect-release
wasm-bindgen "$target_dir/detect-wasm-people/wasm32-unknown-unknown/detect-release/faceswap_detect.wasm" \
  --out-dir pkg.tmp/detect/people --target web --typescript
"$bin/wasm-opt" -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg.tmp/detect/people/faceswap_detect_bg.wasm -o pkg.tmp/detect/people/faceswap_detect_bg.wasm
face_api=node_modules/@vladmandic/face-api/model
if [[ ! -f "$face_api/face_recognition_model.bin" ]]; then
  printf '[build] %s is missing: run npm ci (package-lock.json pins @vladmandic/face-api)\n' "$face_api" >&2
  exit 1
fi
cp "$face_api/face_recognition_model-weights_manifest.json" "$face_api/face_recognition_model.bin" pkg.tmp/detect/people/
cp crates/detect/js/index.js crates/detect/js/people.js crates/detect/js/worker.js pkg.tmp/detect/
# The models' licences travel with the modules that contain them.
cp THIRD_PARTY_NOTICES.md pkg.tmp/detect/

rm -rf pkg && mv pkg.tmp pkg
for file in faceswap_wasm_bg.wasm faceswap_wasm.js piapi_bg.wasm piapi.js detect/faceswap_detect_bg.wasm detect/seeta/faceswap_detect_bg.wasm detect/people/faceswap_detect_bg.wasm; do
  printf '[build] pkg/%s: %s bytes, gzipped %s bytes\n' "$file" "$(wc -c < "pkg/$file")" "$(gzip -9c "pkg/$file" | wc -c)" >&2
done
