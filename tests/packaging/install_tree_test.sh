#!/bin/bash
# install_tree_test.sh SOURCE_DIR BUILD_DIR: `make install` with DESTDIR and PREFIX writes the tree
# README.md shows (the man pages' own test checks share/man), with the unit naming the installed
# binaries; the installed programs run; `make uninstall` removes every file it wrote.
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
# The list of a real `make install` in this build tree is the user's `make uninstall`: kept.
manifest=$build/install_manifest.txt
[[ ! -f $manifest ]] || cp -p "$manifest" "$tmp/manifest.saved"
cleanup() {
  if [[ -f $tmp/manifest.saved ]]; then cp -p "$tmp/manifest.saved" "$manifest"; else rm -f "$manifest"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# A make above (make test) must not hand its jobserver or flags to this one.
unset MAKEFLAGS MFLAGS MAKELEVEL
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The files below DESTDIR, relative to it, sorted; share/man is the man pages' own.
tree_of() { (cd "$1" && find . -type f -o -type l) | sed 's|^\./||' | { grep -v "/share/man/" || true; } | sort; }

expected_tree() {
  local prefix=${1#/}
  sed "s|^|$prefix/|" <<'TREE' | sort
bin/gardienctl
lib/systemd/system/gardien.service
sbin/gardien
share/bash-completion/completions/gardienctl
share/doc/gardien/examples/container.toml
share/doc/gardien/examples/gardien.toml
share/doc/gardien/examples/webapp.d/cleanup.toml
share/doc/gardien/examples/webapp.toml
share/fish/vendor_completions.d/gardienctl.fish
share/zsh/vendor-completions/_gardienctl
TREE
}

check_prefix() {
  local prefix=$1 root=$tmp/root$2
  shift 2
  make -s -C "$src" install BUILD="$build" DESTDIR="$root" "$@" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "make install $*"; return; }
  diff <(expected_tree "$prefix") <(tree_of "$root") >"$tmp/diff" ||
    { fail "make install $* wrote another tree than README.md's (< expected, > written):"; cat "$tmp/diff"; }
  [[ -x $root$prefix/sbin/gardien && -x $root$prefix/bin/gardienctl ]] || fail "binaries not executable"
  "$root$prefix/sbin/gardien" --version | grep -q '^gardien ' || fail "installed gardien --version"
  "$root$prefix/bin/gardienctl" --version | grep -q '^gardienctl ' || fail "installed gardienctl --version"
  "$root$prefix/sbin/gardien" check "$root$prefix/share/doc/gardien/examples/gardien.toml" >/dev/null ||
    fail "gardien check of the installed example"
  local unit=$root$prefix/lib/systemd/system/gardien.service
  grep -qx "ExecStart=$prefix/sbin/gardien -c /etc/gardien/gardien.toml --socket /run/gardien/gardien.sock" "$unit" ||
    fail "the installed unit's ExecStart does not name $prefix/sbin/gardien: $(grep ExecStart= "$unit")"
  grep -qx "ExecReload=$prefix/bin/gardienctl --socket /run/gardien/gardien.sock reload" "$unit" ||
    fail "the installed unit's ExecReload does not name $prefix/bin/gardienctl: $(grep ExecReload= "$unit")"
  cmp -s "$src/etc/gardienctl.bash-completion" "$root$prefix/share/bash-completion/completions/gardienctl" ||
    fail "installed bash completion differs from etc/gardienctl.bash-completion"
  grep -qx "$prefix/sbin/gardien" "$manifest" || fail "install_manifest.txt lacks sbin/gardien"

  make -s -C "$src" uninstall BUILD="$build" DESTDIR="$root" >"$tmp/uninstall.log" 2>&1 ||
    { cat "$tmp/uninstall.log"; fail "make uninstall"; return; }
  local left
  left=$(tree_of "$root")
  [[ -z $left ]] || fail "make uninstall left files: $left"
  [[ ! -e $root$prefix/share/doc/gardien ]] || fail "make uninstall left share/doc/gardien"
}

check_prefix /usr/local /default         # PREFIX's default
check_prefix /usr /usr PREFIX=/usr

((failures == 0)) || exit 1
echo "ok: make install and make uninstall"
