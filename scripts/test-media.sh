#!/usr/bin/env bash
# Makes the test media in target/test-media/ (from the scikit-image wheel and the rustface crate). Idempotent: what exists is kept.
#   astronaut.png, camera.png  from the scikit-image wheel on PyPI (skimage/data/)
#   group29.png                the rustface crate's test.png (a 1927 group photo, 29 faces)
#   two-faces.png              astronaut and camera side by side, 1024x512
#   two-faces.mp4              H.264 yuv420p 1024x512, 3 s at 25 fps, slow pan, 440 Hz AAC audio
#   two-faces.webm             the same in VP9 with Opus audio
#   one-face.mp4               the astronaut alone, 512x512, 2 s, slow zoom, no audio
# Needs python3 with pip, unzip or python's zipfile, cargo and ffmpeg. Safe to run concurrently.
set -euo pipefail
cd "$(dirname "$0")/.."

SKIMAGE_VERSION=0.26.0
out="${TEST_MEDIA_DIR:-target/test-media}"
mkdir -p "$out"

log() { printf '[test-media] %s\n' "$*" >&2; }

# One writer at a time (cargo runs several test binaries at once).
exec 9>"$out/.lock"
flock 9

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Writes $2 through a temporary name so a reader never sees half a file.
publish() { mv -f "$1" "$out/$2"; log "made $out/$2"; }

if [[ ! -f "$out/astronaut.png" || ! -f "$out/camera.png" ]]; then
  log "downloading the scikit-image $SKIMAGE_VERSION wheel from PyPI"
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: \
      "scikit-image==$SKIMAGE_VERSION" -d "$tmp/wheel" 2>"$tmp/pip.log"; then
    # No wheel for this interpreter: any CPython wheel holds the same data files.
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --platform manylinux_2_17_x86_64 --python-version 3.12 --implementation cp \
      "scikit-image==$SKIMAGE_VERSION" -d "$tmp/wheel" || { cat "$tmp/pip.log" >&2; exit 1; }
  fi
  wheel=$(ls "$tmp"/wheel/scikit_image-*.whl | head -n1)
  python3 - "$wheel" "$tmp" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("astronaut.png", "camera.png"):
        with open(f"{dest}/{name}", "wb") as f:
            f.write(z.read(f"skimage/data/{name}"))
PY
  publish "$tmp/astronaut.png" astronaut.png
  publish "$tmp/camera.png" camera.png
fi

if [[ ! -f "$out/group29.png" ]]; then
  { cargo metadata --format-version 1 --offline 2>/dev/null || cargo metadata --format-version 1; } \
    >"$tmp/metadata.json"
  manifest=$(python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="rustface"))' <"$tmp/metadata.json")
  cp "$(dirname "$manifest")/test.png" "$tmp/group29.png"
  publish "$tmp/group29.png" group29.png
fi

ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

if [[ ! -f "$out/two-faces.png" ]]; then
  ff -i "$out/astronaut.png" -i "$out/camera.png" \
    -filter_complex "[0]format=rgb24[a];[1]format=rgb24[c];[a][c]hstack=inputs=2,format=rgb24" \
    -frames:v 1 "$tmp/two-faces.png"
  publish "$tmp/two-faces.png" two-faces.png
fi

# A slow pan over the picture scaled up by 8 %: faces move about 1 px per frame.
pan="scale=1106:553,crop=1024:512:x='min(82,t*27)':y='min(41,t*13)',format=yuv420p"

if [[ ! -f "$out/two-faces.mp4" ]]; then
  ff -loop 1 -framerate 25 -t 3 -i "$out/two-faces.png" \
    -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=3" \
    -vf "$pan" -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -r 25 \
    -c:a aac -b:a 96k -movflags +faststart -shortest "$tmp/two-faces.mp4"
  publish "$tmp/two-faces.mp4" two-faces.mp4
fi

if [[ ! -f "$out/two-faces.webm" ]]; then
  ff -loop 1 -framerate 25 -t 3 -i "$out/two-faces.png" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=3" \
    -vf "$pan" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 1M -pix_fmt yuv420p -r 25 \
    -c:a libopus -b:a 64k -shortest "$tmp/two-faces.webm"
  publish "$tmp/two-faces.webm" two-faces.webm
fi

if [[ ! -f "$out/one-face.mp4" ]]; then
  ff -loop 1 -framerate 25 -t 2 -i "$out/astronaut.png" \
    -vf "scale=560:560,crop=512:512:x='min(48,t*24)':y='min(48,t*24)',format=yuv420p" \
    -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -r 25 -movflags +faststart \
    "$tmp/one-face.mp4"
  publish "$tmp/one-face.mp4" one-face.mp4
fi
