#!/usr/bin/env bash
# check_includes.sh must fail, naming the file, on each kind of crossing it exists to catch, and
# pass on a tree that keeps to its layers: run on small trees made here.
# Usage: check_includes_selftest.sh CHECK_INCLUDES_SH
set -euo pipefail
check=$1
tmp=$(mktemp -d /tmp/sam2-includes-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# A tree whose every include is allowed, plus the one line given (FILE: LINE), then the check.
run_on() {
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree/tests" "$tmp/tree/src"/{core,model,io,predict,app,server/graphql,cli}
    printf '#include "core/a.h"\n' > "$tmp/tree/src/model/m.c"
    printf '#include "predict/p.h"\n#include "app/x.h"\n' > "$tmp/tree/src/app/x.c"
    printf '#include "sam2.h"\n#include "app/x.h"\n#include "server/s.h"\n' > "$tmp/tree/src/server/s.c"
    printf '#include "sam2.h"\n#include "server/s.h"\n#include "cli/c.h"\n' > "$tmp/tree/src/cli/c.c"
    printf '#include "server/graphql/g.h"\n#include "core/arena.h"\n' > "$tmp/tree/src/server/graphql/g.c"
    printf '#include "server/graphql/g.h"\n' >> "$tmp/tree/src/server/s.c"
    printf '#include "predict/tracker_internal.h"\n' > "$tmp/tree/src/cli/bench_x.c"
    printf '#include <stdio.h>\n#include "local.h"\n' > "$tmp/tree/src/core/a.c"
    [ -n "${1:-}" ] && printf '%s\n' "$2" >> "$tmp/tree/$1"
    bash "$check" "$tmp/tree"
}

fail=0
if ! out=$(run_on); then
    echo "a tree that keeps to its layers was refused:"
    echo "$out"
    fail=1
fi
while IFS='|' read -r file line; do
    if out=$(run_on "$file" "$line"); then
        echo "not caught: $file: $line"
        fail=1
    elif ! grep -q "^$file:" <<<"$out"; then
        echo "caught but not named: $file: $line"
        echo "$out"
        fail=1
    fi
done <<'CASES'
src/cli/c.c|#include "core/ops.h"
src/cli/c.c|#include "predict/tracker_internal.h"
src/cli/c.c|#  include "io/video.h"
src/cli/c.c|#include "../core/ops.h"
src/server/s.c|#include "model/net.h"
src/server/s.c|#include "cli/c.h"
src/core/a.c|#include "model/net.h"
src/model/m.c|#include "io/image.h"
src/io/i.c|#include "predict/tracker.h"
src/predict/p.c|#include "server/server.h"
src/io/i.c|#include "app/effects.h"
src/app/x.c|#include "server/s.h"
src/server/graphql/g.c|#include "server/http.h"
src/server/graphql/g.c|#include "core/ops.h"
src/server/graphql/g.c|#include "app/x.h"
src/server/graphql/g.c|#include "core/arena.h.in"
CASES
[ $fail -eq 0 ] && echo "check_includes.sh catches every crossing tried and passes a clean tree"
exit $fail
