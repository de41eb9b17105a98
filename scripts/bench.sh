#!/usr/bin/env bash
# `npm run bench`: runs every benchmark under bench/ (each prints ratios against a named peer
# measured in the same run); `npm run bench -- bundle capture` runs those. Each benchmark's builds
# come first, so a fresh clone can run any one of them:
#   bundle   pkg/ (scripts/build.sh)
#   capture  pkg/ and the proxy's debug binary (scripts/harness.mjs starts it)
#   detect   pkg/ (rustface is its pkg/detect/seeta/) and faceswap-bench's detect-bench (release)
#   people   pkg/ (the people finder is its pkg/detect/people/)
#   proxy    builds its release binaries itself (bench/proxy/run.sh)
#   sandbox  builds faceswap-bench's sandbox-bench itself (bench/sandbox/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

benches=()
for dir in bench/*/; do
  name=$(basename "$dir")
  if [[ $# -gt 0 && " $* " != *" $name "* ]]; then continue; fi
  benches+=("$name")
done
if ((${#benches[@]} == 0)); then
  echo "no benchmark named: $* (there are: $(cd bench && echo */ | tr -d /))" >&2
  exit 2
fi
wants() {
  local name
  for name in "$@"; do [[ " ${benches[*]} " == *" $name "* ]] && return 0; done
  return 1
}

bash scripts/setup.sh --test
if wants bundle capture detect people; then
  printf '\n==> building pkg/\n' >&2
  bash scripts/build.sh
fi
if wants capture; then
  printf '\n==> building faceswap-proxy (debug)\n' >&2
  cargo build --locked -p faceswap-proxy --bin faceswap-proxy
fi
if wants detect; then
  printf '\n==> building detect-bench (release)\n' >&2
  cargo build --release --locked -p faceswap-bench --bin detect-bench
fi

for name in "${benches[@]}"; do
  dir="bench/$name"
  printf '\n==> bench/%s\n' "$name"
  if [[ -f "$dir/run.sh" ]]; then bash "$dir/run.sh"; elif [[ -f "$dir/run.mjs" ]]; then node "$dir/run.mjs"; fi
done
