#!/usr/bin/env bash
# Makes the test media in target/test-media/ (from the scikit-image wheel and the rustface crate). Idempotent: what exists is kept.
#   astronaut.png, camera.png  from the scikit-image wheel on PyPI (skimage/data/)
#   group29.png                the rustface crate's test.png (a 1927 group photo, 29 faces)
#   two-faces.png              astronaut and camera side by side, 1024x512
#   two-faces.mp4              H.264 yuv420p 1024x512, 3 s at 25 fps, slow pan, 440 Hz AAC audio
#   two-faces.webm             the same in VP9 with Opus audio
#   one-face.mp4               the astronaut alone, 512x512, 2 s, slow zoom, no audio
#   portrait-1.png .. -3.png   three people's portraits, 256x256, cut from the npm package
#                              @vladmandic/face-api's demo/sample6.jpg (MIT; needs npm ci)
#   people-side.mp4            portraits 1 and 3 side by side, 1024x512, 10 s, drifting a little
#   people-swap.mp4            the same two crossing: each ends where the other began
#   people-return.mp4          the same two; portrait 3 leaves the frame at 3 s and returns at 6.5 s
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

# Portraits of three people (who they are is not known: the picture ships with the package as a
# demo) and videos of two of them, for findPeople. Made only where npm ci has run.
face_api_demo=node_modules/@vladmandic/face-api/demo/sample6.jpg
if [[ -f "$face_api_demo" ]]; then
  # Square crops around each face of the group photo (1920x1537), scaled to 256x256, no metadata.
  i=1
  for crop in 480:480:130:360 480:480:520:260 480:480:1370:210; do
    if [[ ! -f "$out/portrait-$i.png" ]]; then
      ff -i "$face_api_demo" -vf "crop=$crop,scale=256:256,format=rgb24" -map_metadata -1 \
        -frames:v 1 "$tmp/portrait-$i.png"
      publish "$tmp/portrait-$i.png" "portrait-$i.png"
    fi
    i=$((i + 1))
  done
  # people_video NAME X1 X3 [ENABLE3]: portrait 1 at x=X1 and portrait 3 at x=X3 (expressions
  # of t, top at y=128) over a plain background, 1024x512, 10 s at 25 fps, H.264.
  people_video() {
    local name=$1 x1=$2 x3=$3
    [[ -f "$out/$name" ]] && return
    ff -f lavfi -i "color=c=0x5a6878:s=1024x512:d=10:r=25" -loop 1 -i "$out/portrait-1.png" \
      -loop 1 -i "$out/portrait-3.png" \
      -filter_complex "[0][1]overlay=x='$x1':y=128:shortest=1[a];[a][2]overlay=x='$x3':y=128:shortest=1,format=yuv420p" \
      -t 10 -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -r 25 -movflags +faststart \
      "$tmp/$name"
    publish "$tmp/$name" "$name"
  }
  # Side by side: faces centred near x=256 and x=768, drifting up to 16 px.
  people_video people-side.mp4 "128+16*sin(t)" "640-16*sin(t)"
  # Crossing: portrait 1 goes from x=64 to x=704 while portrait 3 goes from 704 to 64 (drawn
  # over portrait 1 while they overlap, around 5 s).
  people_video people-swap.mp4 "64+64*t" "704-64*t"
  # Leaving and returning: portrait 3 stays at x=672 until 3 s, leaves to the right by 4 s
  # (x=1024), stays out until 6.5 s and is back at x=672 by 7.5 s.
  people_video people-return.mp4 "96" "if(lt(t,3),672,if(lt(t,4),672+352*(t-3),if(lt(t,6.5),1100,if(lt(t,7.5),1024-352*(t-6.5),672))))"
else
  log "no $face_api_demo (run npm ci): the portraits and people videos are not made"
fi
