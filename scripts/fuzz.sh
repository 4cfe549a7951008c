#!/usr/bin/env bash
# Runs every libFuzzer target in BIN_DIR (fuzz-*) for SECONDS seconds each, starting from its
# committed seed corpus fuzz/corpus/<name>/ (fuzz-yaml-config -> fuzz/corpus/yaml_config). The
# corpus is copied to a scratch folder first, so the repository is never modified. Fails (and
# keeps the crashing input under fuzz/corpus-run/artifacts/) when a target finds a crash, a leak
# or a timeout. The targets' own stderr is discarded (-close_fd_mask=2: the CLI's messages for
# every refused input); libFuzzer's output and the sanitizers' reports still reach the log.
#   usage: scripts/fuzz.sh BIN_DIR SECONDS     (make fuzz FUZZ_SECONDS=N builds and runs it)
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BIN_DIR SECONDS" >&2
  exit 2
fi
bin_dir=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
run_dir="$root/fuzz/corpus-run"
shopt -s nullglob
targets=("$bin_dir"/fuzz-*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz-* programs in $bin_dir (build with: make fuzz-build)" >&2
  exit 1
fi
mkdir -p "$run_dir/artifacts"
status=0
for target in "${targets[@]}"; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus_name=${name#fuzz-}
  corpus_name=${corpus_name//-/_}
  scratch=$(mktemp -d "$run_dir/$corpus_name.XXXXXX")
  if [ -d "$root/fuzz/corpus/$corpus_name" ]; then
    cp -r "$root/fuzz/corpus/$corpus_name/." "$scratch/"
  fi
  echo "== $name: ${seconds}s over fuzz/corpus/$corpus_name"
  if ! "$target" "$scratch" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -close_fd_mask=2 -artifact_prefix="$run_dir/artifacts/$name-" -print_final_stats=1 \
      >"$run_dir/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see $run_dir/$name.log and $run_dir/artifacts/" >&2
    tail -n 30 "$run_dir/$name.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$run_dir/$name.log" || true
  fi
  rm -rf "$scratch"
done
exit $status
