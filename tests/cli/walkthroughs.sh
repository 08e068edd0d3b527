#!/usr/bin/env bash
# Runs every ```console block of README.md, docs/analysis.md, docs/pictures.md and docs/walkthroughs/*.md and compares what the commands print with what the block
# says they print, so the walkthroughs cannot drift from pemap; checks the claims of the pages' text that the
# blocks do not show line for line; and checks that the README's ways of putting pemap on the PATH work.
#
# Usage: walkthroughs.sh BUILD_DIR [--update]
#
# First the two ```sh blocks of docs/walkthroughs/README.md run (an install into a prefix, and an export of the
# build's directories), each in a directory standing for the repository root (`testdata` and `build` are links to
# the repository's and to BUILD_DIR) with a HOME of its own; each must put `pemap` and the example programs on the
# PATH, and the installed `pemap verify` must find its helper. The pages run with the PATH of the first.
#
# A block is the lines between "```console" and "```". A line "$ COMMAND" is a command; the lines after it, up to
# the next command or the end of the block, are what it prints (stdout and stderr together, as a pipe gets them).
# The commands of one block run in one bash, in order (so "$ echo $?" sees the previous command's status). Each
# block runs in a new empty directory whose `testdata` is a symlink to the repository's, so the paths read exactly
# as from the repository root. A block that leaves a file there fails: for a reader it wrote into the repository.
# Those directories are made under $WALK_TMPDIR (ctest sets the build directory) or else $TMPDIR or /tmp.
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
# blocks with placeholders are left for a person to edit. Exit 0 when every check passes, 1 otherwise.
set -uo pipefail

usage() {
  echo "usage: $0 BUILD_DIR [--update]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
build=$(realpath "$1")
shift
update=0
for arg in "$@"; do
  case $arg in
    --update) update=1 ;;
    *) usage ;;
  esac
