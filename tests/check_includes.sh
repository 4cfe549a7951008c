#!/usr/bin/env bash
# The layers of the source tree, checked on every #include "..." line: each folder may include
# only the folders listed for it below (DEVELOPERS.md, "Layout", shows the same table). The CLI
# and the server are programs built on the public API: they see include/sam2.h and the
# app-support library (src/app), never the library's internals; the benchmarks (src/cli/bench*)
# measure internals and are exempt. Inside libsam2 the chain core -> model -> io -> predict only
# points downwards, and nothing in it includes an app, the CLI or the server.
# Crossings that known work will remove are listed in tests/check_includes.pending, and reported
# as pending instead of failing; every other crossing fails, naming the file and the line.
# Usage: check_includes.sh SOURCE_DIR
set -euo pipefail
root=${1:-$(dirname "$0")/..}
cd "$root"
pending_file=tests/check_includes.pending

# Whether FILE including TARGET is listed as pending (globs in the list's first column).
is_pending() {
    local glob header
    [ -f "$pending_file" ] || return 1
    while read -r glob header; do
        case $glob in '' | '#'*) continue ;; esac
        # shellcheck disable=SC2053 # the list's first column is a glob on purpose
        [[ $1 == $glob && $2 == "$header" ]] && return 0
    done < "$pending_file"
    return 1
}

# folder: the folders its files may include ("sam2.h" and <system> headers are always allowed;
# a name without a folder is a file beside the includer or a generated header).
allowed_for() {
    case $1 in
    src/core) echo "core" ;;
    src/model) echo "core model" ;;
    src/io) echo "core model io" ;;
    src/predict) echo "core model io predict" ;;
    src/app) echo "core model io predict app" ;;
    src/server) echo "app server" ;;
    src/cli) echo "app server cli" ;;
    *) return 1 ;;
    esac
}

# The benchmarks time the library's internals on purpose.
exempt() {
    case $1 in
    src/cli/bench*) return 0 ;;
    esac
    return 1
}

failures=0
pending=0
for dir in src/core src/model src/io src/predict src/app src/server src/cli; do
    [ -d "$dir" ] || continue
    allowed=$(allowed_for "$dir")
    while IFS= read -r file; do
        exempt "$file" && continue
        while IFS=: read -r line target; do
            case $target in
            sam2.h) continue ;;
            */..* | ..*)
                echo "$file:$line: includes \"$target\": relative paths hide the layer"
                failures=$((failures + 1))
                continue
                ;;
            */*) ;;
            *) continue ;;
            esac
            top=${target%%/*}
            ok=0
            for a in $allowed; do
                [ "$top" = "$a" ] && ok=1
            done
            if [ $ok = 0 ] && is_pending "$file" "$target"; then
                echo "pending: $file includes \"$target\" ($pending_file)"
                pending=$((pending + 1))
            elif [ $ok = 0 ]; then
                echo "$file:$line: includes \"$target\", but ${dir#src/}/ may include only: sam2.h $allowed"
                failures=$((failures + 1))
            fi
        done < <(awk '/^[ \t]*#[ \t]*include[ \t]*"/ {
            t = $0; sub(/^[^"]*"/, "", t); sub(/".*$/, "", t); print FNR ":" t }' "$file")
    done < <(find "$dir" -name '*.[ch]' | sort)
done

if [ $failures -gt 0 ]; then
    echo "$failures include(s) cross a layer (see DEVELOPERS.md, \"Layout\")"
    exit 1
fi
echo "every include stays inside its layer ($pending pending in $pending_file)"
