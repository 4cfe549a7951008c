#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build and run a program against the installed
# header and library through pkg-config (shared and static). Usage: install_check.sh BUILD_DIR
# Cross builds set CC (the cross compiler), PKG_CONFIG_LIBDIR (the target's .pc files) and
# SAM2_TEST_EMULATOR (qemu-user, which runs the programs built here).
set -euo pipefail
cc=${CC:-cc}
run=${SAM2_TEST_EMULATOR:-}
build=$1
prefix=$(mktemp -d /tmp/sam2-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name sam2.pc | head -n 1)
[ -n "$pc" ] || { echo "sam2.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
[ -x "$prefix/bin/sam2" ] || { echo "sam2 was not installed"; exit 1; }
$run "$prefix/bin/sam2" --version
cat > "$prefix/use.c" <<'C'
#include <sam2.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    sam2_error err = {0};
    sam2_model *m = sam2_model_load("/nonexistent/model.pt", NULL, &err);
    if (m || err.code == 0 || !strstr(err.message, "/nonexistent/model.pt")) return 1;
    printf("%s: %s\n", sam2_status_name(err.code), err.message);
    return 0;
}
C
"$cc" -o "$prefix/use_shared" "$prefix/use.c" $(pkg-config --cflags --libs sam2)
LD_LIBRARY_PATH=$(pkg-config --variable=libdir sam2) $run "$prefix/use_shared"
# The static library with its dependencies linked as the system's shared libraries.
deps=$(pkg-config --print-requires-private sam2 | awk '{print $1}')
"$cc" -o "$prefix/use_static" "$prefix/use.c" $(pkg-config --cflags sam2) \
   "$(pkg-config --variable=libdir sam2)/libsam2.a" $(pkg-config --libs $deps) -lpthread -lm
$run "$prefix/use_static"
echo "install check passed"
