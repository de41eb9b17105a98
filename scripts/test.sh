#!/usr/bin/env bash
# `npm test`: set up (including chromium, chromium-driver, ffmpeg, postgresql, nginx), then every
# check and test: fmt, clippy on native and wasm32, native tests, wasm tests in headless Chromium, end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

# A fresh checkout gains nothing from incremental compilation, and its caches take gigabytes.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Running out of disk shows up as odd linker crashes: say up front how much there is.
df -h . >&2 || true

step "set-up"
bash scripts/setup.sh --test

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The proxy without its built-in sandbox (a production build) must build too.
cargo clippy -p faceswap-proxy --no-default-features --lib --bins --locked -- -D warnings

step "a Rust build needs no npm (the proxy checked in a copy without node_modules/)"
bash scripts/check-rust-build.sh

step "clippy (wasm32)"
# Core's own tests use proptest, which does not build for wasm32: check its library there.
cargo clippy -p faceswap-core -p faceswap-detect --lib --target wasm32-unknown-unknown --locked -- -D warnings
# The detector's second module (pkg/detect/seeta/: BlazeFace plus rustface).
cargo clippy -p faceswap-detect --features seeta --lib --target wasm32-unknown-unknown --locked -- -D warnings
# The people finder's module (pkg/detect/people/: BlazeFace plus the face recognition network).
cargo clippy -p faceswap-detect --features people --lib --target wasm32-unknown-unknown --locked -- -D warnings
# The library's tests link std (their harness does), so they build it with its `std` feature:
# std's panic hook instead of the library's own panic handler.
cargo clippy -p faceswap-wasm --all-targets --target wasm32-unknown-unknown --features std --locked -- -D warnings
# The media helpers' own module (pkg/media.js).
cargo clippy -p faceswap-wasm --lib --target wasm32-unknown-unknown --features media,ref-info --locked -- -D warnings
# Each provider entry's build (faceswap-wasm/piapi, ...): the library with one provider.
for provider in aifaceswap piapi aiphotocraft acedata; do
  cargo clippy -p faceswap-wasm --lib --target wasm32-unknown-unknown --no-default-features \
    --features "$provider" --locked -- -D warnings
done

step "test media (from the scikit-image wheel and the rustface crate, videos by ffmpeg) and demo samples"
bash scripts/samples.sh

step "native tests"
cargo test --workspace --exclude faceswap-wasm --tests --locked
cargo test -p faceswap-wasm --lib --locked
# The example provider (feature example-provider) through the generic suite of every provider.
cargo test -p faceswap-proxy --features example-provider --test every_provider --locked

step "wasm tests in headless Chromium"
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
cargo test -p faceswap-wasm --target wasm32-unknown-unknown --tests --features std --locked

step "build pkg/ and the proxy"
bash scripts/build.sh
# The example provider's proxy and package first (they share target/debug with the usual build).
bash scripts/example-provider.sh
cargo build -p faceswap-proxy --locked

step "TypeScript: the typed usage example compiles against pkg/faceswap_wasm.d.ts"
npx --no-install tsc -p tests/types/tsconfig.json

step "end-to-end tests (playwright-core, headless Chromium)"
node --test --test-concurrency=1 tests/e2e/
