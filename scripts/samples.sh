#!/usr/bin/env bash
# Makes the demo's sample media (www/samples/, not committed) from the test media that
# scripts/test-media.sh builds out of packages (scikit-image's images, rustface's group photo,
# @vladmandic/face-api's portraits).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-media.sh
mkdir -p www/samples
for name in astronaut.png camera.png two-faces.png group29.png two-faces.mp4 one-face.mp4 \
    portrait-1.png portrait-2.png portrait-3.png people-side.mp4 people-swap.mp4 people-return.mp4; do
  if [[ ! -f "target/test-media/$name" ]]; then
    printf '[samples] no target/test-media/%s (the portraits need npm ci)\n' "$name" >&2
    continue
  fi
  if [[ ! -f "www/samples/$name" || "target/test-media/$name" -nt "www/samples/$name" ]]; then
    cp "target/test-media/$name" "www/samples/$name"
  fi
done
