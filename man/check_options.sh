#!/bin/sh
# Every option a program's --help lists (and its subcommands' options) is named in bold in its
# man page's source: check_options.sh BINARY PAGE.scd [SUBCOMMAND...]
binary=$1 page=$2
shift 2
status=0
check_help() {
  # Option lines of CLI11's help: "  -c,--config TEXT   ..." -> -c and --config.
  for option in $("$@" --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' ' '); do
    if ! grep -qF -- "*$option*" "$page"; then
      echo "$page does not name $* $option (as *$option*)"
      status=1
    fi
  done
}
check_help "$binary"
for subcommand in "$@"; do
  if ! grep -qF -- "*$(basename "$binary") $subcommand*" "$page"; then
    echo "$page does not name the subcommand $subcommand"
    status=1
  fi
  check_help "$binary" "$subcommand"
done
[ "$status" = 0 ] && echo "$page names every option of $(basename "$binary") $*"
exit "$status"
