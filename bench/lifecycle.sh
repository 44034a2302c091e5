#!/usr/bin/env bash
# The supervision core's figures (issue 3), on this machine, in about a minute:
#   1. 100 programs (sleep, start-seconds = 0): daemon start -> all 100 running, against a bare
#      fork/exec loop of the same 100 commands (median of 5 runs each); the daemon's RSS with
#      them; its CPU ticks over 20 s idle.
#   2. kill -9 of a program with backoff = 0s: kill -> replacement spawned (median of 20).
#   3. 100 programs ignoring SIGTERM, stop-timeout = 2s: SIGTERM to the daemon -> daemon exit.
#   4. 100 programs crashing at once, backoff 100ms capped at 1s: the daemon's CPU over 20 s.
# Usage: bench/lifecycle.sh [BUILD_DIR]   (default: build; `make build` first)
# Every process it starts is stopped on exit, even on failure or Ctrl-C.
set -euo pipefail

BUILD=${1:-build}
GARDIEN=$BUILD/supervisord/gardien
BASELINE=$BUILD/bench/forkexec_baseline
for bin in "$GARDIEN" "$BASELINE"; do
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

now_us() { echo "${EPOCHREALTIME/./}"; }
# The "time" of a JSON log line, in microseconds since the epoch.
line_us() { echo $(( $(date -d "$(sed 's/.*"time":"\([^"]*\)".*/\1/' <<<"$1")" +%s%3N) * 1000 )); }
# Waits until PATTERN occurs COUNT times in FILE (at most SECONDS).
wait_count() {
  local count=$1 pattern=$2 file=$3 seconds=$4 i
  for ((i = 0; i < seconds * 100; i++)); do
    local found
    found=$(grep -c -- "$pattern" "$file" 2>/dev/null || true)
    ((${found:-0} >= count)) && return 0
    sleep 0.01
  done
  echo "timeout waiting for $count x '$pattern' in $file" >&2
  return 1
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f", us / 1000}'; }
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

echo "gardien lifecycle bench: $(nproc) cores, $(uname -r), build $BUILD"

# --- 1. 100 programs to running, against a bare fork/exec loop. ---
write_config "$WORK/sleep100.toml" 100 '["sleep", "1000"]' 'start-seconds = "0s"'
daemon_runs=() baseline_runs=()
for run in 1 2 3 4 5; do
  t0=$(now_us)
  end=$("$BASELINE" 100 sleep 1000)
  baseline_runs+=($((end - t0)))

  log=$WORK/start$run.log
  t0=$(now_us)
  start_daemon "$WORK/sleep100.toml" "$log"
  sleep 1  # no polling while it starts: a polling loop would steal the CPU it measures
  wait_count 100 '"to":"running"' "$log" 20
  last=$(grep '"to":"running"' "$log" | tail -1)
  daemon_runs+=($(($(line_us "$last") - t0)))
  if ((run < 5)); then finish_daemon "$log"; fi
done
base=$(printf '%s\n' "${baseline_runs[@]}" | median)
dmn=$(printf '%s\n' "${daemon_runs[@]}" | median)
echo "1. 100 programs running: gardien $(ms "$dmn") ms, bare fork/exec loop $(ms "$base") ms," \
  "ratio $(awk -v a="$dmn" -v b="$base" 'BEGIN {printf "%.2f", a / b}') (target <= 1.25)"
echo "   runs (us): gardien ${daemon_runs[*]}; baseline ${baseline_runs[*]} (gardien's from the log, 1 ms resolution)"
echo "   RSS with 100 programs: $(awk '/VmRSS/ {print $2, $3}' "/proc/$DPID/status") (target < 4 MB);" \
  "anonymous $(awk '/RssAnon/ {print $2, $3}' "/proc/$DPID/status"), file-backed" \
  "$(awk '/RssFile/ {print $2, $3}' "/proc/$DPID/status") (shared libraries), PSS" \
  "$(awk '/^Pss:/ {print $2, $3}' "/proc/$DPID/smaps_rollup")"
before=$(cpu_ticks "$DPID")
sleep 20
after=$(cpu_ticks "$DPID")
echo "   CPU over 20 s idle: $((after - before)) ticks (target 0; $HZ ticks/s)"
finish_daemon "$WORK/start5.log"

# --- 2. kill -9 -> replacement, backoff = 0s. ---
write_config "$WORK/kill.toml" 1 '["sleep", "1000"]' 'start-seconds = "0s"\nbackoff = "0s"'
log=$WORK/kill.log
start_daemon "$WORK/kill.toml" "$log"
wait_count 1 '"to":"running"' "$log" 10
latencies=()
for i in $(seq 1 20); do
  sleep 0.15  # past gardien's 100 ms floor between two spawns of one program
  pid=$(sed -n 's/.*"event":"spawn".*"pid":\([0-9]*\).*/\1/p' "$log" | tail -1)
  t0=$(now_us)
  kill -KILL "$pid"
  sleep 0.05  # no polling while it restarts
  wait_count $((i + 1)) '"event":"spawn"' "$log" 10
  latencies+=($(($(line_us "$(grep '"event":"spawn"' "$log" | tail -1)") - t0)))
done
echo "2. kill -9 -> replacement spawned: median $(ms "$(printf '%s\n' "${latencies[@]}" | median)") ms" \
  "(target < 5 ms; 1 ms log resolution); all (us): ${latencies[*]}"
finish_daemon "$log"

# --- 3. 100 programs ignoring SIGTERM, stop-timeout = 2s: shutdown time. ---
write_config "$WORK/stubborn.toml" 100 "[\"sh\", \"-c\", \"trap '' TERM; exec sleep 1000\"]" \
  'start-seconds = "0s"\nstop-timeout = "2s"'
log=$WORK/stubborn.log
start_daemon "$WORK/stubborn.toml" "$log"
wait_count 100 '"to":"running"' "$log" 20
# Every shell has installed its trap once it has become `sleep`.
for pid in $(sed -n 's/.*"event":"spawn".*"pid":\([0-9]*\).*/\1/p' "$log"); do
  for ((i = 0; i < 500; i++)); do [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]] && break; sleep 0.01; done
done
t0=$(now_us)
kill -TERM "$DPID"
code=0
wait "$DPID" || code=$?
t1=$(now_us)
DAEMONS=("${DAEMONS[@]/"$DPID:$log"/}")
DAEMONS=(${DAEMONS[@]+"${DAEMONS[@]}"})
echo "3. SIGTERM -> exit with 100 programs ignoring it (stop-timeout 2s): $(ms $((t1 - t0))) ms," \
  "exit code $code (target < 2300 ms)"

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
