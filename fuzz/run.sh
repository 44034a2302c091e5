#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS (docs/fuzzing.md). Usage: fuzz/run.sh BUILD_DIR SECONDS
# [TARGET...] (targets: config protocol notify schedule history). New inputs go to
# BUILD_DIR/corpus/TARGET (the committed fuzz/corpus/TARGET is only read); crashes, timeouts,
# leaks and OOMs to BUILD_DIR/artifacts/TARGET.
# Exits non-zero when any target fails, after printing the failing input's path. FUZZ_FLAGS adds
# libFuzzer flags (e.g. FUZZ_FLAGS=-len_control=0 to try long inputs at once).
set -uo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}")
seconds=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config protocol notify schedule history)

declare -A max_len=([config]=16384 [protocol]=8192 [notify]=4096 [schedule]=1024 [history]=16384)
failed=()
for target in "${targets[@]}"; do
  binary=$build/fuzz/${target}_fuzz
  work=$build/corpus/$target
  artifacts=$build/artifacts/$target
  log=$build/logs/$target.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  marker=$(mktemp)
  echo "== fuzzing $target for ${seconds}s (log: $log)"
  # -timeout: one input over 10 s is a hang; -rss_limit_mb: a blow-up is a failure, not a swap.
  "$binary" "$work" "fuzz/corpus/$target" -dict="fuzz/$target.dict" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$target]}" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
  status=$?
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|stat::average_exec_per_sec' "$log"
  if [ $status -ne 0 ]; then
    tail -n 60 "$log"
    inputs=$(find "$artifacts" -type f -newer "$marker")
    echo "FAILED: ${target}_fuzz exited with $status; failing input(s):"
    for input in $inputs; do echo "  $input   (replay: $binary $input)"; done
    failed+=("$target")
  fi
  rm -f "$marker"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "fuzzing passed: ${targets[*]}"
