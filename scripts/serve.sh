#!/usr/bin/env bash
# The README's main command (make serve): makes sure a checkpoint and a gallery exist, then starts
# sam2 serve on port 7263 (PORT to change it).
#   APP_ROOT    default: this repository; the checkpoint is $APP_ROOT/checkpoints/sam2.1_hiera_$MODEL_SIZE.pt
#               (edgetam.pt for MODEL_SIZE=edgetam)
#   MODEL_SIZE  tiny (default), small, base_plus, large or edgetam
#   DATA_PATH   default: $APP_ROOT/data (gallery/, posters/, uploads/)
# A missing checkpoint is downloaded from Meta's published URL, a missing gallery from the
# official repository (or copied from SAM2_GALLERY_SOURCE, or from ../shared/data/gallery when
# that folder exists); offline, it says exactly what to put where.
set -euo pipefail
cd "$(dirname "$0")/.."
export APP_ROOT=${APP_ROOT:-$PWD}
export MODEL_SIZE=${MODEL_SIZE:-tiny}
export DATA_PATH=${DATA_PATH:-$APP_ROOT/data}
ckpt="$APP_ROOT/checkpoints/sam2.1_hiera_${MODEL_SIZE}.pt"
url="https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_${MODEL_SIZE}.pt"
if [ "$MODEL_SIZE" = edgetam ]; then
  ckpt="$APP_ROOT/checkpoints/edgetam.pt"
  url=https://github.com/facebookresearch/EdgeTAM/raw/main/checkpoints/edgetam.pt
fi
if [ ! -s "$ckpt" ]; then
  if ! bash scripts/fetch_models.sh "$MODEL_SIZE"; then
    echo "serve: no checkpoint at $ckpt and it cannot be downloaded." >&2
    echo "serve: download $url" >&2
    echo "       and put it at $ckpt (or set APP_ROOT / MODEL_SIZE), then run make serve again." >&2
    exit 1
  fi
fi
if [ -z "${SAM2_GALLERY_SOURCE:-}" ] && [ -d ../shared/data/gallery ]; then
  export SAM2_GALLERY_SOURCE=$(cd ../shared/data/gallery && pwd)
fi
if ! ls "$DATA_PATH"/gallery/*.mp4 >/dev/null 2>&1; then
  bash scripts/fetch_gallery.sh || echo "serve: the gallery is incomplete; the server starts with what is there" >&2
fi
exec build/bin/sam2 serve --port "${PORT:-7263}" --data "$DATA_PATH" \
  --default-video "${DEFAULT_VIDEO_PATH:-gallery/05_default_juggle.mp4}" "$@"
