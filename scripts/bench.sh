#!/usr/bin/env bash
# `npm run bench`: builds pkg/ and runs every benchmark under bench/ (each prints ratios against a
# named peer measured in the same run). `npm run bench -- bundle` runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
bash scripts/build.sh
for dir in bench/*/; do
  name=$(basename "$dir")
  if [[ $# -gt 0 && " $* " != *" $name "* ]]; then continue; fi
  printf '\n==> bench/%s\n' "$name"
  if [[ -f "$dir/run.sh" ]]; then bash "$dir/run.sh"; elif [[ -f "$dir/run.mjs" ]]; then node "$dir/run.mjs"; fi
done
