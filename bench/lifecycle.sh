#!/usr/bin/env bash
# The supervision core's figures, on this machine, in about a minute:
#   1-3. Start-up of 100 programs beside a bare fork/exec loop, the idle footprint (RSS, PSS,
#        CPU ticks), kill -9 -> replacement with backoff = 0s, and 100 programs ignoring
#        SIGTERM with stop-timeout = 2s: measured by bench/compare (the one implementation,
#        which also runs the peers), gardien alone here.
#   4. 100 programs crashing at once, backoff 100ms capped at 1s: the daemon's CPU over 20 s.
# Usage: bench/lifecycle.sh [BUILD_DIR]   (default: build; `make build` first)
# Every process it starts is stopped on exit, even on failure or Ctrl-C.
set -euo pipefail

BUILD=${1:-build}
GARDIEN=$BUILD/supervisord/gardien
for bin in "$GARDIEN"; do
  [[ -x $bin ]] || { echo "missing $bin: run 'make build' first" >&2; exit 2; }
done
WORK=$(mktemp -d /tmp/gardien-bench.XXXXXX)
HZ=$(getconf CLK_TCK)
DAEMONS=()

# Stops a daemon gracefully, then forcefully; kills the groups it logged as a last resort.
stop_daemon() {
  local pid=$1 log=$2 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 500; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true  # a second signal: forceful
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  if [[ -f $log ]]; then
    for child in $(sed -n 's/.*"event":"spawn".*"pid":\([0-9]*\).*/\1/p' "$log"); do
      kill -KILL -- "-$child" 2>/dev/null || true
    done
  fi
}

cleanup() {
  local entry
  for entry in "${DAEMONS[@]}"; do stop_daemon "${entry%%:*}" "${entry#*:}"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Writes N programs named pNNN with COMMAND (a TOML array) and EXTRA keys to FILE.
write_config() {
  local file=$1 n=$2 command=$3 extra=$4 i
  printf '[supervisor]\nlog-format = "json"\n\n' >"$file"
  for ((i = 0; i < n; i++)); do
    printf '[program.p%03d]\ncommand = %s\n%b\n' "$i" "$command" "$extra" >>"$file"
  done
}

# Starts gardien on CONFIG with its log in LOG; sets DPID.
start_daemon() {
  "$GARDIEN" -c "$1" 2>"$2" >/dev/null &
  DPID=$!
  DAEMONS+=("$DPID:$2")
}

finish_daemon() {
  stop_daemon "$DPID" "$1"
  DAEMONS=("${DAEMONS[@]/"$DPID:$1"/}")
  DAEMONS=(${DAEMONS[@]+"${DAEMONS[@]}"})
}

"$(dirname "$0")/compare" --build "$BUILD" --only startup,idle,restart,stop --systems gardien \
  --reps "${REPS:-3}"

# --- 4. 100 programs crashing at once, backoff 100ms capped at 1s: CPU. ---
write_config "$WORK/crash.toml" 100 '["false"]' \
  'restart = "always"\nstart-retries = 0\nbackoff = "100ms"\nbackoff-max = "1s"'
log=$WORK/crash.log
start_daemon "$WORK/crash.toml" "$log"
sleep 3  # 0.1 + 0.2 + 0.4 + 0.8 s: every program is at the cap
spawned0=$(grep -c '"event":"spawn"' "$log")
before=$(cpu_ticks "$DPID")
sleep 20
after=$(cpu_ticks "$DPID")
spawned1=$(grep -c '"event":"spawn"' "$log")
echo "4. 100 programs crashing at once (cap 1s): $((after - before)) ticks in 20 s =" \
  "$(awk -v t=$((after - before)) -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz / 20 * 100}')% of a core" \
  "(target < 1%), $((spawned1 - spawned0)) spawns"
finish_daemon "$log"
