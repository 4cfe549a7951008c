#!/usr/bin/env bash
# The README's main command (make serve). Until `sam2 serve` lands it inspects the checkpoint
# the server will load: $APP_ROOT/checkpoints/sam2.1_hiera_$MODEL_SIZE.pt, or the shared
# golden tiny checkpoint when no official one has been downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
APP_ROOT=${APP_ROOT:-$PWD}
MODEL_SIZE=${MODEL_SIZE:-tiny}
ckpt="$APP_ROOT/checkpoints/sam2.1_hiera_${MODEL_SIZE}.pt"
if [ ! -f "$ckpt" ] && [ -f ../shared/golden/ckpt/sam2.1_hiera_tiny.random.f16.pt ]; then
  ckpt=../shared/golden/ckpt/sam2.1_hiera_tiny.random.f16.pt
fi
exec build/bin/sam2 inspect "$ckpt"
