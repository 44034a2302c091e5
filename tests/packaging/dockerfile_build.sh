#!/bin/bash
# dockerfile_build.sh CONTEXT ROOT IMAGE_CONFIG: performs CONTEXT/Dockerfile's instructions on ROOT,
# a fresh Debian 12 root file system (tests/packaging/debian_root.sh), as `docker build` would on
# debian:bookworm-slim, without a container engine. Writes what `docker run` needs (entrypoint,
# cmd, environment, working directory, stop signal) to IMAGE_CONFIG as bash declarations.
# Only the instructions the recipes of etc/examples/docker use are known; any other instruction
# or form fails the build, so a recipe cannot say what this test does not run.
set -euo pipefail
context=$1 root=$2 image_config=$3
dockerfile=$context/Dockerfile

# docker's defaults for a container's environment.
environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root)
workdir=/
stopsignal=SIGTERM
entrypoint=()
cmd=()
from_done=false
line_number=0

die() {
  echo "$dockerfile:$line_number: $*" >&2
  exit 1
}

# A JSON array of plain strings (no escapes) into the array `words`.
parse_exec_form() {
  local text=$1 rest
  [[ $text =~ ^\[(.*)\][[:space:]]*$ ]] || die "not a JSON array: $text"
  rest=${BASH_REMATCH[1]}
  [[ $rest != *\\* ]] || die "escapes in JSON arrays are not supported: $text"
  words=()
  rest=${rest#"${rest%%[![:space:]]*}"}
  while [[ -n $rest ]]; do
    [[ $rest =~ ^\"([^\"]*)\"[[:space:]]*(,?)[[:space:]]*(.*)$ ]] || die "bad JSON array: $text"
    words+=("${BASH_REMATCH[1]}")
    rest=${BASH_REMATCH[3]}
    [[ -n ${BASH_REMATCH[2]} || -z $rest ]] || die "bad JSON array: $text"
  done
}

# Exec form (a JSON array) or shell form (/bin/sh -c TEXT), into `words`.
parse_command() {
  if [[ $1 == \[* ]]; then parse_exec_form "$1"; else words=(/bin/sh -c "$1"); fi
}

# Plain space-separated arguments; quotes and flags are not supported.
split_plain() {
  [[ $1 != *[\"\']* ]] || die "quoted arguments are not supported: $1"
  read -r -a words <<<"$1"
  [[ ${words[0]} != --* ]] || die "flags are not supported: ${words[0]}"
}

image_path() {
  if [[ $1 == /* ]]; then echo "$root$1"; else echo "$root$workdir/$1"; fi
}

# What debian:bookworm-slim has beyond a fresh root (the resolver is debian_root.sh's copy): the
# policy that installing a package starts no service.
do_from() {
  [[ $1 == debian:bookworm-slim ]] || die "only FROM debian:bookworm-slim is known, not $1"
  ! $from_done || die "one FROM only"
  [[ -x $root/bin/sh && -f $root/etc/debian_version ]] || die "$root is not a Debian root"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  from_done=true
}

do_copy() {
  split_plain "$1"
  ((${#words[@]} >= 2)) || die "COPY needs a source and a destination"
  local destination=${words[-1]} sources=() pattern file
  for pattern in "${words[@]:0:${#words[@]}-1}"; do
    local matches=()
    for file in "$context"/$pattern; do [[ -e $file ]] && matches+=("$file"); done
    ((${#matches[@]} > 0)) || die "COPY: nothing in the context matches $pattern"
    sources+=("${matches[@]}")
  done
  for file in "${sources[@]}"; do [[ -f $file ]] || die "COPY of a directory is not supported: $file"; done
  local target
  target=$(image_path "$destination")
  if [[ $destination == */ ]] || ((${#sources[@]} > 1)); then
    [[ $destination == */ ]] || die "COPY of several files needs a destination ending with /"
    mkdir -p "$target"
    cp --preserve=mode,timestamps "${sources[@]}" "$target"
  else
    mkdir -p "$(dirname "$target")"
    cp --preserve=mode,timestamps "${sources[0]}" "$target"
  fi
}

# Like a RUN step: in new namespaces (pid, mount with its own /proc, uts, ipc) rooted in the image,
# with the image's environment; the network is the host's, for apt-get.
do_run() {
  parse_command "$1"
  echo "RUN ${words[*]}"
  env -i "${environment[@]}" unshare --pid --fork --mount-proc --mount --uts --ipc \
    --root="$root" --wd="$workdir" -- "${words[@]}" </dev/null ||
    die "RUN failed (exit $?): $1"
}

do_env() {
  split_plain "$1"
  local assignment
  for assignment in "${words[@]}"; do
    [[ $assignment =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "only ENV KEY=VALUE is supported: $assignment"
    environment+=("$assignment")
  done
}

do_workdir() {
  [[ $1 == /* && $1 != *[[:space:]]* ]] || die "WORKDIR must be one absolute path: $1"
  workdir=$1
  mkdir -p "$root$workdir"
}

do_stopsignal() {
  [[ $1 =~ ^SIG[A-Z0-9]+$ ]] || die "STOPSIGNAL must be a signal name (SIGTERM): $1"
  stopsignal=$1
}

do_instruction() {
  local instruction=${1^^} arguments=$2
  [[ $instruction == FROM ]] || $from_done || die "the first instruction must be FROM"
  case $instruction in
    FROM) do_from "$arguments" ;;
    COPY) do_copy "$arguments" ;;
    RUN) do_run "$arguments" ;;
    ENV) do_env "$arguments" ;;
    WORKDIR) do_workdir "$arguments" ;;
    STOPSIGNAL) do_stopsignal "$arguments" ;;
    ENTRYPOINT)
      [[ $arguments == \[* ]] || die "only the exec form of ENTRYPOINT is supported"
      parse_exec_form "$arguments"
      entrypoint=("${words[@]}") ;;
    CMD) parse_command "$arguments"; cmd=("${words[@]}") ;;
    *) die "instruction $instruction is not supported by this test: add it here before using it" ;;
  esac
}

# Logical lines: a line ending with a backslash continues on the next; comment lines are skipped,
# also inside a continuation, as docker does.
[[ -f $dockerfile ]] || { echo "no Dockerfile in $context" >&2; exit 1; }
logical=""
while IFS= read -r line || [[ -n $line ]]; do
  line_number=$((line_number + 1))
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  if [[ $line == *\\ ]]; then
    logical+="${line%\\} "
    continue
  fi
  logical+=$line
  [[ $logical =~ ^[[:space:]]*([A-Za-z]+)[[:space:]]+(.*[^[:space:]])[[:space:]]*$ ]] ||
    die "not an instruction: $logical"
  do_instruction "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  logical=""
done <"$dockerfile"
[[ -z $logical ]] || die "the last line continues past the end of the file"
((${#entrypoint[@]} + ${#cmd[@]} > 0)) || die "neither ENTRYPOINT nor CMD: nothing to run"

declare -p entrypoint cmd environment workdir stopsignal >"$image_config"
