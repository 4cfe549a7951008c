#!/usr/bin/env bash
# Fault tests of `sam2 serve` (make test-fault): what a crash, a full disk or a bad checkpoint
# leaves behind. Each check prints PASS, FAIL or SKIP; the script exits 1 on any FAIL.
#   1. kill -9 while an upload is being received, then restart: the staged upload is removed
#   2. kill -9 while an upload is being transcoded, then restart: nothing partial is visible
#      under uploads/ or posters/, hidden temporary files are removed at start-up
#   3. kill -9 during a propagation stream, then restart: gallery intact, server serves
#   4. a full disk (an 8 MB tmpfs as DATA_PATH; root only, else SKIP): uploads get a clear
#      "no space" error, nothing partial is kept, the server keeps serving
#   5. a missing and a truncated checkpoint: a clear start-up error and a non-zero exit, no crash
# sam2-fault-check (tests/fault/fault_check.c) decodes every visible file under DATA_PATH.
#   usage: scripts/fault.sh BIN_DIR    (BIN_DIR holds sam2 and sam2-fault-check)
# Needs the micro checkpoint (SAM2_GOLDEN, default ../shared/golden) and the gallery videos
# (SAM2_DATA, default ../shared/data); without them it prints SKIP and exits 0.
set -uo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 BIN_DIR" >&2
  exit 2
fi
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
golden=${SAM2_GOLDEN:-$root/../shared/golden}
media=${SAM2_DATA:-$root/../shared/data}
ckpt=$golden/micro/sam2.1_hiera_micro.pt
yaml=$golden/micro/sam2.1_hiera_micro.yaml
dog=$media/gallery/01_dog.mp4
cups=$media/gallery/02_cups.mp4
coffee=$media/gallery/04_coffee.mp4
for f in "$ckpt" "$yaml" "$dog" "$cups" "$coffee"; do
  if [ ! -f "$f" ]; then
    echo "SKIP: fault tests: $f is missing (set SAM2_GOLDEN / SAM2_DATA); nothing was tested"
    exit 0
  fi
