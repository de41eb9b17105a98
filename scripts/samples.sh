#!/usr/bin/env bash
# Makes the demo's sample media (www/samples/, not committed) from the test media that
# scripts/test-media.sh builds out of packages (scikit-image's images, rustface's group photo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-media.sh
mkdir -p www/samples
for name in astronaut.png camera.png two-faces.png group29.png two-faces.mp4 one-face.mp4; do
  if [[ ! -f "www/samples/$name" || "target/test-media/$name" -nt "www/samples/$name" ]]; then
    cp "target/test-media/$name" "www/samples/$name"
  fi
done
