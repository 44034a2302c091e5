#!/bin/bash
# container_recipes_test.sh SOURCE_DIR DEB: builds each image of etc/examples/docker without a
# container engine (tests/packaging/dockerfile_build.sh on a fresh Debian 12 root, with DEB, the
# package of `make deb`), runs it as `docker run` would (ENTRYPOINT + CMD as PID 1 in new pid,
# mount, uts, ipc and, where allowed, network namespaces, rooted in the image), stops it as
# `docker stop -t 10` does (STOPSIGNAL to PID 1, SIGKILL 10 s later), and checks gardien's exit
# code, that the application ended by its own SIGTERM handler or gardien's SIGKILL (never the
# runtime's), and that no process of the container is left. Exit 77 with the reason on stdout
# when it cannot run here (not root, no unshare, no Debian root).
set -euo pipefail
src=$(realpath "$1") deb=$(realpath "$2")
skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "the containers need root (unshare of pid and mount namespaces)"
command -v unshare >/dev/null || skip "no unshare (util-linux)"
unshare --pid --fork --mount-proc --mount --uts --ipc true 2>/dev/null ||
  skip "unshare cannot make pid, mount, uts and ipc namespaces here"
net_allowed=false
unshare --net true 2>/dev/null && net_allowed=true
$net_allowed || echo "note: no network namespace allowed here: the containers use the host's network"

