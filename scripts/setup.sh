#!/usr/bin/env bash
# Installs the Debian 12 packages sam2c builds, tests and runs with. Idempotent: when everything
# is present it prints nothing and exits 0. Set SAM2_SETUP_WEB=1 to also install Node/npm and the
# browser (Chromium + ChromeDriver) used by the web-page tests, SAM2_SETUP_CLUSTER=1 to also install
# HAProxy (make test-cluster: replicas behind deploy/haproxy.cfg), SAM2_SETUP_ARM64=1 for the
# arm64 cross build and its emulator (make test-arm64: the cross toolchain, qemu-user and the
# arm64 builds of the libraries, after adding the arm64 architecture to dpkg), SAM2_SETUP_QEMU=1
# for qemu-user alone (make test-portable).
# On macOS it installs the Homebrew packages instead (the BLAS is Apple's Accelerate).
set -euo pipefail

if [ "$(uname -s)" = Darwin ]; then
  brew_packages=(cmake pkg-config libzip cjson libyaml libpng jpeg-turbo nettle ffmpeg libmicrohttpd cmocka)
  [ "${SAM2_SETUP_WEB:-0}" = 1 ] && brew_packages+=(node)
  if ! command -v brew >/dev/null 2>&1; then
    echo "setup: install Homebrew (https://brew.sh), then: brew install ${brew_packages[*]}" >&2
    exit 1
  fi
  missing=()
  for p in "${brew_packages[@]}"; do
    brew list --versions "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "setup: brew install ${missing[*]}"
  brew install "${missing[@]}"
  exit 0
fi

packages=(
  build-essential cmake pkg-config clang clang-format
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

if [ "${SAM2_SETUP_QEMU:-0}" = 1 ]; then
  packages+=(qemu-user) # make test-portable: x86-64 without AVX2 (qemu-x86_64 -cpu Nehalem)
fi

arm64=0
if [ "${SAM2_SETUP_ARM64:-0}" = 1 ]; then
  arm64=1
  packages+=(crossbuild-essential-arm64 qemu-user)
  for p in libopenblas-dev libzip-dev libcjson-dev libyaml-dev libpng-dev libjpeg-dev nettle-dev \
           zlib1g-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libmicrohttpd-dev \
           libcmocka-dev; do
    packages+=("$p:arm64")
  done
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
if [ $arm64 = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
fi
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
