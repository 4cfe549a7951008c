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

# folder: what its files may include: a folder (its headers and those of its subfolders) or one
# header by its path ("sam2.h" and <system> headers are always allowed; a name without a folder
# is a file beside the includer or a generated header). A subfolder without a row of its own
# follows its parent's.
allowed_for() {
    case $1 in
    src/core) echo "core" ;;
    src/model) echo "core model" ;;
    src/io) echo "core model io" ;;
    src/predict) echo "core model io predict" ;;
    src/app) echo "core model io predict app" ;;
    src/server/graphql) echo "server/graphql core/arena.h" ;; # the engine knows no server
    src/server) echo "app server" ;;
    src/cli) echo "app server cli" ;;
    *) return 1 ;;
    esac
}

# The row that rules a folder: its own, else its nearest parent's.
rule_folder() {
    local d=$1
    while [ "$d" != src ] && [ "$d" != . ]; do
        allowed_for "$d" > /dev/null && { echo "$d"; return 0; }
        d=${d%/*}
    done
    return 1
}

# Whether include path $1 is covered by the allowed list $2.
covered() {
    local a
    for a in $2; do
        case $a in
        *.h) [ "$1" = "$a" ] && return 0 ;;
        *) case $1 in "$a"/*) return 0 ;; esac ;;
        esac
    done
    return 1
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
while IFS= read -r file; do
    exempt "$file" && continue
    dir=$(rule_folder "${file%/*}") || continue
    allowed=$(allowed_for "$dir")
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
        covered "$target" "$allowed" && continue
        if is_pending "$file" "$target"; then
            echo "pending: $file includes \"$target\" ($pending_file)"
            pending=$((pending + 1))
        else
            echo "$file:$line: includes \"$target\", but ${dir#src/}/ may include only: sam2.h $allowed"
            failures=$((failures + 1))
        fi
    done < <(awk '/^[ \t]*#[ \t]*include[ \t]*"/ {
        t = $0; sub(/^[^"]*"/, "", t); sub(/".*$/, "", t); print FNR ":" t }' "$file")
done < <(find src -name '*.[ch]' | sort)

if [ $failures -gt 0 ]; then
    echo "$failures include(s) cross a layer (see DEVELOPERS.md, \"Layout\")"
    exit 1
fi
echo "every include stays inside its layer ($pending pending in $pending_file)"
