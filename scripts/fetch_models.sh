#!/usr/bin/env bash
# Downloads Meta's published SAM 2.1 (and, with --sam2, SAM 2.0) checkpoints, and EdgeTAM's, into
# $APP_ROOT/checkpoints (default: the repository's checkpoints/ folder).
#   scripts/fetch_models.sh [tiny|small|base_plus|large|edgetam|all] [--sam2]
# A download goes to a temporary file and is renamed only when complete and loadable, so an
# interrupted run never leaves a broken checkpoint behind. Offline, it says what to put where.
set -euo pipefail
cd "$(dirname "$0")/.."
APP_ROOT=${APP_ROOT:-$PWD}
dest="$APP_ROOT/checkpoints"
sizes=()
version=2.1
for a in "$@"; do
  case "$a" in
    tiny|small|base_plus|large|edgetam) sizes+=("$a") ;;
    all) sizes+=(tiny small base_plus large edgetam) ;;
    --sam2) version=2.0 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "fetch_models: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(tiny)
if [ "$version" = 2.1 ]; then
  base=https://dl.fbaipublicfiles.com/segment_anything_2/092824; prefix=sam2.1_hiera
else
  base=https://dl.fbaipublicfiles.com/segment_anything_2/072824; prefix=sam2_hiera
fi
mkdir -p "$dest"
status=0
for s in "${sizes[@]}"; do
  file="$dest/${prefix}_${s}.pt"
  url="$base/${prefix}_${s}.pt"
  if [ "$s" = edgetam ]; then
    # EdgeTAM's README: "Model is available here" (its repository's checkpoints/ folder)
    file="$dest/edgetam.pt"
    url=https://github.com/facebookresearch/EdgeTAM/raw/main/checkpoints/edgetam.pt
  fi
  if [ -s "$file" ]; then echo "fetch_models: $file already present"; continue; fi
  echo "fetch_models: downloading $url"
  tmp="$file.part.$$"
  if curl -fL --retry 2 --connect-timeout 15 -o "$tmp" "$url"; then
    if [ -x build/bin/sam2 ] && ! build/bin/sam2 inspect "$tmp" >/dev/null; then
      rm -f "$tmp"; echo "fetch_models: $url is not a loadable checkpoint" >&2; status=1; continue
    fi
    mv "$tmp" "$file"
    echo "fetch_models: saved $file"
  else
    rm -f "$tmp"
    echo "fetch_models: cannot download $url (offline?)." >&2
    echo "  Download it elsewhere and put it at: $file" >&2
    status=1
  fi
done
exit $status
