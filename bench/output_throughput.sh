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
WRITER="yes $LINE | head -c $SIZE"
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

echo "writer: $WRITER ($BYTES bytes, 100-byte lines); files in $WORK"
cat_file=$(timed "$WRITER | cat > $WORK/cat.out"); rm -f "$WORK/cat.out"
report "cat > FILE" "$cat_file"
read -r g_file g_file_rss < <("$BIN" file "$WORK/gardien.out" "$WRITER")
[ "$(stat -c %s "$WORK/gardien.out")" = "$BYTES" ] || { echo "file sink lost bytes" >&2; exit 1; }
rm -f "$WORK/gardien.out"
report "gardien file sink" "$g_file" "$cat_file" "$g_file_rss"

cat_null=$(timed "$WRITER | cat > /dev/null")
report "cat > /dev/null" "$cat_null"
read -r g_prefix g_prefix_rss < <("$BIN" prefix /dev/null "$WRITER")
report "gardien prefix sink > /dev/null" "$g_prefix" "$cat_null" "$g_prefix_rss"

if command -v supervisord > /dev/null; then
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
  while [ "$(stat -c %s "$WORK/sv/bench.out" 2> /dev/null || echo 0)" -lt "$BYTES" ]; do sleep 0.05; done
  sv_time=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
  sv_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$sv/status")
  kill "$sv"; wait "$sv" 2> /dev/null || true
  report "supervisord 4 file (logfile)" "$sv_time" "$cat_file" "$sv_rss"
fi
