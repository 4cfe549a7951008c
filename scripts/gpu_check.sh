#!/usr/bin/env bash
# The Vulkan backend on a lent GPU machine (an NVIDIA H100 or H200 through the `device` tool), in
# one short call. That machine has no Debian packages and reaches no network, so the programs
# are built here and carried, with the few libraries they need.
#
#   1. Here (Debian 12 with scripts/setup.sh's packages):
#        bash scripts/gpu_check.sh pack
#      builds build-gpu/ (portable: no -march=native) and fills build-gpu/carry/ (about 30 MiB):
#      test-vulkan-runtime, test-vulkan-ops, bench-vulkan, libcmocka, the Vulkan loader, the
#      GL dispatch libraries NVIDIA's Vulkan driver loads, and the Khronos validation layer.
#   2. With the device tool, from the repository root:
#        run(command="bash scripts/gpu_check.sh run", carry=["build-gpu/carry"], timeout_s=480)
#      prints the GPU, runs both Vulkan test programs on it with the validation layer
#      (synchronisation validation included; a validation error fails them), then bench-vulkan at
#      the full shapes (validation off). Logs go to $OUT (gpu_check.log) when it is set.
#
# Exit status: 0 when both test programs pass (or skip) and the benchmark ran.
# GPU_CHECK_BENCH_ARGS replaces the benchmark's arguments (e.g. "--quick --repeats 1" to try the
# script on lavapipe).
set -uo pipefail
cd "$(dirname "$0")/.."
carry=build-gpu/carry

pack() {
    set -e
    cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DSAM2_NATIVE=OFF -DSAM2_WERROR=ON >/dev/null
    cmake --build build-gpu -j "$(nproc)" --target test-vulkan-runtime test-vulkan-ops bench-vulkan
    rm -rf "$carry"
    mkdir -p "$carry/bin" "$carry/lib" "$carry/vulkan" "$carry/layers"
    cp build-gpu/bin/test-vulkan-runtime build-gpu/bin/test-vulkan-ops build-gpu/bin/bench-vulkan \
        "$carry/bin/"
    local libdir=/usr/lib/x86_64-linux-gnu
    cp -L "$libdir/libcmocka.so.0" "$carry/lib/"
    # The loader and GL dispatch libraries: used there only when the machine has none of its own.
    for l in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libOpenGL.so.0 libGL.so.1 \
        libGLESv2.so.2; do
        if [ -e "$libdir/$l" ]; then cp -L "$libdir/$l" "$carry/vulkan/"; fi
    done
    cp -L "$libdir/libVkLayer_khronos_validation.so" "$carry/layers/"
    # library_path relative to the manifest, so the layer is found wherever the folder lands
    sed 's|"library_path": *"[^"]*"|"library_path": "./libVkLayer_khronos_validation.so"|' \
        /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json \
        >"$carry/layers/VkLayer_khronos_validation.json"
    du -sh "$carry"
    echo "gpu_check: packed; now run 'bash scripts/gpu_check.sh run' there with carry [\"$carry\"]"
}

run() {
    if [ ! -x "$carry/bin/test-vulkan-ops" ]; then
        echo "gpu_check: $carry is missing: run 'bash scripts/gpu_check.sh pack' here first and carry it"
        return 2
    fi
    local root
    root=$(pwd)
    export LD_LIBRARY_PATH="$root/$carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    for l in "$carry"/vulkan/*; do
        if ! ldconfig -p | grep -q "$(basename "$l")"; then
            mkdir -p "$root/$carry/missing"
            cp "$l" "$root/$carry/missing/"
        fi
    done
    [ -d "$carry/missing" ] && export LD_LIBRARY_PATH="$root/$carry/missing:$LD_LIBRARY_PATH"
    export VK_LAYER_PATH="$root/$carry/layers"
    # NVIDIA's driver mounted without its manifest in the loader's search path
    local nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -e "$nv" ] && ! grep -qs nvidia /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; then
        export VK_DRIVER_FILES="$nv" VK_ICD_FILENAMES="$nv"
        export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    fi
    echo "== GPU"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null ||
        echo "(no nvidia-smi)"
    echo "== carried libraries used: ${LD_LIBRARY_PATH}"
    local rc=0 r
    for t in test-vulkan-runtime test-vulkan-ops; do
        echo "== $t (validation with synchronisation)"
        SAM2_VULKAN_VALIDATION=sync timeout 240 "$carry/bin/$t"
        r=$?
        echo "== $t: exit $r"
        if [ $r != 0 ] && [ $r != 77 ]; then rc=1; fi
    done
    echo "== bench-vulkan"
    # shellcheck disable=SC2086 # word splitting wanted
    SAM2_VULKAN_VALIDATION=0 timeout 240 "$carry/bin/bench-vulkan" ${GPU_CHECK_BENCH_ARGS:---repeats 10} ||
        rc=1
    echo "== gpu_check: $([ $rc = 0 ] && echo passed || echo FAILED)"
    return $rc
}

case "${1:-}" in
pack) pack ;;
run)
    if [ -n "${OUT:-}" ]; then
        run 2>&1 | tee "$OUT/gpu_check.log"
        exit "${PIPESTATUS[0]}"
    fi
    run
    ;;
*)
    echo "usage: scripts/gpu_check.sh pack|run" >&2
    exit 2
    ;;
esac
