#!/usr/bin/env bash
# The control socket's figures, on this machine, in a few seconds:
#   1. `gardienctl status` with 100 programs, and stop then start of one program: measured by
#      bench/compare (the one implementation, which also runs the peers), gardien alone here.
#   2. 1000 sequential `gardienctl status` calls: the daemon's RSS and fd count before and after.
# Usage: bench/ctl.sh [BUILD_DIR]   (default: build; `make build` first)
# The daemon it starts is shut down on exit, even on failure or Ctrl-C.
set -euo pipefail

BUILD=${1:-build}
GARDIEN=$BUILD/supervisord/gardien
CTL=$BUILD/ctl/gardienctl
for bin in "$GARDIEN" "$CTL"; do
  [[ -x $bin ]] || { echo "missing $bin: run 'make build' first" >&2; exit 2; }
done
WORK=$(mktemp -d /tmp/gardien-bench.XXXXXX)
SOCK=$WORK/gardien.sock
DAEMON=

cleanup() {
  if [[ -n $DAEMON ]] && kill -0 "$DAEMON" 2>/dev/null; then
    "$CTL" --socket "$SOCK" shutdown >/dev/null 2>&1 || kill -KILL "$DAEMON" 2>/dev/null || true
    wait "$DAEMON" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$(dirname "$0")/compare" --build "$BUILD" --only control --systems gardien --reps "${REPS:-3}"

{
  echo '[supervisor]'
  echo 'log-level = "warn"'
  for i in $(seq -w 1 100); do
    printf '[program.p%s]\ncommand = ["sleep", "3600"]\nstart-seconds = "0"\n' "$i"
  done
} >"$WORK/gardien.toml"

"$GARDIEN" -c "$WORK/gardien.toml" --socket "$SOCK" >/dev/null 2>"$WORK/gardien.log" &
DAEMON=$!
for ((i = 0; i < 500; i++)); do
  "$CTL" --socket "$SOCK" status >/dev/null 2>&1 && break
  sleep 0.02
done
"$CTL" --socket "$SOCK" status >/dev/null || { echo "the daemon did not come up" >&2; exit 1; }

# 2. RSS and fds of the daemon before and after 1000 sequential calls.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DAEMON/status"; }
fds() { ls "/proc/$DAEMON/fd" | wc -l; }
rss0=$(rss); fd0=$(fds)
for ((i = 0; i < 1000; i++)); do "$CTL" --socket "$SOCK" status >/dev/null; done
rss1=$(rss); fd1=$(fds)
echo "1000 sequential status calls: daemon RSS ${rss0} kB -> ${rss1} kB, fds ${fd0} -> ${fd1}"
