# zsh -f zsh_complete.zsh COMPDIR DUMP LINE: the completions zsh offers for LINE (at its end), one
# a line, sorted; DUMP is compinit's cache, shared by the calls of one test (the first builds it).
# An interactive zsh in a pty gets LINE and a TAB; its compadd writes the matches to a file, not
# to the terminal, and a file says when the completion is over.
zmodload zsh/zpty
local dir=$(mktemp -d)
zpty z zsh -f -i
# Only the completion system's own functions beside ours: compinit reads every file of $fpath.
zpty -w z "PROMPT=; fpath=($1 \${(M)fpath:#*/Completion(|/Base|/Unix)}); autoload -Uz compinit; compinit -u -d $2"
zpty -w z "bindkey '^I' complete-word; hits=$dir/hits; done_file=$dir/done"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __hits; builtin compadd -A __hits "$@"; print -rl -- $__hits >> $hits }'
zpty -w z 'finish() { : > $done_file }; comppostfuncs=(finish exit)'
zpty -w z "$3"$'\t'
local chunk
until [[ -e $dir/done ]]; do
  zpty -r -t z chunk || sleep 0.05
  if (( SECONDS > 60 )); then
    print -u2 "zsh_complete.zsh: no completion within 60s for: $3"
    rm -rf $dir
    exit 2
  fi
done
if [[ -e $dir/hits ]]; then grep -v "^$" $dir/hits | sort -u; fi
rm -rf $dir
