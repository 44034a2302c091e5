#!/usr/bin/env bash
# The container-init figures, on this machine, in well under a minute (root: unshare):
#   1. As PID 1 of a fresh pid namespace, 5000 orphans that exit at the same moment: time until
#      no zombie is left, and the CPU time the init itself spent meanwhile, for gardien, Debian's
#      tini and dumb-init, round-robin in the same run (ROUNDS runs each): measured by
#      bench/compare (the one implementation).
#   2. `docker stop`-style shutdown, gardien as PID 1 in front of a command that exits at once
#      on SIGTERM: the command's exit -> gardien gone (20 runs: median and max).
# Usage: bench/init.sh [BUILD_DIR] [ROUNDS]   (defaults: build, 15; `make build` first)
# Every process it starts ends with it (each run is its own pid namespace; a trap kills the rest).
set -euo pipefail

BUILD=${1:-build}
ROUNDS=${2:-15}
GARDIEN=$BUILD/supervisord/gardien
for bin in "$GARDIEN"; do
  [[ -x $bin ]] || { echo "missing $bin: run 'make build' first" >&2; exit 2; }
done
unshare --pid --fork --mount-proc true 2>/dev/null || { echo "needs root: unshare --pid" >&2; exit 2; }
WORK=$(mktemp -d /tmp/gardien-bench-init.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "== 1. PID 1 reaping 5000 orphans that exit at once"
"$(dirname "$0")/compare" --build "$BUILD" --only pid1 --systems gardien,tini,dumb-init \
  --pid1-reps "$ROUNDS"

echo "== 2. SIGTERM to gardien (PID 1) -> the command exits at once -> gardien gone (ms, 20 runs)"
: >"$WORK/stop"
for ((r = 0; r < 20; r++)); do
  stamp=$WORK/exit.$r
  unshare --pid --fork --mount-proc "$GARDIEN" -- /bin/sh -c \
    "trap 'date +%s%N > $stamp; exit 0' TERM; touch $stamp.ready; while :; do sleep 1; done" \
    2>/dev/null &
  outer=$!
  PIDS+=("$outer")
  for ((i = 0; i < 500; i++)); do [[ -e $stamp.ready ]] && break; sleep 0.01; done
  inner=$(pgrep -P "$outer" -x gardien)
  kill -TERM "$inner"
  wait "$outer" || true
  gone=$(date +%s%N)
  echo $(((gone - $(cat "$stamp")) / 1000)) | awk '{printf "%.1f\n", $1 / 1000}' >>"$WORK/stop"
done
printf 'median %.1f ms, max %.1f ms (target: within 50 ms)\n' "$(median <"$WORK/stop")" \
  "$(sort -n "$WORK/stop" | tail -1)"
