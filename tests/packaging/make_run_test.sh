#!/bin/bash
# make_run_test.sh SOURCE_DIR: `make run` keeps installing what is missing and builds only what
# it runs: the targets it names compile no test, helper or benchmark (in a fresh build tree,
# dry run), and it runs the daemon built there.
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset MAKEFLAGS MFLAGS MAKELEVEL
build=$tmp/build

plan=$(make -n -C "$src" run BUILD="$build")
grep -q "apt-get install" <<<"$plan" || { echo "FAIL: make run no longer installs missing packages"; exit 1; }
grep -q "^exec $build/supervisord/gardien -c " <<<"$plan" || { echo "FAIL: make run runs no gardien:"; echo "$plan"; exit 1; }
builds=$(grep "^cmake --build " <<<"$plan")
[[ $(wc -l <<<"$builds") == 1 && $builds == *" --target "* ]] ||
  { echo "FAIL: make run builds more than named targets:"; echo "$builds"; exit 1; }
targets=${builds#* --target }

cmake -S "$src" -B "$build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; exit 1; }
# Every target those need, from the generated "DIR/CMakeFiles/T.dir/all: DEPENDENCY" lines.
edges=$(grep -E '^[^ :]+\.dir/all: [^ ]+\.dir/all$' "$build/CMakeFiles/Makefile2" | sed 's/: / /')
needed=$(for t in $targets; do grep -oE "^[^ ]*/$t\.dir/all" <<<"$edges" | head -1; done)
[[ $(wc -w <<<"$needed") == $(wc -w <<<"$targets") ]] || { echo "FAIL: no target for some of: $targets"; exit 1; }
while true; do
  more=$(printf '%s\n' $needed | sort -u | while read -r t; do awk -v t="$t" '$1 == t { print $2 }' <<<"$edges"; done)
  all=$(printf '%s\n' $needed $more | sort -u)
  [[ $all == "$(printf '%s\n' $needed | sort -u)" ]] && break
  needed=$all
done
extra=$(grep -vE '^(common|supervisord|ctl)/' <<<"$all" || true)
[[ -z $extra ]] || { echo "FAIL: make run ($targets) would also build:"; echo "$extra"; exit 1; }
echo "ok: make run builds only $targets, which need: $(sed -E 's|.*/([^/]+)\.dir/all|\1|' <<<"$all" | tr '\n' ' ')"
