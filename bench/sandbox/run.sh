#!/usr/bin/env bash
# Benchmarks the sandbox provider (release build of faceswap-bench's sandbox-bench): detection ms
# per 1024x512 frame and video swap frames per second, against a plain ffmpeg transcode as the peer.
# Exits non-zero if the 3-second 1024x512 two-face video takes 30 s or more.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/test-media.sh
cargo run --release --locked -p faceswap-bench --bin sandbox-bench
