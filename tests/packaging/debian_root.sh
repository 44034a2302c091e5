#!/bin/bash
# debian_root.sh DIR [PACKAGE...]: makes DIR (absent or empty) a fresh Debian 12 (bookworm) root,
# debootstrap's minbase variant plus the PACKAGEs, from the Debian mirror the host's apt uses (the
# one CI reaches). Exit 77 with the reason on stdout when it cannot run here: not root, no
# debootstrap (and apt cannot install it), the mirror unreachable.
#
# debootstrap takes minutes, so one pristine root per PACKAGE list is kept as a tarball and each
# caller gets a fresh copy of it (seconds). The cache:
#   - lives in $GARDIEN_DEBIAN_ROOT_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/gardien-test;
#   - is keyed by the suite, the variant, the mirror, the PACKAGE list and this script's own
#     content (a sha256 in the tarball's name): changing any of them builds a new tarball;
#   - is rebuilt when older than GARDIEN_DEBIAN_ROOT_MAX_DAYS (7 by default), so that the
#     mirror's updates come in; GARDIEN_DEBIAN_ROOT_REFRESH=1 rebuilds it now; deleting the
#     directory is always safe. Tarballs of other keys are deleted once as old as that.
# Concurrent callers wait on a lock while one of them builds the tarball.
#
# The root's apt sources name the same mirror, so `chroot DIR apt-get install` works once the
# caller has copied /etc/resolv.conf (done here) and mounted what it needs (/proc, /dev).
set -euo pipefail

readonly suite=bookworm variant=minbase
skip() { echo "SKIP: $*"; exit 77; }
die() { echo "debian_root.sh: $*" >&2; exit 1; }

(($# >= 1)) || die "usage: debian_root.sh DIR [PACKAGE...]"
dir=$1
shift
packages=("$@")

[[ $(id -u) == 0 ]] || skip "building a Debian root needs root (debootstrap, chroot)"
if [[ -d $dir && -n $(ls -A "$dir") ]]; then die "$dir is not empty"; fi

# The first URI of the host's apt sources that serves $suite itself (not -security or -updates).
host_mirror() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++;
                         if ($2 ~ /^\[/) i++; if ($(i + 1) == s) { print $i; exit } }' "$file"
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    # deb822 stanzas: one URI line and one Suites line each, separated by blank lines.
    awk -v s="$suite" 'BEGIN { RS = "" } /(^|\n)Types:[^\n]*deb( |\n|$)/ {
                         if (match($0, /(^|\n)Suites:[^\n]*/) &&
                             (" " substr($0, RSTART, RLENGTH) " ") ~ (" " s " ") &&
                             match($0, /(^|\n)URIs:[ \t]*[^ \t\n]+/)) {
                           u = substr($0, RSTART, RLENGTH); sub(/^\n?URIs:[ \t]*/, "", u); print u; exit } }' "$file"
  done
}
mirror=${GARDIEN_DEBIAN_MIRROR:-$(host_mirror | head -n1)}
[[ -n $mirror ]] || skip "no Debian $suite mirror in the host's apt sources (set GARDIEN_DEBIAN_MIRROR)"

if ! command -v debootstrap >/dev/null; then
  echo "debian_root.sh: installing debootstrap"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      debootstrap; } >&2 || skip "debootstrap is missing and apt-get could not install it"
fi

cache_dir=${GARDIEN_DEBIAN_ROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gardien-test}
key=$({ echo "$suite $variant $mirror ${packages[*]}"; cat "$0"; } | sha256sum | cut -c1-16)
tarball=$cache_dir/debian-$suite-$variant-$key.tar
max_days=${GARDIEN_DEBIAN_ROOT_MAX_DAYS:-7}
mkdir -p "$cache_dir" || die "cannot create the cache directory $cache_dir"

# Builds the pristine root into a temporary directory and packs it (under the lock).
build_tarball() {
  # apt's own fetcher honours the host's proxy settings, as debootstrap's wget then does.
  timeout 60 /usr/lib/apt/apt-helper download-file "$mirror/dists/$suite/Release" \
      "$cache_dir/Release.probe" >/dev/null 2>&1 ||
    { rm -f "$cache_dir/Release.probe"; skip "the Debian mirror $mirror is unreachable"; }
  rm -f "$cache_dir/Release.probe"
  local build include=()
  build=$(mktemp -d "$cache_dir/root.XXXXXX")
  ((${#packages[@]} == 0)) || include=(--include="$(IFS=,; echo "${packages[*]}")")
  echo "debian_root.sh: debootstrap $variant $suite from $mirror ${packages[*]} (minutes; cached after)" >&2
  if ! debootstrap --variant="$variant" "${include[@]}" "$suite" "$build" "$mirror" \
      >"$cache_dir/debootstrap.log" 2>&1; then
    tail -n 30 "$cache_dir/debootstrap.log" >&2
    rm -rf "$build"
    # A container that denies root mount or mknod cannot hold a chroot: that is the machine's
    # limit, not a fault of the package or the recipes.
    denied=$(grep -m1 -E 'Operation not permitted|Permission denied' "$cache_dir/debootstrap.log" || true)
    [[ -z $denied ]] || skip "this machine does not let root build a chroot: $denied"
    die "debootstrap failed (log: $cache_dir/debootstrap.log)"
  fi
  # Package lists are large and go stale: a caller that installs runs apt-get update.
  rm -rf "$build"/var/lib/apt/lists/* "$build"/var/cache/apt/archives/*.deb
  # mktemp's 0700 would be the root's /, closing it to every user but root (_apt, man).
  chmod 755 "$build"
  tar -C "$build" --numeric-owner -cpf "$tarball.part" . || die "cannot pack the root into $tarball"
  mv "$tarball.part" "$tarball"
  rm -rf "$build"
}

exec {lock}>"$cache_dir/lock"
flock "$lock"
# Tarballs of other keys (an older version of this script) go once they are stale too.
find "$cache_dir" -maxdepth 1 -name 'debian-*.tar' -mtime "+$max_days" -delete
if [[ ${GARDIEN_DEBIAN_ROOT_REFRESH:-0} == 1 ]] ||
   [[ -z $(find "$tarball" -mtime "-$max_days" 2>/dev/null) ]]; then
  rm -f "$cache_dir"/debian-$suite-$variant-"$key".tar
  build_tarball
fi
flock -u "$lock"

mkdir -p "$dir"
tar -C "$dir" --numeric-owner -xpf "$tarball" || die "cannot unpack $tarball into $dir"
cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
echo "debian_root.sh: $dir is a fresh Debian $suite root" >&2
