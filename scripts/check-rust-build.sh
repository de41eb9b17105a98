#!/usr/bin/env bash
# A Rust user's build needs no npm: checks the proxy (with its sandbox and the face detector,
# whose build script runs) in a copy of the repository's files without node_modules/, as a clean
# clone has them. The copy shares this checkout's target/, so only the workspace's own crates are
# checked again (about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
# The files a clone would have once committed: tracked, and new ones git does not ignore.
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done \
  | xargs -0 cp --parents --target-directory="$copy"
if [ -e "$copy/node_modules" ]; then
  echo "check-rust-build: node_modules/ should not be in the copy" >&2
  exit 1
fi
(cd "$copy" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
  cargo check -p faceswap-proxy --locked --quiet)
echo "check-rust-build: faceswap-proxy builds without node_modules/" >&2
