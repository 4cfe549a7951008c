#!/usr/bin/env bash
# Installs the Debian 12 packages sam2c builds, tests and runs with. Idempotent: when everything
# is present it prints nothing and exits 0. Set SAM2_SETUP_WEB=1 to also install Node/npm and the
# browser (Chromium + ChromeDriver) used by the web-page tests, SAM2_SETUP_CLUSTER=1 to also install
# HAProxy (make test-cluster: replicas behind deploy/haproxy.cfg).
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang
  libopenblas-dev libzip-dev libcjson-dev libyaml-dev libpng-dev libjpeg-dev nettle-dev zlib1g-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libmicrohttpd-dev
  libcmocka-dev libclang-rt-14-dev
  libvulkan-dev glslc mesa-vulkan-drivers vulkan-validationlayers
  ffmpeg curl ca-certificates
)
if [ "${SAM2_SETUP_WEB:-0}" = 1 ]; then
  # A Node.js from elsewhere (NodeSource's nodejs bundles npm) is kept: Debian's npm would
  # replace it with Debian's older nodejs.
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
  packages+=(chromium chromium-driver)
fi
if [ "${SAM2_SETUP_CLUSTER:-0}" = 1 ]; then
  packages+=(haproxy)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "setup: not root and no sudo; install these Debian packages: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
