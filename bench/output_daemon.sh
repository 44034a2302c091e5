#!/bin/bash
# Program output through the real daemon (`gardien -c`), beside `cat` and Debian's supervisord,
# in one run. One program: `yes LINE | head -c SIZE` (100-byte lines), started by the daemon.
#   file:   stdout = { file = F, max-size = "0" }      vs  WRITER | cat > F       (same disk)
#   prefix: stdout = "prefix", daemon's stdout /dev/null vs  WRITER | cat > /dev/null
#   supervisord: stdout_logfile = F (no rotation)      vs  the same `cat > F`
# A run's time: from starting the daemon to its log saying the program exited (the daemon
# reports an exit only after the program's pipe is drained; for the file sink the bytes are
# then written). The daemon starts in about a millisecond, like the shell that runs `cat`'s
# pipeline. Its log goes through a FIFO the shell reads blocking: polling for the exit (a grep
# and a sleep every 10 ms) would take CPU from the very run it measures, which `cat` never pays.
# Peak RSS: VmHWM of the daemon. Daemon CPU: its own user + system time when the exit is logged
# (/proc/PID/stat; children not included), the figure to compare builds on a busy machine. Usage:
#   bench/output_daemon.sh [BUILD_DIR=build] [SIZE=1G] [WORK_DIR=/var/tmp]
set -euo pipefail
BUILD=${1:-build}
SIZE=${2:-1G}
WORK=$(mktemp -d -p "${3:-/var/tmp}" gardien-bench-XXXXXX)
GARDIEN=$BUILD/supervisord/gardien
[ -x "$GARDIEN" ] || { echo "build first: make build ($GARDIEN missing)" >&2; exit 1; }
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LINE=$(printf '%099d' 0)  # 99 characters + '\n' = 100 bytes
WRITER="yes $LINE 2> /dev/null | head -c $SIZE"
BYTES=$(bash -c "$WRITER" | wc -c)
now() { echo "$EPOCHREALTIME"; }  # no fork inside the timed runs
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
timed() { local t0=$EPOCHREALTIME; bash -c "$1"; since "$t0"; }
mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%7.1f MB/s", b / s / 1e6 }'; }
report() {  # NAME SECONDS [BASELINE_SECONDS [RSS_KIB]]
  local extra=""
  [ -n "${3:-}" ] && extra=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "  %5.1f%% of cat", 100 * b / a }')
  [ -n "${4:-}" ] && extra="$extra  peak RSS $(awk -v k="$4" 'BEGIN { printf "%.1f MB", k / 1024 }')"
  printf '%-36s %7.2f s %s%s\n' "$1" "$2" "$(mbps "$2")" "$extra"
}

