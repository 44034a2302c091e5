#!/bin/sh
# Renders each man page given with groff's warnings on (-ww) and fails on any warning or error,
# as `man` would show them. Exit code 77 (a skip for ctest) when groff is not installed.
if ! command -v groff >/dev/null 2>&1; then
  echo "groff is not installed (Debian: groff-base): the man pages' rendering is not checked"
  exit 77
fi
status=0
for page in "$@"; do
  if [ ! -f "$page" ]; then
    echo "$page: not built (cmake --build BUILD --target man)"
    status=1
    continue
  fi
  # The default device, then the terminal's width and character set, as man(1) renders it.
  for device in ps utf8; do
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 groff -ww -z -man -T"$device" "$page" 2>&1)
    if [ -n "$warnings" ]; then
      printf '%s (groff -T%s):\n%s\n' "$page" "$device" "$warnings"
      status=1
    fi
  done
  if LC_ALL=C grep -q '[^[:print:][:space:]]' "$page"; then
    echo "$page: has non-ASCII bytes (write them as groff escapes)"
    status=1
  fi
done
[ "$status" = 0 ] && echo "rendered without warnings: $*"
exit "$status"
