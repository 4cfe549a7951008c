#!/usr/bin/env bash
# The server's parts must show: no include cycle among the modules of src/server (a module is
# foo.c with foo.h; a header without a .c, such as server_internal.h, is a module of its own), and the GraphQL engine (src/server/graphql/) includes
# nothing of the server. Prints each cycle it finds as "a -> b -> a" and fails.
# Usage: include_cycles.sh [source root] (default: the repository this script is in).
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root/src"

python3 - <<'EOF'
import os, re, sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

def module(path):
    """src-relative file -> module name: the path without its extension."""
    return os.path.splitext(path)[0]

files = []
for d, _, names in os.walk("server"):
    files += [os.path.join(d, n) for n in names if n.endswith((".c", ".h"))]

edges, bad = {}, []
for f in sorted(files):
    text = open(f, encoding="utf-8", errors="replace").read()
    for inc in INCLUDE.findall(text):
        if f.startswith("server/graphql/") and not (inc.startswith("server/graphql/") or inc == "core/arena.h"):
            bad.append(f"{f} includes {inc}: the GraphQL engine may include only its own headers and core/arena.h")
        if not inc.startswith("server/"):
            continue  # the library's layers are checked elsewhere; only the server's own graph here
        a, b = module(f), module(inc)
        if a != b:
            edges.setdefault(a, set()).add(b)

# Every elementary cycle would be too many to print; one cycle per strongly connected component
# names the loop to break.
index, low, on, stack, sccs, counter = {}, {}, set(), [], [], [0]

def strongconnect(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            strongconnect(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(set(comp))

sys.setrecursionlimit(10000)
for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
    if v not in index:
        strongconnect(v)

def one_cycle(comp):
    start = min(comp)
    prev, queue = {start: None}, [start]
    while queue:  # breadth-first back to start: the shortest cycle through it
        v = queue.pop(0)
        for w in sorted(edges.get(v, ())):
            if w not in comp:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                return " -> ".join(path + [start])
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return start

for comp in sccs:
    bad.append(f"include cycle: {one_cycle(comp)} (modules in the loop: {', '.join(sorted(comp))})")
for line in bad:
    print(line)
n_mod = len(set(edges) | {w for ws in edges.values() for w in ws})
if bad:
    sys.exit(1)
print(f"include graph of src/server: {n_mod} modules, no cycle; graphql/ includes nothing of the server")
EOF