done
[ -x "$build/inspector/pemap" ] || { echo "walkthroughs.sh: no $build/inspector/pemap: not a build directory" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(realpath "$(mktemp -d -p "${WALK_TMPDIR:-${TMPDIR:-/tmp}}")")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# The driver: reads one command per line on fd 3, echoes it as "$ COMMAND" and runs it; stderr joins stdout.
cat > "$work/driver.sh" << 'DRIVER'
exec 2>&1
set_status() { return "$1"; }
status=0
while IFS= read -r -u 3 command; do
  printf '$ %s\n' "$command"
  set_status "$status"
  eval "$command" < /dev/null
  status=$?
done
DRIVER

# in_scratch PATH COMMAND...: COMMAND in a new empty directory whose `testdata` is the repository's, with PATH.
# What COMMAND left in that directory (for a reader, the repository root) is listed in $work/left.
in_scratch() {
  local scratch rc=0
  scratch=$(mktemp -d "$work/block.XXXXXX")
  ln -s "$root/testdata" "$scratch/testdata"
  (cd "$scratch" && PATH=$1 "${@:2}") || rc=$?
  find "$scratch" -mindepth 1 -maxdepth 1 ! -name testdata -printf '%f\n' > "$work/left"
  rm -rf "$scratch"
  return "$rc"
}

# --- The README's setup: pemap and the examples on the PATH -------------------------------------------------------

programs=(pemap example_reverse example_walk example_share)
mkdir "$work/repo" "$work/home"
ln -s "$root/testdata" "$work/repo/testdata"
ln -s "$build" "$work/repo/build"

# setup_path N: runs the Nth ```sh block of docs/walkthroughs/README.md as a reader would, in the stand-in for the
# repository root, and prints the PATH it leaves. Fails when a command of the block fails.
setup_path() {
  local block
  block=$(awk -v n="$1" '/^```sh$/ { i++; inside = (i == n); next } /^```$/ { inside = 0 } inside' \
    "$root/docs/walkthroughs/README.md")
  [ -n "$block" ] || { echo "no setup block $1 in docs/walkthroughs/README.md" >&2; return 1; }
  (cd "$work/repo" && HOME="$work/home" bash -e -c "$block"$'\n''printf %s "$PATH" >&3' \
    3>&1 > "$work/setup.log" 2>&1) || { cat "$work/setup.log" >&2; return 1; }
}

# check_setup N WHAT: setup block N puts every program on the PATH, from the build or the install of this test.
check_setup() {
  local path where missing=""
  if ! path=$(setup_path "$1" 2>&1); then
    echo "FAIL docs/walkthroughs/README.md: $2: the setup block failed:"
    printf '%s\n' "$path" | sed 's/^/  /'
    failed=$((failed + 1))
    return 1
  fi
  for program in "${programs[@]}"; do
    where=$(PATH=$path command -v "$program") && [[ $where == "$work"/* ]] || missing+=" $program"
  done
  if [ -n "$missing" ]; then
    echo "FAIL docs/walkthroughs/README.md: $2: not on the PATH it leaves:$missing"
    failed=$((failed + 1))
    return 1
  fi
  passed=$((passed + 1))
  printf '%s' "$path" > "$work/path.$1"
}

check_setup 1 "install" && {
  # The installed pemap finds pemap-lief in ../libexec/pemap, where the install put it.
  out=$(in_scratch "$(cat "$work/path.1")" pemap verify testdata/bin/x64/liba.dll 2>&1)
  if [ $? -eq 0 ] && [ "$out" = "testdata/bin/x64/liba.dll: agree" ]; then passed=$((passed + 1)); else
    echo "FAIL docs/walkthroughs/README.md: the installed pemap verify: $out"; failed=$((failed + 1)); fi
}
check_setup 2 "export PATH"
[ -f "$work/path.1" ] || { echo "walkthroughs: the pages need the install setup"; exit 1; }
walk_path=$(cat "$work/path.1")

# --- The pages' console blocks -----------------------------------------------------------------------------------

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

for doc in "$root"/README.md "$root"/docs/analysis.md "$root"/docs/pictures.md "$root"/docs/walkthroughs/*.md; do
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
    else
      in_scratch "$walk_path" timeout 300 bash "$work/driver.sh" 3< "$work/commands" > "$work/actual"
      if [ -s "$work/left" ]; then
        echo "FAIL $where: writes into the directory it is run from, the repository root: $(tr '\n' ' ' < "$work/left")"
        failed=$((failed + 1))
      elif has_placeholder "$work/expected"; then
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

# --- Claims of the pages' text ------------------------------------------------------------------------------------

# claim PAGE PROSE COMMAND PATTERN: the text of docs/walkthroughs/PAGE says PROSE (a line break or a run of spaces
# counts as one space), and COMMAND, run as a block's commands are, prints a line matching PATTERN (grep -E). When
# the text is reworded the check fails until its PROSE is too, so no claim is left behind unchecked.
claim() {
  local out
  if ! tr -s ' \n' ' ' < "$root/docs/walkthroughs/$1" | grep -qF -- "$2"; then
    echo "FAIL docs/walkthroughs/$1: the text no longer says \"$2\" (reword its claim in tests/cli/walkthroughs.sh)"
    failed=$((failed + 1))
    return
  fi
  out=$(in_scratch "$walk_path" bash -c "$3" 2>&1)
  if grep -qE -- "$4" <<< "$out"; then
    passed=$((passed + 1))
  else
    echo "FAIL docs/walkthroughs/$1: \"$2\": \`$3\` prints no line matching /$4/:"
    printf '%s\n' "$out" | tail -5 | sed 's/^/  /'
    failed=$((failed + 1))
  fi
}

claim 2-image-vs-raw-view.md "testdata's x86 \`liba.dll\` has seven sections" \
  'pemap sections testdata/bin/x86/liba.dll' '^  7 sections, '
claim 2-image-vs-raw-view.md "The view is SizeOfImage (0x8000) bytes" \
  'pemap headers testdata/bin/x86/liba.dll' '^  SizeOfImage +0x8000$'
claim 2-image-vs-raw-view.md "The view is the 4096-byte file" 'stat -c %s testdata/bin/x86/liba.dll' '^4096$'
claim 2-image-vs-raw-view.md "SizeOfHeaders is 0x400" \
  'pemap headers testdata/bin/x86/liba.dll' '^  SizeOfHeaders +0x400$'
claim 3-preferred-bases.md "20 HIGHLOW fixups (32-bit absolute addresses) on 3 pages" \
  'pemap relocs testdata/bin/x86/libb.dll' '^  total: 20 entries in 3 blocks: HIGHLOW 20$'
claim 3-preferred-bases.md "with the same 20 HIGHLOW fixups on the same 3 pages (its \`forced\` row)" \
  'pemap load testdata/bin/x86/app.exe --system-dir testdata/bin/x86/system --base libb.dll=0x20000000' \
  '^  3  libb\.dll +0x10000000 +0x20000000 +forced +20 HIGHLOW +3 '
claim 3-preferred-bases.md "That is what \`liba.dll\` shows in every table here: \`preferred\`, fixups \`-\`, pages \`-\`." \
  'pemap load testdata/bin/x86/libb.dll --preload testdata/bin/x86/liba.dll' \
  '^  0  liba\.dll +0x10000000 +0x10000000 +preferred +- +- '
claim 3-preferred-bases.md "The stub \`kernel32.dll\` has no relocation directory at all (and is not marked stripped)" \
  'h=$(pemap headers testdata/bin/x86/system/kernel32.dll); grep -qE "^ +5  BASERELOC +0x0 +0x0 " <<< "$h" &&
   grep -E "^  Characteristics " <<< "$h" | grep -qv RELOCS_STRIPPED && echo "no directory, not stripped"' \
  '^no directory, not stripped$'
claim 6-named-shared-section.md "Once the writer has closed its handle the name is gone" \
  'name=$(example_share demo hi | sed -n "s/.*section \"\(example-share-[0-9]*\)\".*/\1/p" | head -1)
   [ -n "$name" ] && example_share read "$name"' '^example_share: OpenFileMapping: ERROR_FILE_NOT_FOUND: '
claim 7-allocation-granularity.md "\`bigreloc.dll\` is 3,008,000 bytes, 46 windows of 64 KiB (the last one 58,880 bytes)" \
  's=$(stat -c %s testdata/bin/x64/bigreloc.dll); echo "$s $(( (s + 65535) / 65536 )) $(( s - (s - 1) / 65536 * 65536 ))"' \
  '^3008000 46 58880$'
claim 7-allocation-granularity.md "The file is 0x2de600 bytes, so a view from 0x2d0000 has 0xe600 bytes" \
  's=$(stat -c %s testdata/bin/x64/bigreloc.dll); printf "%#x %#x\n" "$s" $(( s - 0x2d0000 ))' '^0x2de600 0xe600$'
claim 7-allocation-granularity.md "the view's 0xe600 bytes take fifteen pages, 0xf000" \
  'n=$(( (0xe600 + 0xfff) / 0x1000 )); printf "%d pages, %#x\n" "$n" $(( n * 0x1000 ))' '^15 pages, 0xf000$'
claim 8-flushing-a-view.md "303,104 bytes are the 74 pages of the 300,001-byte view" \
  'echo $(( (300001 + 4095) / 4096 )) pages, $(( (300001 + 4095) / 4096 * 4096 )) bytes' '^74 pages, 303104 bytes$'

echo "walkthroughs: $passed checks passed, $failed failed"
[ "$failed" -eq 0 ]
