#!/usr/bin/env bash
# `npm start`: set up, build pkg/, then run the proxy serving www/ and pkg/ on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/samples.sh
cargo build --release -p faceswap-proxy
mkdir -p data
# For development: the providers without a key are answered by the built-in sandbox.
export SANDBOX="${SANDBOX:-on}"
exec target/release/faceswap-proxy "$@"
