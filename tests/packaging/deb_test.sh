#!/bin/bash
# deb_test.sh SOURCE_DIR OUT_DIR [DEB]: the Debian package, end to end, in fresh Debian 12 roots
# (debian_root.sh). Without DEB, `make deb` runs in a fresh root given only the source, make and
# what `make deb` installs itself; its .deb is copied to OUT_DIR. Then lintian has no error to
# report on it, and in another fresh root `apt-get install ./gardien_*.deb` brings in only the
# package's declared dependencies, after which gardien --version, gardien check of the packaged
# example and gardienctl --help work, the unit is installed but not enabled, and gardien -c of
# the packaged example answers `gardienctl status` and stops on SIGTERM. Last, man-db (which the
# package does not need) goes into that root so that `man gardienctl` can show the page.
# Exit 77 (skip) with the reason when debian_root.sh cannot make a root here. Needs root, the
# Debian mirror and minutes: `make test-package`, never `make test`.
set -euo pipefail
src=$(cd "$1" && pwd)
out=$2
deb=${3:-}
here=$(cd "$(dirname "$0")" && pwd)

[[ $(id -u) == 0 ]] || { echo "SKIP: installing a package into a chroot needs root"; exit 77; }
command -v lintian >/dev/null || { echo "SKIP: lintian is not installed (make test-package installs it)"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) is missing"; exit 77; }

work=$(mktemp -d /var/tmp/gardien-deb-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
step() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# A fresh root, or the skip of debian_root.sh passed on.
new_root() {
  local rc=0
  "$here/debian_root.sh" "$1" || rc=$?
  ((rc == 0)) || exit "$rc"
}

# Runs a command in ROOT as its own PID 1's child with its own /proc (both gone when it ends,
# with every process it left), with a clean environment.
in_root() {
  local root=$1
  shift
  unshare --pid --fork --mount-proc="$root/proc" chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# The source as `make deb` copies it: the files git knows, else all but build*.
copy_source() {
  local dest=$1
  mkdir -p "$dest"
  (cd "$src" &&
    if git rev-parse --git-dir >/dev/null 2>&1; then
      git ls-files --cached --others --exclude-standard | while read -r f; do [[ ! -e $f ]] || echo "$f"; done
    else
      find . \( -name .git -o -path './build*' \) -prune -o \( -type f -o -type l \) -print
    fi | tar -cf - --no-recursion -T -) | tar -C "$dest" -xf -
}

if [[ -z $deb ]]; then
  step "make deb in a fresh Debian 12 root"
  new_root "$work/build-root"
  copy_source "$work/build-root/src"
  in_root "$work/build-root" apt-get update -qq || fail "apt-get update in the build root"
  in_root "$work/build-root" apt-get install -y -qq --no-install-recommends make >"$work/make.log" 2>&1 ||
    { cat "$work/make.log"; fail "apt-get install make in the build root"; }
  in_root "$work/build-root" sh -c 'cd /src && make deb JOBS="$(nproc)"' ||
    fail "make deb in a fresh root"
  cp "$work"/build-root/src/build/deb/gardien_*_amd64.deb "$out/" || fail "make deb wrote no .deb"
  deb=$(ls "$work"/build-root/src/build/deb/gardien_*_amd64.deb)
  deb=$out/$(basename "$deb")
  rm -rf "$work/build-root"
fi
[[ -f $deb ]] || fail "no package $deb"
version=$(dpkg-deb -f "$deb" Version)

step "lintian $(basename "$deb")"
lintian --fail-on error --pedantic -I "$deb" || fail "lintian reports errors on $deb"

step "apt-get install ./$(basename "$deb") in a fresh Debian 12 root"
root=$work/root
new_root "$root"
cp "$deb" "$root/tmp/"
in_root "$root" dpkg-query -W -f='${Package}\n' | sort >"$work/before"
in_root "$root" apt-get update -qq || fail "apt-get update in the root"
in_root "$root" apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; fail "apt-get install of the .deb"; }
in_root "$root" dpkg-query -W -f='${Package}\n' | sort >"$work/after"
echo "packages it brought in: $(comm -13 "$work/before" "$work/after" | tr '\n' ' ')"

step "the installed programs"
in_root "$root" gardien --version | grep -qx "gardien $version" ||
  fail "gardien --version does not say $version: $(in_root "$root" gardien --version)"
example=/usr/share/doc/gardien/examples/gardien.toml
in_root "$root" gardien check -c "$example" || fail "gardien check -c $example"
in_root "$root" gardienctl --help >"$work/help" || fail "gardienctl --help"
grep -q status "$work/help" || fail "gardienctl --help names no status verb"

step "the unit is installed, not enabled"
[[ -f $root/lib/systemd/system/gardien.service ]] || fail "no /lib/systemd/system/gardien.service"
enabled=$(find "$root/etc/systemd/system" -name 'gardien.service' 2>/dev/null || true)
[[ -z $enabled ]] || fail "the unit is enabled: $enabled"

step "gardien -c $example answers gardienctl status, stops on SIGTERM"
cat >"$root/tmp/run_example.sh" <<'SCRIPT'
#!/bin/sh
# Starts the packaged example, waits (10 s at most) for `gardienctl status` to list its programs,
# then stops gardien with SIGTERM and returns gardien's exit code.
set -u
sock=/run/gardien-test/gardien.sock
mkdir -p /run/gardien-test
gardien -c /usr/share/doc/gardien/examples/gardien.toml --socket "$sock" >/tmp/gardien.log 2>&1 &
pid=$!
tries=0
until gardienctl --socket "$sock" status >/tmp/status 2>&1 && grep -q web /tmp/status; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "gardienctl status did not answer with the example's programs:"; cat /tmp/status /tmp/gardien.log
    exit 1
  fi
  sleep 0.1
done
cat /tmp/status
kill -TERM "$pid"
wait "$pid"
SCRIPT
in_root "$root" sh /tmp/run_example.sh || fail "gardien -c of the packaged example (exit $?)"

step "man gardienctl (after apt-get install man-db, which the package does not need)"
in_root "$root" apt-get install -y -qq --no-install-recommends man-db >"$work/man-db.log" 2>&1 ||
  { cat "$work/man-db.log"; fail "apt-get install man-db"; }
in_root "$root" env MANPAGER=cat MANWIDTH=80 man gardienctl >"$work/man" 2>"$work/man.err" ||
  { cat "$work/man.err"; fail "man gardienctl"; }
grep -q '^NAME' "$work/man" && grep -q 'gardienctl' "$work/man" || fail "man gardienctl shows no page"
[[ ! -s $work/man.err ]] || { cat "$work/man.err"; fail "man gardienctl warns"; }

echo "ok: $(basename "$deb") builds, passes lintian, installs and runs in a fresh Debian 12 root"
