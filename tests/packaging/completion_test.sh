#!/bin/bash
# completion_test.sh SHELL SOURCE_DIR BUILD_DIR: gardienctl's completion for SHELL (bash, zsh or
# fish) parses, offers the verbs, a verb's options, the states after `wait --for`, the signals
# after `signal`, and the program and instance names of a real daemon reached through --socket.
# Exit 77 (skipped) when SHELL is not installed.
set -euo pipefail
shell=$1 src=$2 build=$3
command -v "$shell" >/dev/null || { echo "SKIP: $shell is not installed (make test-deps installs it)"; exit 77; }

tmp=$(mktemp -d)
daemon=
cleanup() {
  [[ -z $daemon ]] || kill "$daemon" 2>/dev/null || true
  [[ -z $daemon ]] || wait "$daemon" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export PATH="$build/ctl:$PATH"
unset GARDIEN_SOCKET

# The completions SHELL offers for a command line ending with the word being completed, sorted.
complete_line() {
  case $shell in
    bash)
      bash --norc -c 'source "$1"; COMP_LINE=$2; read -ra COMP_WORDS <<<"$2"
        [[ $2 == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _gardienctl
        printf "%s\n" "${COMPREPLY[@]}"' _ "$src/etc/gardienctl.bash-completion" "$1" ;;
    zsh)
      mkdir -p "$tmp/zsh" && cp "$src/etc/gardienctl.zsh-completion" "$tmp/zsh/_gardienctl"
      zsh -f "$src/tests/packaging/zsh_complete.zsh" "$tmp/zsh" "$tmp/zcompdump" "$1" ;;
    fish)
      fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
        "$src/etc/gardienctl.fish-completion" "$1" | cut -f1 ;;
  esac | grep -v '^$' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

failures=0
expect() {
  local line=$1 want=$2 got
  got=$(complete_line "$line" || true)
  if [[ $got != "$want" ]]; then
    echo "FAIL: $shell completes [$line] as [$got], expected [$want]"
    failures=$((failures + 1))
  fi
}

case $shell in
  bash) bash -n "$src/etc/gardienctl.bash-completion" ;;
  zsh) zsh -n "$src/etc/gardienctl.zsh-completion" ;;
  fish) fish -n "$src/etc/gardienctl.fish-completion" ;;
esac

expect "gardienctl " "cancel jobs logs pid reload reopen-logs restart run schedules shutdown signal start status stop version wait"
expect "gardienctl st" "start status stop"
expect "gardienctl run x --w" "--wait"
expect "gardienctl schedules --co" "--config --count"
expect "gardienctl wait web --for " "backoff exited fatal ready running starting stopped stopping"
expect "gardienctl signal " "ALRM CONT HUP INT KILL QUIT STOP TERM TSTP USR1 USR2 WINCH"
expect "gardienctl logs --st" "--stream"
expect "gardienctl logs --stream " "stderr stdout"
expect "gardienctl restart web --timeout " "0 10s 1m 30s 500ms 5m 5s"
expect "gardienctl reload --d" "--dry-run"
# Global options go before or after the verb.
expect "gardienctl --json st" "start status stop"
expect "gardienctl stop --json --socket $tmp/none.sock " "all"

# Names come from the daemon the line names; none reachable: only `all`.
expect "gardienctl --socket $tmp/none.sock stop " "all"
cat >"$tmp/gardien.toml" <<'TOML'
[program.db]
command = "exec sleep infinity"
[program.web]
command = "exec sleep infinity"
instances = 2
TOML
sock=$tmp/gardien.sock
"$build/supervisord/gardien" -c "$tmp/gardien.toml" --socket "$sock" --log-level error &
daemon=$!
deadline=$((SECONDS + 60))
until gardienctl --socket "$sock" status >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { echo "FAIL: the daemon did not answer within 60s"; exit 1; }
  sleep 0.1
done
expect "gardienctl --socket $sock restart " "all db web web.0 web.1"
expect "gardienctl --socket $sock signal HUP w" "web web.0 web.1"
expect "gardienctl status --socket $sock " "all db web web.0 web.1"
# Tasks are not programs: a daemon without tasks offers none.
expect "gardienctl --socket $sock run " ""
expect "gardienctl --socket $sock jobs " ""

((failures == 0)) || exit 1
echo "ok: $shell completion"