tmp=$(mktemp -d)
container="" pid1=""
# A container still running (the test failed midway) goes with its image.
cleanup() {
  if [[ -n $container ]] && kill -0 "$container" 2>/dev/null; then
    kill -KILL "$pid1" 2>/dev/null || true
    wait "$container" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
now_us() { echo "${EPOCHREALTIME/./}"; }

# poll SECONDS CHECK...: runs CHECK every 50 ms until it succeeds, or fails once SECONDS passed.
poll() {
  local deadline=$(($(now_us) + $1 * 1000000))
  shift
  until "$@"; do
    (($(now_us) < deadline)) || return 1
    sleep 0.05
  done
}

[[ -f $deb && $deb == */gardien_*_amd64.deb ]] || { echo "FAIL: no package gardien_*_amd64.deb: $deb"; exit 1; }

# build_image RECIPE: the image's root in $tmp/RECIPE/root, its config in $tmp/RECIPE/image. The
# build context is the recipe's directory, the .deb and the example configs, as docs/container.md
# tells users to assemble it.
build_image() {
  local recipe=$1 dir=$tmp/$1 status=0
  mkdir -p "$dir/context"
  cp -p "$src/etc/examples/docker/$recipe"/* "$deb" "$src"/etc/examples/*.toml "$dir/context/"
  "$src/tests/packaging/debian_root.sh" "$dir/root" || status=$?
  ((status != 77)) || exit 77
  ((status == 0)) || { echo "FAIL: debian_root.sh $dir/root exited $status"; exit 1; }
  local start
  start=$(now_us)
  "$src/tests/packaging/dockerfile_build.sh" "$dir/context" "$dir/root" "$dir/image" >"$dir/build.log" 2>&1 ||
    { tail -n 40 "$dir/build.log"; fail "building the image of etc/examples/docker/$recipe"; return 1; }
  echo "built etc/examples/docker/$recipe in $((($(now_us) - start) / 1000)) ms"
}

# start_container RECIPE [COMMAND...]: `docker run` of the image, with COMMAND instead of its CMD
# when given; its output goes to $tmp/RECIPE/output. Sets container (the host pid of the unshare
# that waits for PID 1), pid1 (PID 1's host pid) and pid_namespace (PID 1's namespace).
start_container() {
  local recipe=$1 dir=$tmp/$1
  shift
  local entrypoint cmd environment workdir stopsignal
  # shellcheck source=/dev/null
  source "$dir/image"
  (($# == 0)) || cmd=("$@")
  # docker brings the loopback up in the container's network namespace before its PID 1 starts.
  local network=()
  ! $net_allowed || network=(unshare --net -- /bin/sh -c 'ip link set lo up && exec "$@"' sh)
  env -i "${environment[@]}" "${network[@]}" unshare --pid --fork --mount-proc --mount --uts --ipc \
    --root="$dir/root" --wd="$workdir" -- "${entrypoint[@]}" "${cmd[@]}" </dev/null >"$dir/output" 2>&1 &
  container=$!
  container_signal=$stopsignal
  poll 10 pid1_started || { fail "$recipe: PID 1 did not start"; cat "$dir/output"; return 1; }
}

# The child of the unshare that lives in another pid namespace (not the `ip` the shell ran).
pid1_started() {
  local child
  for child in $(pgrep -P "$container"); do
    pid_namespace=$(readlink "/proc/$child/ns/pid" 2>/dev/null) || continue
    [[ $pid_namespace != "$(readlink /proc/self/ns/pid)" ]] || continue
    pid1=$child
    return 0
  done
  return 1
}

pid1_gone() { [[ ! -e /proc/$pid1 ]]; }

# docker_stop SECONDS: the image's STOPSIGNAL to PID 1, then SIGKILL if it is still there after
# SECONDS. Sets status (the container's exit code), runtime_killed and stop_ms.
docker_stop() {
  local start
  start=$(now_us)
  kill -s "${container_signal#SIG}" "$pid1"
  runtime_killed=false
  if ! poll "$1" pid1_gone; then
    kill -KILL "$pid1"
    runtime_killed=true
  fi
  status=0
  wait "$container" || status=$?
  stop_ms=$((($(now_us) - start) / 1000))
}

# Processes left of the container: in its pid namespace, or rooted in its image.
survivors() {
  local root=$tmp/$1/root process
  for process in /proc/[0-9]*; do
    if [[ $(readlink "$process/ns/pid" 2>/dev/null) == "$pid_namespace" ||
          $(readlink "$process/root" 2>/dev/null) == "$root" ]]; then
      echo "${process#/proc/} $(tr '\0' ' ' <"$process/cmdline" 2>/dev/null)"
    fi
  done
}

# check_stopped RECIPE CASE EXPECTED_STATUS OUTPUT_LINE: after docker_stop.
check_stopped() {
  local recipe=$1 case=$2 expected=$3 line=$4 left failures_before=$failures
  echo "$recipe ($case): docker stop took $stop_ms ms, exit code $status"
  ((status == expected)) || fail "$recipe ($case): exit code $status, docs/container.md says $expected"
  ! $runtime_killed || fail "$recipe ($case): still running after docker stop's 10 s: SIGKILLed"
  grep -qF -- "$line" "$tmp/$recipe/output" || fail "$recipe ($case): the output lacks \"$line\""
  left=$(survivors "$recipe")
  [[ -z $left ]] || fail "$recipe ($case): processes of the container survived: $left"
  if ((failures > failures_before)); then
    echo "--- output of $recipe ($case)"
    cat "$tmp/$recipe/output"
  fi
}

app_up() { grep -q '^app: up' "$tmp/command/output"; }

# `gardien --grace 8s -- app`: app exits 0 on SIGTERM, and gardien with it.
test_command() {
  start_container command || return
  poll 10 app_up || fail "command: the app did not say it is up"
  docker_stop 10
  check_stopped command "app exits on SIGTERM" 0 "app: SIGTERM, exiting"
  # An app that ignores SIGTERM: gardien's grace (8 s) SIGKILLs it before docker stop's would.
  start_container command /usr/local/bin/app --ignore-sigterm || return
  poll 10 app_up || fail "command: the app did not say it is up"
  docker_stop 10
  check_stopped command "app ignores SIGTERM" 137 "app: up"
  ((stop_ms >= 8000)) || fail "command (app ignores SIGTERM): stopped after $stop_ms ms, before the 8 s grace"
}

# An HTTP request to the proxy (port 80) in the container's network, answered by the app.
proxy_answers() {
  nsenter --target "$pid1" --net -- bash -c \
    'exec 3<>/dev/tcp/127.0.0.1/80 && printf "GET / HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>/dev/null |
    grep -q "hello from the app"
}

# The status gardienctl (the image's) gives over the control socket of container.toml.
status_of() { chroot "$tmp/config/root" /usr/bin/gardienctl --socket /run/gardien.sock status; }
all_running() { [[ $(status_of 2>/dev/null | grep -c running) == 3 ]]; }

# `gardien -c /etc/gardien.toml` with container.toml: app, metrics and proxy, stopped gracefully.
test_config() {
  start_container config || return
  poll 20 proxy_answers || fail "config: no answer of the app through the proxy on port 80"
  poll 10 all_running || fail "config: app, metrics and proxy not all running: $(status_of 2>&1)"
  status_of || true
  docker_stop 10
  check_stopped config "graceful shutdown" 0 "server: SIGTERM, exiting"
}

# An instruction the interpreter does not know fails the build, loudly.
unknown_instruction_fails() {
  local context=$tmp/unknown root=$tmp/unknown/root
  mkdir -p "$root/bin" "$root/etc" "$root/usr/sbin"
  touch "$root/etc/debian_version"
  install -m 755 /dev/null "$root/bin/sh"
  printf 'FROM debian:bookworm-slim\nEXPOSE 80\n' >"$context/Dockerfile"
  if "$src/tests/packaging/dockerfile_build.sh" "$context" "$root" "$context/image" >"$context/log" 2>&1 ||
     ! grep -q "instruction EXPOSE is not supported" "$context/log"; then
    fail "an unknown instruction did not fail the build: $(cat "$context/log")"
  fi
}
unknown_instruction_fails

for recipe_dir in "$src"/etc/examples/docker/*/; do
  recipe=$(basename "$recipe_dir")
  declare -F "test_$recipe" >/dev/null || { fail "etc/examples/docker/$recipe has no test here"; continue; }
  build_image "$recipe" || continue
  "test_$recipe"
done

((failures == 0)) || exit 1
echo "ok: the images of etc/examples/docker build, run gardien as PID 1 and stop as docker stop stops them"
