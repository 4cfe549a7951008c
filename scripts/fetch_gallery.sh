#!/usr/bin/env bash
# Fills $DATA_PATH/gallery (default: the repository's data/gallery) with the SAM 2 demo's gallery
# videos, downloaded from the official repository. With SAM2_GALLERY_SOURCE=DIR the videos are
# copied from a local folder instead. Offline, it says what to put where.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_PATH=${DATA_PATH:-$PWD/data}
gallery="$DATA_PATH/gallery"
mkdir -p "$gallery"
names=(01_dog.mp4 02_cups.mp4 03_blocks.mp4 04_coffee.mp4 05_default_juggle.mp4)
base=https://raw.githubusercontent.com/facebookresearch/sam2/main/demo/data/gallery
status=0
for n in "${names[@]}"; do
  [ -s "$gallery/$n" ] && continue
  tmp="$gallery/.$n.part.$$"
  if [ -n "${SAM2_GALLERY_SOURCE:-}" ] && [ -s "$SAM2_GALLERY_SOURCE/$n" ]; then
    cp "$SAM2_GALLERY_SOURCE/$n" "$tmp" && mv "$tmp" "$gallery/$n"
  elif curl -fsL --retry 2 --connect-timeout 15 -o "$tmp" "$base/$n"; then
    mv "$tmp" "$gallery/$n"
  else
    rm -f "$tmp"
    echo "fetch_gallery: cannot download $base/$n (offline?); put the video at $gallery/$n" >&2
    status=1
  fi
done
[ $status = 0 ] && echo "fetch_gallery: $gallery is ready"
exit $status
