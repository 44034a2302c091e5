# zsh -f zsh_complete.zsh COMPDIR LINE: the completions zsh offers for LINE (at its end), one a line,
# sorted. An interactive zsh in a pty gets LINE and a TAB; its compadd writes the matches to a
# file, not to the terminal, and a file says when the completion is over.
zmodload zsh/zpty
local dir=$(mktemp -d)
zpty z zsh -f -i
zpty -w z "PROMPT=; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "bindkey '^I' complete-word; hits=$dir/hits; done_file=$dir/done"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __hits; builtin compadd -A __hits "$@"; print -rl -- $__hits >> $hits }'
zpty -w z 'finish() { : > $done_file }; comppostfuncs=(finish exit)'
zpty -w z "$2"$'\t'
local chunk
until [[ -e $dir/done ]]; do
  zpty -r -t z chunk || sleep 0.05
  if (( SECONDS > 60 )); then
    print -u2 "zsh_complete.zsh: no completion within 60s for: $2"
    rm -rf $dir
    exit 2
  fi
done
if [[ -e $dir/hits ]]; then grep -v "^$" $dir/hits | sort -u; fi
rm -rf $dir