done
for p in "$bin/sam2" "$bin/sam2-fault-check"; do
  [ -x "$p" ] || { echo "fault: $p not found (make test-fault builds it)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "fault: curl is needed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sam2-fault-XXXXXX")
mounted=""
srv_pid=""
fails=0
passes=0
skips=0
cleanup() {
  [ -n "$srv_pid" ] && kill -9 "$srv_pid" 2>/dev/null
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
skip() { echo "SKIP: $*"; skips=$((skips + 1)); }
check() { # check "what" command...: PASS when the command succeeds
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# ---- the server ------------------------------------------------------------------------------
# start_server DATA SPILL LOG: starts sam2 serve in the background, sets srv_pid and port.
# SIGTERM drains first (docs/server.md): a session a check left open holds the exit for
# --drain-timeout seconds, kept short here.
start_server() {
  local data=$1 spill=$2 log=$3
  : >"$log"
  "$bin/sam2" serve --checkpoint "$ckpt" --config "$yaml" --data "$data" --spill-dir "$spill" \
    --host 127.0.0.1 --port 0 --threads 2 --drain-timeout 2 >"$log" 2>&1 &
  srv_pid=$!
  port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$port" ] && return 0
    kill -0 "$srv_pid" 2>/dev/null || { srv_pid=""; echo "  server exited at start-up:"; sed 's/^/    /' "$log"; return 1; }
    sleep 0.05
  done
  echo "  server did not listen within 30 s"
  return 1
}
kill9() {
  [ -n "$srv_pid" ] || return 0
  kill -9 "$srv_pid" 2>/dev/null
  wait "$srv_pid" 2>/dev/null
  srv_pid=""
}
stop_server() { # SIGTERM; succeeds when the server exits 0
  [ -n "$srv_pid" ] || return 1
  kill -TERM "$srv_pid" 2>/dev/null
  local rc=0
  wait "$srv_pid" || rc=$?
  srv_pid=""
  return $rc
}
alive() { [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; }
healthy() { [ "$(curl -s -m 10 "http://127.0.0.1:$port/healthy")" = "OK" ]; }

gql() { # gql JSON_BODY: prints the answer
  curl -s -m 120 -H 'Content-Type: application/json' --data-binary "$1" "http://127.0.0.1:$port/graphql"
}
start_session() { # start_session PATH: prints the session id
  gql "{\"query\":\"mutation(\$input: StartSessionInput!) { startSession(input: \$input) { sessionId } }\",\"variables\":{\"input\":{\"path\":\"$1\"}}}" |
    sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p'
}
add_point() { # add_point SID: prints the answer
  gql "{\"query\":\"mutation(\$input: AddPointsInput!) { addPoints(input: \$input) { frameIndex rleMaskList { objectId } } }\",\"variables\":{\"input\":{\"sessionId\":\"$1\",\"frameIndex\":0,\"objectId\":1,\"labels\":[1],\"points\":[[0.5,0.5]],\"clearOldPoints\":true}}}"
}
# upload FILE OUT [curl options...]: Relay's multipart uploadVideo; the answer goes to OUT.
upload() {
  local file=$1 out=$2
  shift 2
  curl -s -m 300 "$@" -o "$out" -w '%{http_code}' \
    -F 'operations={"query":"mutation($file: Upload!) { uploadVideo(file: $file) { path posterPath } }","variables":{"file":null}}' \
    -F 'map={"1":["variables.file"]}' -F "1=@$file;type=video/mp4" "http://127.0.0.1:$port/graphql"
}
gallery_intact() { # gallery_intact DATA: the gallery files are byte-identical to the sources
  cmp -s "$1/gallery/01_dog.mp4" "$dog" && cmp -s "$1/gallery/04_coffee.mp4" "$coffee"
}
data_complete() { # data_complete DATA [--no-temp]: every visible file decodes completely
  local out
  if out=$("$bin/sam2-fault-check" ${2:-} "$1" 2>&1); then
    echo "$out"
    return 0
  fi
  echo "$out"
  return 1
}
frames_in() { local n; n=$(grep -c frame_index "$1" 2>/dev/null) || true; echo "${n:-0}"; }
staged_count() { find "$1" -maxdepth 1 -name 'sam2-upload-*' | wc -l; }
temp_count() { find "$1/uploads" "$1/posters" -maxdepth 1 -name '.sam2-tmp-*' 2>/dev/null | wc -l; }

new_data() { # new_data DIR: a DATA_PATH with two gallery videos
  mkdir -p "$1/gallery" && cp "$dog" "$coffee" "$1/gallery/"
}

data=$work/data
spill=$work/spill
mkdir -p "$spill"
new_data "$data"

# ---- 1. kill -9 while an upload is being received ------------------------------------------
echo "== kill -9 while an upload is being received"
if start_server "$data" "$spill" "$work/s1.log"; then
  upload "$cups" "$work/u1.json" --limit-rate 200k >/dev/null 2>&1 &
  curl_pid=$!
  staged=0
  for _ in $(seq 1 400); do
    [ "$(staged_count "$spill")" -gt 0 ] && { staged=1; break; }
    sleep 0.025
  done
  sleep 0.3
  kill9
  wait "$curl_pid" 2>/dev/null
  check "the upload was being staged when the server was killed" [ $staged = 1 ]
  check "restart after the kill" start_server "$data" "$spill" "$work/s1b.log"
  check "the killed server's staged upload is removed at start-up" [ "$(staged_count "$spill")" = 0 ]
  grep -q "staged upload" "$work/s1b.log" && echo "  log: $(grep "staged upload" "$work/s1b.log" | head -n 1)"
  check "the restarted server is healthy" healthy
  check "visible files under DATA_PATH are complete, no temporary files" data_complete "$data" --no-temp
  kill9
else
  fail "the server did not start"
fi

# ---- 2. kill -9 while an upload is being transcoded ----------------------------------------
echo "== kill -9 while an upload is being transcoded"
if start_server "$data" "$spill" "$work/s2.log"; then
  hit=0
  for attempt in 1 2 3; do
    upload "$cups" "$work/u2.json" >/dev/null 2>&1 &
    curl_pid=$!
    for _ in $(seq 1 2000); do
      [ "$(temp_count "$data")" -gt 0 ] && { hit=1; break; }
      kill -0 "$curl_pid" 2>/dev/null || break
      sleep 0.01
    done
    if [ $hit = 1 ]; then
      sleep 0.2
      kill9
      wait "$curl_pid" 2>/dev/null
      break
    fi
    wait "$curl_pid" 2>/dev/null
    rm -f "$data"/uploads/*.mp4 "$data"/posters/[0-9a-f]*.jpg # uploaded before the kill: again
    echo "  attempt $attempt: the transcode finished before the kill; again"
  done
  kill9
  check "the server was killed while a temporary file was being written in uploads/" [ $hit = 1 ]
  echo "  after the kill: $(temp_count "$data") hidden temporary file(s) in uploads/ and posters/"
  check "after the kill, no partial file is visible under uploads/ or posters/" data_complete "$data"
  check "restart after the kill" start_server "$data" "$spill" "$work/s2b.log"
  grep -q "unfinished temporary" "$work/s2b.log" && echo "  log: $(grep "unfinished temporary" "$work/s2b.log" | head -n 1)"
  check "the restarted server removed the temporary files" data_complete "$data" --no-temp
  check "the gallery is intact" gallery_intact "$data"
  code=$(upload "$coffee" "$work/u2b.json")
  check "an upload after the restart works (HTTP $code)" grep -q '"path":"uploads/' "$work/u2b.json"
  check "uploads/ and posters/ are complete after that upload" data_complete "$data" --no-temp
  check "the server shuts down cleanly on SIGTERM" stop_server
else
  fail "the server did not start"
fi

# ---- 3. kill -9 during a propagation -------------------------------------------------------
echo "== kill -9 during a propagation"
if start_server "$data" "$spill" "$work/s3.log"; then
  sid=$(start_session gallery/01_dog.mp4)
  add_point "$sid" >"$work/click.json"
  check "a session with a click" grep -q '"objectId":1' "$work/click.json"
  curl -s -N -m 120 -H 'Content-Type: application/json' -o "$work/stream.bin" \
    --data-binary "{\"session_id\":\"$sid\",\"start_frame_index\":0}" "http://127.0.0.1:$port/propagate_in_video" &
  curl_pid=$!
  got=0
  for _ in $(seq 1 1200); do
    [ "$(frames_in "$work/stream.bin")" -ge 3 ] && { got=1; break; }
    sleep 0.025
  done
  kill9
  wait "$curl_pid" 2>/dev/null
  check "the server was killed mid-stream (after $(frames_in "$work/stream.bin") frames)" [ $got = 1 ]
  check "restart after the kill" start_server "$data" "$spill" "$work/s3b.log"
  check "the restarted server is healthy" healthy
  check "the gallery is intact" gallery_intact "$data"
  check "visible files under DATA_PATH are complete, no temporary files" data_complete "$data" --no-temp
  sid=$(start_session gallery/01_dog.mp4)
  add_point "$sid" >"$work/click2.json"
  check "a new session works after the restart" grep -q '"objectId":1' "$work/click2.json"
  check "the server shuts down cleanly on SIGTERM" stop_server
else
  fail "the server did not start"
fi

# ---- 4. a full disk --------------------------------------------------------------------------
echo "== a full disk (8 MB tmpfs as DATA_PATH)"
full=$work/full
mkdir -p "$full"
if [ "$(id -u)" != 0 ]; then
  skip "full disk: not root, cannot mount a tmpfs; the full-disk checks did NOT run"
elif ! mount -t tmpfs -o size=8m tmpfs "$full" 2>"$work/mount.err"; then
  skip "full disk: mount -t tmpfs failed ($(cat "$work/mount.err")); the full-disk checks did NOT run"
else
  mounted=$full
  fdata=$full/data
  fspill=$full/spill
  mkdir -p "$fspill"
  new_data "$fdata"
  # Fills the disk, leaving room for neither a transcoded upload nor a staged one.
  if start_server "$fdata" "$spill" "$work/s4.log"; then
    dd if=/dev/zero of="$full/filler" bs=64k status=none 2>/dev/null
    echo "  free on the tmpfs: $(df -k --output=avail "$full" | tail -n 1 | tr -d ' ') kB"
    code=$(upload "$cups" "$work/u4.json")
    echo "  upload onto the full DATA_PATH: HTTP $code: $(head -c 300 "$work/u4.json")"
    check "the upload fails with an error naming the lack of space" grep -qiE 'no space|no room' "$work/u4.json"
    check "the error does not name the server's DATA_PATH" bash -c "! grep -q '$fdata' '$work/u4.json'"
    check "the server is still running" alive
    check "the server is still healthy" healthy
    sid=$(start_session gallery/04_coffee.mp4)
    check "the server still starts sessions" [ -n "$sid" ]
    check "nothing partial is visible under uploads/ or posters/" data_complete "$fdata" --no-temp
    check "the server shuts down cleanly on SIGTERM" stop_server
  else
    fail "the server did not start on the tmpfs"
  fi
  # SPILL_DIR on the full disk too: the upload cannot even be staged.
  rm -f "$full/filler"
  if start_server "$fdata" "$fspill" "$work/s4b.log"; then
    dd if=/dev/zero of="$full/filler" bs=64k status=none 2>/dev/null
    code=$(upload "$cups" "$work/u4b.json")
    echo "  upload staged onto the full disk: HTTP $code: $(head -c 300 "$work/u4b.json")"
    check "the staging failure is answered 507 with a clear message" \
      bash -c "[ '$code' = 507 ] && grep -qiE 'no space|no room' '$work/u4b.json'"
    check "the server is still healthy" healthy
    rm -f "$full/filler"
    code=$(upload "$coffee" "$work/u4c.json")
    check "once space is freed, uploads work again (HTTP $code)" grep -q '"path":"uploads/' "$work/u4c.json"
    check "uploads/ and posters/ are complete" data_complete "$fdata" --no-temp
    check "no staged upload is left behind" [ "$(staged_count "$fspill")" = 0 ]
    check "the server shuts down cleanly on SIGTERM" stop_server
  else
    fail "the server did not start on the tmpfs"
  fi
  umount "$full" && mounted=""
fi

# ---- 5. bad checkpoints ----------------------------------------------------------------------
echo "== bad checkpoints"
# bad_start NAME CKPT PATTERN: sam2 serve must exit non-zero (not by a signal) saying PATTERN.
bad_start() {
  local name=$1 file=$2 pattern=$3 rc=0
  timeout 60 "$bin/sam2" serve --checkpoint "$file" --config "$yaml" --data "$data" --spill-dir "$spill" \
    --host 127.0.0.1 --port 0 >"$work/bad.log" 2>&1 || rc=$?
  echo "  $name: exit status $rc: $(grep -v '^\[' "$work/bad.log" | head -n 2 | tr '\n' ' ')$(grep -i error "$work/bad.log" | head -n 1)"
  check "$name: non-zero exit" [ $rc -ne 0 ]
  check "$name: no crash or hang (exit status $rc < 124)" [ $rc -lt 124 ]
  check "$name: the message names the problem" grep -qiE "$pattern" "$work/bad.log"
  check "$name: the server never listened" bash -c "! grep -q 'listening on' '$work/bad.log'"
}
bad_start "missing checkpoint" "$work/no-such-checkpoint.pt" "no-such-checkpoint.pt"
size=$(stat -c %s "$ckpt")
head -c $((size / 2)) "$ckpt" >"$work/truncated.pt"
bad_start "truncated checkpoint" "$work/truncated.pt" "truncated.pt"
head -c 100 "$ckpt" >"$work/stub.pt"
bad_start "checkpoint cut to 100 bytes" "$work/stub.pt" "stub.pt"
check "the data folder is still complete after the failed starts" data_complete "$data" --no-temp

echo
echo "fault tests: $passes passed, $fails failed, $skips skipped"
[ $fails = 0 ]
