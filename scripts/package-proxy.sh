#!/usr/bin/env bash
# `npx faceswap-proxy`: packs the launcher npm package (npm/faceswap-proxy: a `bin` script that
# runs the binary) and the platform package holding the prebuilt Linux x64 binary
# (npm/faceswap-proxy-linux-x64, with `os` and `cpu`, an optionalDependency of the launcher), both
# at the Cargo workspace's version, as two tarballs in the folder given (default target/npm/);
# prints their paths. `npm publish` each tarball, the platform package first.
#
# The binary is the release build, made here, unless PROXY_BINARY names one already built (the
# test packs the debug build). The launcher carries the demo page (www/, with its samples) and
# the browser library (pkg/), which `npx faceswap-proxy` serves as `npm start` does: build them
# first (scripts/build.sh, scripts/samples.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf '[package-proxy] %s\n' "$*" >&2; exit 1; }

out="${1:-target/npm}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
binary="${PROXY_BINARY:-}"
if [[ -z $binary ]]; then
  [[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] ||
    die "the platform package holds a Linux x86-64 binary: build on Linux x86-64 (or set PROXY_BINARY)"
  cargo build --release --locked -p faceswap-proxy >&2
  binary=target/release/faceswap-proxy
fi
[[ -x $binary ]] || die "no binary at $binary"
version="$(cargo metadata --no-deps --format-version 1 --locked |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () =>
    console.log(JSON.parse(s).packages.find((p) => p.name === "faceswap-proxy").version))')"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -r npm/faceswap-proxy npm/faceswap-proxy-linux-x64 "$stage/"
for package in faceswap-proxy faceswap-proxy-linux-x64; do
  cp LICENSE-MIT LICENSE-APACHE "$stage/$package/"
done
for package in faceswap-proxy faceswap-proxy-linux-x64; do
  cp THIRD_PARTY_NOTICES.md "$stage/$package/"
done
[[ -f pkg/faceswap_wasm.js ]] || die "pkg/ is not built: run scripts/build.sh first"
compgen -G "www/samples/*.png" >/dev/null || die "www/samples/ has no samples: run scripts/samples.sh first"
cp -r www pkg "$stage/faceswap-proxy/"
mkdir -p "$stage/faceswap-proxy-linux-x64/bin"
install -m 755 "$binary" "$stage/faceswap-proxy-linux-x64/bin/faceswap-proxy"
# Both manifests say VERSION where the workspace's version goes.
for package in faceswap-proxy faceswap-proxy-linux-x64; do
  sed -i "s/\"VERSION\"/\"$version\"/g" "$stage/$package/package.json"
done
for package in faceswap-proxy-linux-x64 faceswap-proxy; do
  (cd "$stage/$package" && npm pack --silent --pack-destination "$out" >/dev/null)
done
printf '%s\n' "$out/faceswap-proxy-linux-x64-$version.tgz" "$out/faceswap-proxy-$version.tgz"
