#!/bin/bash
# Throughput of program output through gardien, beside `cat` and Debian's supervisord, in one run.
# One writer: `yes LINE | head -c SIZE` (100-byte lines). Usage:
#   bench/output_throughput.sh [BUILD_DIR=build] [SIZE=1G] [WORK_DIR=/var/tmp]
# WORK_DIR must be on the disk you care about (the file figures write SIZE bytes there).
set -euo pipefail
BUILD=${1:-build}
SIZE=${2:-1G}
WORK=$(mktemp -d -p "${3:-/var/tmp}" gardien-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
BIN="$BUILD/bench/output_throughput"
[ -x "$BIN" ] || { echo "build first: make build ($BIN missing)" >&2; exit 1; }
LINE=$(printf '%099d' 0)                       # 99 characters + '\n' = 100 bytes
WRITER="yes $LINE 2> /dev/null | head -c $SIZE"
BYTES=$(bash -c "$WRITER" | wc -c)

now() { date +%s.%N; }
mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%8.1f MB/s", b / s / 1e6 }'; }
report() {  # NAME SECONDS [BASELINE_SECONDS [RSS_KIB]]
  local extra=""
  [ -n "${3:-}" ] && extra=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "  %5.1f%% of cat", 100 * b / a }')
  [ -n "${4:-}" ] && extra="$extra  peak RSS $(awk -v k="$4" 'BEGIN { printf "%.1f MB", k / 1024 }')"
  printf '%-34s %7.2f s %s%s\n' "$1" "$2" "$(mbps "$2")" "$extra"
}
timed() { local t0; t0=$(now); bash -c "$1"; awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

ROUNDS=${ROUNDS:-3}
echo "writer: $WRITER ($BYTES bytes, 100-byte lines); files in $WORK; median of $ROUNDS interleaved rounds"
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cat_file=() g_file=() cat_null=() g_prefix=() file_cpu=() prefix_cpu=() rss_file=0 rss_prefix=0
for ((r = 0; r < ROUNDS; r++)); do
  sync
  cat_file+=("$(timed "$WRITER | cat > $WORK/cat.out")"); rm -f "$WORK/cat.out"; sync
  read -r t rss cpu < <("$BIN" file "$WORK/gardien.out" "$WRITER")
  # SIZE cuts the last line: the daemon completes it with a '\n' (one byte more, nothing less).
  got=$(stat -c %s "$WORK/gardien.out")
  [ "$got" = "$BYTES" ] || [ "$got" = "$((BYTES + 1))" ] || { echo "file sink: $got bytes of $BYTES" >&2; exit 1; }
  rm -f "$WORK/gardien.out"
  g_file+=("$t"); file_cpu+=("$cpu"); ((rss > rss_file)) && rss_file=$rss
  cat_null+=("$(timed "$WRITER | cat > /dev/null")")
  read -r t rss cpu < <("$BIN" prefix /dev/null "$WRITER")
  g_prefix+=("$t"); prefix_cpu+=("$cpu"); ((rss > rss_prefix)) && rss_prefix=$rss
done
cf=$(echo "${cat_file[*]}" | median) gf=$(echo "${g_file[*]}" | median)
cn=$(echo "${cat_null[*]}" | median) gp=$(echo "${g_prefix[*]}" | median)
report "cat > FILE" "$cf"
report "gardien file sink" "$gf" "$cf" "$rss_file"
report "cat > /dev/null" "$cn"
report "gardien prefix sink > /dev/null" "$gp" "$cn" "$rss_prefix"
echo "  all rounds, wall seconds: cat>FILE ${cat_file[*]} | file sink ${g_file[*]}"
echo "                            cat>/dev/null ${cat_null[*]} | prefix ${g_prefix[*]}"
echo "  daemon CPU seconds: file sink ${file_cpu[*]} | prefix ${prefix_cpu[*]}"

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
  t0=$(now)
  supervisord -c "$WORK/sv/supervisord.conf" > /dev/null 2>&1 &
  sv=$!
  while [ "$(stat -c %s "$WORK/sv/bench.out" 2> /dev/null || echo 0)" -lt "$BYTES" ]; do sleep 0.02; done
  sv_time=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
  sv_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$sv/status")
  kill "$sv"; wait "$sv" 2> /dev/null || true
  report "supervisord $(supervisord -v) file (one run)" "$sv_time" "$cf" "$sv_rss"
fi
