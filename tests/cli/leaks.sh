#!/usr/bin/env bash
# Nothing is left behind: every command that maps images or runs their code, run on fresh copies of testdata files
# (new inodes, new image objects), leaves /dev/shm as it found it, whether it ends normally, with an error, or is
# killed with SIGKILL, and so do the processes it started.
# Usage: leaks.sh PEMAP
set -u
pemap=$1
cd "$(dirname "$0")/../.." || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp testdata/bin/x64/liba.dll testdata/bin/x64/libb.dll testdata/bin/x64/shared.dll testdata/bin/x64/hello.exe \
  testdata/bin/x64/app.exe "$work"/
passed=0 failed=0
shm() { ls /dev/shm | grep '^pemap' | sort; }
new_since() { comm -13 <(echo "$1") <(shm); }  # what appeared since the listing $1 (other users may remove theirs)
# nothing_left WHAT BEFORE: passes when /dev/shm holds no pemap object that the listing BEFORE did not.
nothing_left() {
  local left
  left=$(new_since "$2")
  if [ -z "$left" ]; then
    passed=$((passed + 1))
  else
    echo "FAIL: $1 left in /dev/shm: $(tr '\n' ' ' <<< "$left")"
    failed=$((failed + 1))
  fi
}
# leaves NAME -- ARGS...: runs pemap ARGS (any exit status), then nothing_left.
leaves() {
  local name=$1 before
  shift 2
  before=$(shm)
  timeout 60 "$pemap" "$@" > /dev/null 2>&1
  nothing_left "$name (pemap $*)" "$before"
}
leaves "call" -- call "$work/liba.dll" liba_add 2 3
leaves "call of a missing export" -- call "$work/liba.dll" no_such_export
leaves "run" -- run "$work/hello.exe"
leaves "run with a displaced DLL" -- run "$work/app.exe"
leaves "instances" -- instances "$work/shared.dll" -n 3 --call shared_count
leaves "verify --corpus" -- verify --corpus "$work"
leaves "load" -- load "$work/app.exe"
leaves "map" -- map "$work/shared.dll"
leaves "relocs --check" -- relocs --check "$work/libb.dll" --base 0x20000000

# SIGKILL: pemap itself while its children run DllMain, and the children with it.
before=$(shm)
"$pemap" instances "$work/shared.dll" -n 3 --call shared_count > /dev/null 2>&1 &
victim=$!
sleep 0.2
kill -KILL "$victim" 2> /dev/null
wait "$victim" 2> /dev/null
sleep 0.5  # the children die with it (PR_SET_PDEATHSIG)
nothing_left "pemap instances killed with SIGKILL" "$before"
echo "leaks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
