#!/bin/bash
# systemd_unit_test.sh SOURCE_DIR BUILD_DIR: `systemd-analyze verify` finds nothing to say about
# etc/systemd/gardien.service. verify wants the Exec binaries to exist, so it reads a copy that
# names the built ones. Exit 77 (skipped) where verify cannot run at all.
set -euo pipefail
src=$1 build=$2
command -v systemd-analyze >/dev/null ||
  { echo "SKIP: no systemd-analyze (the systemd package; make test-deps installs it)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# verify exits 0 on unknown keys and bad values (it only warns): any output is a failure.
verify() { systemd-analyze verify --man=no "$1" >"$tmp/out" 2>&1 && [[ ! -s $tmp/out ]]; }

# A unit that cannot be wrong: when verify rejects it, this host cannot run verify.
cat >"$tmp/probe.service" <<UNIT
[Service]
ExecStart=$(command -v true)
UNIT
verify "$tmp/probe.service" || { echo "SKIP: systemd-analyze verify cannot run here:"; cat "$tmp/out"; exit 77; }

sed -e "s|=/usr/sbin/gardien |=$build/supervisord/gardien |" \
    -e "s|=/usr/bin/gardienctl |=$build/ctl/gardienctl |" \
    "$src/etc/systemd/gardien.service" >"$tmp/gardien.service"
grep -q "^ExecStart=$build/" "$tmp/gardien.service" && grep -q "^ExecReload=$build/" "$tmp/gardien.service" ||
  { echo "FAIL: ExecStart/ExecReload do not name /usr/sbin/gardien and /usr/bin/gardienctl"; exit 1; }
if ! verify "$tmp/gardien.service"; then
  echo "FAIL: systemd-analyze verify etc/systemd/gardien.service (with the built binaries):"
  cat "$tmp/out"
  exit 1
fi
echo "ok: systemd-analyze verify etc/systemd/gardien.service"