# gardien SINK_TOML STDOUT -> "SECONDS PEAK_RSS_KIB CPU_SECONDS"
run_gardien() {
  local sink=$1 stdout=$2 dir=$WORK/g t0 pid rss log line t cpu
  mkdir -p "$dir"
  cat > "$dir/g.toml" <<CONF
[supervisor]
socket = "$dir/ctl.sock"
[program.bench]
command = ["/bin/sh", "-c", "$WRITER"]
restart = "never"
start-seconds = "0"
stdout = $sink
# Keeps the daemon up (and its VmHWM readable) once bench has exited (docs/container.md).
[program.keep]
command = ["sleep", "1000"]
CONF
  mkfifo "$dir/log"
  exec {log}<> "$dir/log"  # read-write: opening never blocks, and the daemon's log never fills it
  t0=$EPOCHREALTIME
  "$GARDIEN" -c "$dir/g.toml" --log-format json > "$stdout" 2> "$dir/log" &
  pid=$!
  PIDS+=("$pid")
  until [[ ${line:-} == *'"event":"exit"'* ]]; do
    IFS= read -r -t 600 -u "$log" line || { echo "no exit in the daemon's log" >&2; exit 1; }
  done
  t=$(since "$t0")
  rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  # utime and stime, fields 14 and 15 once the "(comm)" field is cut off.
  cpu=$(sed 's/.*) //' "/proc/$pid/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }')
  kill -TERM "$pid"
  wait "$pid" 2> /dev/null || true
  exec {log}<&-
  rm -rf "$dir"
  echo "$t $rss $cpu"
}

ROUNDS=${ROUNDS:-3}
echo "writer: $WRITER ($BYTES bytes, 100-byte lines); files in $WORK; median of $ROUNDS rounds"
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cat_file=() g_file=() cat_null=() g_prefix=() cpu_file=() cpu_prefix=() rss_file=0 rss_prefix=0
for ((r = 0; r < ROUNDS; r++)); do
  sync
  cat_file+=("$(timed "$WRITER | cat > $WORK/cat.out")")
  rm -f "$WORK/cat.out"
  sync
  read -r t rss cpu < <(run_gardien "{ file = \"$WORK/gardien.out\", max-size = \"0\" }" /dev/null)
  got=$(stat -c %s "$WORK/gardien.out")
  # SIZE cuts the last line: the daemon completes it with a '\n' (one byte more, nothing less).
  [ "$got" = "$BYTES" ] || [ "$got" = "$((BYTES + 1))" ] || { echo "file sink: $got of $BYTES bytes" >&2; exit 1; }
  rm -f "$WORK/gardien.out"
  g_file+=("$t")
  cpu_file+=("$cpu")
  ((rss > rss_file)) && rss_file=$rss
  cat_null+=("$(timed "$WRITER | cat > /dev/null")")
  read -r t rss cpu < <(run_gardien '"prefix"' /dev/null)
  g_prefix+=("$t")
  cpu_prefix+=("$cpu")
  ((rss > rss_prefix)) && rss_prefix=$rss
done
cf=$(echo "${cat_file[*]}" | median) gf=$(echo "${g_file[*]}" | median)
cn=$(echo "${cat_null[*]}" | median) gp=$(echo "${g_prefix[*]}" | median)
report "cat > FILE" "$cf"
report "gardien -c, file sink" "$gf" "$cf" "$rss_file"
report "cat > /dev/null" "$cn"
report "gardien -c, prefix sink > /dev/null" "$gp" "$cn" "$rss_prefix"
echo "  all rounds, wall seconds: cat>FILE ${cat_file[*]} | file sink ${g_file[*]}"
echo "                            cat>/dev/null ${cat_null[*]} | prefix ${g_prefix[*]}"
echo "  daemon CPU seconds: file sink ${cpu_file[*]} | prefix ${cpu_prefix[*]}"
echo "  load: $(cut -d' ' -f1-3 /proc/loadavg) (wall figures need a quiet machine)"

if command -v supervisord > /dev/null; then
  sync
  # supervisord never exits with its program: watch the log file reach its full size.
  mkdir -p "$WORK/sv"
  cat > "$WORK/sv/supervisord.conf" <<CONF
[supervisord]
nodaemon=true
logfile=$WORK/sv/supervisord.log
pidfile=$WORK/sv/supervisord.pid
[program:bench]
command=/bin/sh -c "$WRITER"
autorestart=false
startsecs=0
stdout_logfile=$WORK/sv/bench.out
stdout_logfile_maxbytes=0
CONF
  t0=$EPOCHREALTIME
  supervisord -c "$WORK/sv/supervisord.conf" > /dev/null 2>&1 &
  sv=$!
  PIDS+=("$sv")
  while [ "$(stat -c %s "$WORK/sv/bench.out" 2> /dev/null || echo 0)" -lt "$BYTES" ]; do sleep 0.02; done
  sv_time=$(since "$t0")
  sv_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$sv/status")
  kill "$sv"
  wait "$sv" 2> /dev/null || true
  report "supervisord $(supervisord -v) file (one run)" "$sv_time" "$cf" "$sv_rss"
fi
