#!/usr/bin/env bash
# The container-init figures (issue 6), on this machine, in well under a minute (root: unshare):
#   1. As PID 1 of a fresh pid namespace, 5000 orphans that exit at the same moment: time until
#      no zombie is left, for gardien, Debian's tini and dumb-init, in the same run (median of
#      ROUNDS runs each; tests/helpers/orphans measures from inside the namespace), and the CPU
#      time the init itself spent meanwhile (its own cost, less sensitive to the machine's load).
#   2. `docker stop`-style shutdown, gardien as PID 1 in front of a command that exits at once
#      on SIGTERM: the command's exit -> gardien gone (20 runs: median and max).
# Usage: bench/init.sh [BUILD_DIR] [ROUNDS]   (defaults: build, 7; `make build` first)
# Every process it starts ends with it (each run is its own pid namespace; a trap kills the rest).
set -euo pipefail

BUILD=${1:-build}
ROUNDS=${2:-7}
GARDIEN=$BUILD/supervisord/gardien
ORPHANS=$BUILD/tests/helpers/orphans
for bin in "$GARDIEN" "$ORPHANS"; do
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

echo "== 1. PID 1 reaping 5000 orphans that exit at once (ms until no zombie; median of $ROUNDS)"
declare -A INITS=(
  [gardien]="$GARDIEN --"
  [tini]="/usr/bin/tini --"
  [dumb-init]="/usr/bin/dumb-init --"
)
NAMES=()
for name in gardien tini dumb-init; do
  read -r -a init <<<"${INITS[$name]}"
  if [[ -x ${init[0]} ]]; then NAMES+=("$name"); else echo "$name: ${init[0]} missing, skipped"; fi
  : >"$WORK/$name"
  : >"$WORK/$name.cpu"
done
# Round-robin, so a load change on the machine hits every init alike.
for ((r = 0; r < ROUNDS; r++)); do
  for name in "${NAMES[@]}"; do
    read -r -a init <<<"${INITS[$name]}"
    out=$(timeout 60 unshare --pid --fork --mount-proc "${init[@]}" "$ORPHANS" 5000)
    [[ $out == *zombies=0* ]] || { echo "$name: zombies left: $out" >&2; exit 1; }
    sed -E 's/.*reaped_ms=([0-9.]+).*/\1/' <<<"$out" >>"$WORK/$name"
    sed -E 's/.*init_cpu_ms=([0-9.-]+).*/\1/' <<<"$out" >>"$WORK/$name.cpu"
  done
done
for name in "${NAMES[@]}"; do
  printf '%-10s median %7.1f ms (init CPU %5.1f ms)   runs: %s\n' "$name" \
    "$(median <"$WORK/$name")" "$(median <"$WORK/$name.cpu")" "$(tr '\n' ' ' <"$WORK/$name")"
done

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
