#!/usr/bin/env bash
# report_render.sh - renders report.html in headless Chromium and checks the screenshot:
#   report_render.sh TRACK_FIXTURE SHOT_CHECK WORK_DIR
# Three runs from track_fixture: the full one must show the loss plot's stroke colour
# (#1f77b4), the lr plot's (#d62728) and the magenta sample grid; the one without scalars must
# show the grid but no plot colour; the one without images must show the plots but no magenta.
# The two controls make sure the colour checks can fail. Exit 77 (skip) without chromium.
# Knows nothing about how the page is generated beyond the fixture's documented content.
set -euo pipefail
fixture=$1 shot_check=$2 work=$3

browser=""
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then browser=$(command -v "$b"); break; fi
done
if [ -z "$browser" ]; then
  echo "chromium not found: skipping (apt-get install chromium)"
  exit 77
fi

rm -rf "$work"
mkdir -p "$work"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

shoot() { # shoot HTML PNG
  rm -f "$2"
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$2" --window-size=1200,1600 "file://$1" \
    >"$2.log" 2>&1 || { echo "chromium failed on $1:"; cat "$2.log"; exit 1; }
  [ -s "$2" ] || { echo "no screenshot written for $1:"; cat "$2.log"; exit 1; }
}

"$fixture" "$work/full"
"$fixture" "$work/noscalars" --no-scalars
"$fixture" "$work/noimages" --no-images
for v in full noscalars noimages; do
  shoot "$work/$v/report.html" "$work/$v.png"
done

# Magenta grid: 16 cells of 8x8 px shown at 8x zoom (64x64 px each) -> 65536 pixels.
"$shot_check" "$work/full.png" 1200 1600 +1f77b4:300 +d62728:300 +ff00ff:60000
"$shot_check" "$work/noscalars.png" 1200 1600 +ff00ff:60000 -1f77b4 -d62728
"$shot_check" "$work/noimages.png" 1200 1600 +1f77b4:300 +d62728:300 -ff00ff
echo "report renders: plots and sample grid present, controls absent"
