#!/usr/bin/env bash
# Runs every ```console block of docs/walkthroughs/*.md and compares what the commands print with what the block
# says they print, so the walkthroughs cannot drift from pemap.
#
# Usage: walkthroughs.sh PEMAP [EXAMPLES_DIR] [--update]
#
# A block is the lines between "```console" and "```". A line "$ COMMAND" is a command; the lines after it, up to
# the next command or the end of the block, are what it prints (stdout and stderr together, as a pipe gets them).
# The commands of one block run in one bash, in order (so "$ echo $?" sees the previous command's status), with
# `pemap` standing for PEMAP and `example_reverse`, `example_walk`, `example_share` for the programs of
# docs/examples in EXAMPLES_DIR (blocks that use them are skipped, with a message, when it is not given). Each
# block runs in a new empty directory whose `testdata` is a symlink to the repository's, so the paths read exactly
# as from the repository root and any file a block writes is gone afterwards. Those directories are made under
# $WALK_TMPDIR (ctest sets the build directory) or else $TMPDIR or /tmp: walkthrough 8 flushes a view of a file it
# wrote, and on a memory-backed file system (tmpfs) a flush has nothing to write, so its output differs there.
#
# The comparison is exact, byte for byte, except in a block that holds a placeholder, for values that change from
# run to run or machine to machine:
#   <pid>           a process id (a decimal number);
#   <frame:TEXT>    a page-frame verdict of `pemap instances`: TEXT when the kernel shows page frames (root with
#                   CAP_SYS_ADMIN), or "hidden" when it does not.
# In such a block, and only there, each line is matched as a pattern (the placeholders as above, everything else
# literally) and runs of spaces compare equal, because a wider pid widens its table column.
#
# --update rewrites the expected output of every block without a placeholder from a fresh run (review the diff);
# blocks with placeholders are left for a person to edit. Exit 0 when every block matches, 1 otherwise.
set -uo pipefail

usage() {
  echo "usage: $0 PEMAP [EXAMPLES_DIR] [--update]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
pemap=$(realpath "$1")
shift
examples="" update=0
for arg in "$@"; do
  case $arg in
    --update) update=1 ;;
    *) examples=$(realpath "$arg") ;;
  esac
done
[ -x "$pemap" ] || { echo "walkthroughs.sh: $pemap is not an executable" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(realpath "$(mktemp -d -p "${WALK_TMPDIR:-${TMPDIR:-/tmp}}")")
trap 'rm -rf "$work"' EXIT

# The driver: reads one command per line on fd 3, echoes it as "$ COMMAND" and runs it; stderr joins stdout.
cat > "$work/driver.sh" << 'DRIVER'
exec 2>&1
pemap() { "$WALK_PEMAP" "$@"; }
example_reverse() { "$WALK_EXAMPLES/example_reverse" "$@"; }
example_walk() { "$WALK_EXAMPLES/example_walk" "$@"; }
example_share() { "$WALK_EXAMPLES/example_share" "$@"; }
set_status() { return "$1"; }
status=0
while IFS= read -r -u 3 command; do
  printf '$ %s\n' "$command"
  set_status "$status"
  eval "$command" < /dev/null
  status=$?
done
DRIVER

# has_placeholder FILE: the expected text uses <pid> or <frame:...>.
has_placeholder() { grep -qE '<pid>|<frame:[^>]*>' "$1"; }

# matches EXPECTED ACTUAL: line-by-line pattern match of a placeholder block (see the top of this file).
matches() {
  local -a want got
  mapfile -t want < "$1"
  mapfile -t got < "$2"
  [ "${#want[@]}" -eq "${#got[@]}" ] || return 1
  local i pattern line
  for i in "${!want[@]}"; do
    # Escape the regex characters of the literal text, then put the placeholders' patterns in.
    pattern=$(printf '%s' "${want[$i]}" | sed -E 's/ +/ /g; s/ +$//; s/[][\.*^$+?(){}|\\]/\\&/g' |
      sed -E 's/<pid>/[0-9]+/g; s/<frame:([^>]*)>/(\1|hidden)/g')
    line=$(printf '%s' "${got[$i]}" | sed -E 's/ +/ /g; s/ +$//')
    [[ $line =~ ^${pattern}$ ]] || return 1
  done
}

passed=0 failed=0 skipped=0
for doc in "$root"/docs/walkthroughs/*.md; do
  rel=${doc#"$root"/}
  out="$work/updated.md"
  : > "$out"
  in_block=0 block_line=0
  lineno=0
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    if [ "$in_block" -eq 0 ]; then
      printf '%s\n' "$line" >> "$out"
      if [ "$line" = '```console' ]; then
        in_block=1 block_line=$lineno
        : > "$work/expected"
        : > "$work/commands"
      fi
      continue
    fi
    if [ "$line" != '```' ]; then
      printf '%s\n' "$line" >> "$work/expected"
      [[ $line == '$ '* ]] && printf '%s\n' "${line#'$ '}" >> "$work/commands"
      continue
    fi
    # The end of a block: run it and compare.
    in_block=0
    where="$rel:$block_line"
    keep_expected=1
    if [ ! -s "$work/commands" ]; then
      echo "FAIL $where: a console block with no \"\$ \" command"
      failed=$((failed + 1))
    elif grep -qE '(^|[;&|( ])example_(reverse|walk|share)( |$)' "$work/commands" && [ -z "$examples" ]; then
      echo "SKIP $where: needs the docs/examples programs (give EXAMPLES_DIR)"
      skipped=$((skipped + 1))
    else
      scratch=$(mktemp -d "$work/block.XXXXXX")
      ln -s "$root/testdata" "$scratch/testdata"
      (cd "$scratch" && WALK_PEMAP=$pemap WALK_EXAMPLES=$examples timeout 300 bash "$work/driver.sh" \
        3< "$work/commands") > "$work/actual"
      rm -rf "$scratch"
      if has_placeholder "$work/expected"; then
        if matches "$work/expected" "$work/actual"; then
          passed=$((passed + 1))
        else
          echo "FAIL $where (placeholder block: <pid>, <frame:...>, spaces collapsed)"
          diff -u --label "expected ($where)" --label actual "$work/expected" "$work/actual" | sed 's/^/  /'
          failed=$((failed + 1))
        fi
      elif cmp -s "$work/expected" "$work/actual"; then
        passed=$((passed + 1))
      elif [ "$update" -eq 1 ]; then
        echo "UPDATED $where"
        cat "$work/actual" >> "$out"
        keep_expected=0
        passed=$((passed + 1))
      else
        echo "FAIL $where"
        diff -u --label "expected ($where)" --label actual "$work/expected" "$work/actual" | sed 's/^/  /'
        failed=$((failed + 1))
      fi
    fi
    [ "$keep_expected" -eq 1 ] && cat "$work/expected" >> "$out"
    printf '%s\n' "$line" >> "$out"
  done < "$doc"
  if [ "$in_block" -eq 1 ]; then
    echo "FAIL $rel:$block_line: console block not closed"
    failed=$((failed + 1))
  elif [ "$update" -eq 1 ] && ! cmp -s "$doc" "$out"; then
    cp "$out" "$doc"
  fi
done

echo "walkthroughs: $passed blocks passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
