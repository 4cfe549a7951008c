#!/usr/bin/env bash
# libsam2.so exports exactly the functions include/sam2.h declares, and no more: everything
# else is built hidden (-fvisibility=hidden, SAM2_API on the header's declarations). It also
# must not need libnettle (hashing is the apps' business: src/app/), nor any library the model
# and its predictors do not use.
# Usage: symbols_check.sh LIBSAM2_SO SAM2_H [CC]
set -euo pipefail
lib=$1
header=$2
cc=${3:-${CC:-cc}}
[ -f "$lib" ] || { echo "no library at $lib"; exit 1; }
tmp=$(mktemp -d /tmp/sam2-symbols-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The header's functions: preprocess it (comments and macros gone), cut it into declarations at
# ';', and keep the non-typedef ones whose first '(' follows a name: that name is a function
# (a member `int (*read)(...)` of a struct is a function pointer: its '(' is followed by '*').
# Only the header's own lines count (the line markers of -E name their file), not those of the
# system headers it includes.
"$cc" -E -DSAM2_API= -x c "$header" |
    awk -v h="$(basename "$header")" '/^# [0-9]+ "/ { f = $3; gsub(/"/, "", f); own = (f ~ ("(^|/)" h "$")); next } own' |
    tr '\n' ' ' | tr ';' '\n' |
    sed -E 's/^[[:space:]]*[{}][[:space:]]*//' | grep -vE '^[[:space:]]*(typedef|extern|struct|enum)\b' |
    sed -nE 's/^[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\([[:space:]]*([^*[:space:]].*)?$/\1/p' |
    sort -u > "$tmp/declared"
[ -s "$tmp/declared" ] || { echo "found no function declared in $header"; exit 1; }

# The library's defined dynamic symbols, less the linker's own markers.
nm -D --defined-only "$lib" | awk 'NF >= 3 { print $2, $3 }' |
    grep -vE ' (_init|_fini|_edata|_end|__bss_start)$' > "$tmp/dynsym"
awk '$1 ~ /^[TtWwi]$/ { sub(/@.*/, "", $2); print $2 }' "$tmp/dynsym" | sort -u > "$tmp/exported"
awk '$1 !~ /^[TtWwi]$/ { print }' "$tmp/dynsym" > "$tmp/data"

status=0
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -n "$extra" ]; then
    echo "exported by $(basename "$lib") but not declared in sam2.h:"
    sed 's/^/  /' <<<"$extra"
    status=1
fi
if [ -n "$missing" ]; then
    echo "declared in sam2.h but not exported by $(basename "$lib") (SAM2_API missing?):"
    sed 's/^/  /' <<<"$missing"
    status=1
fi
# sam2.h declares no variables, so no data symbol may be exported either.
if [ -s "$tmp/data" ]; then
    echo "data symbols exported by $(basename "$lib"):"
    sed 's/^/  /' "$tmp/data"
    status=1
fi
if readelf -d "$lib" | grep -E '\(NEEDED\)' | grep -qi 'nettle'; then
    echo "$(basename "$lib") needs libnettle (DT_NEEDED): hashing belongs to the apps (src/app/)"
    status=1
fi
# Every library libsam2 needs is one the model and its predictors use (README, "libraries"): a
# new dependency must be added here with its reason, or go to src/app.
allowed_needed='^lib(c|m|pthread|dl|rt'
allowed_needed+='|openblas|blas|cblas|gfortran' # the GEMMs of the cpu backend
allowed_needed+='|zip|z'                        # checkpoints (torch.save zip files)
allowed_needed+='|yaml-0'                       # official-format YAML configs
allowed_needed+='|png16|jpeg'                   # images and frame folders
allowed_needed+='|avformat|avcodec|avutil|swscale' # videos
allowed_needed+='|vulkan'                       # the vulkan backend, when built
allowed_needed+=')\.so'
unexpected=$(readelf -d "$lib" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | grep -vE "$allowed_needed" || true)
if [ -n "$unexpected" ]; then
    echo "$(basename "$lib") needs libraries the model and predictors do not (move the code to src/app):"
    sed 's/^/  /' <<<"$unexpected"
    status=1
fi
[ $status -eq 0 ] && echo "$(wc -l < "$tmp/exported") exported functions, all and only those of sam2.h"
exit $status
