#!/usr/bin/env bash
# pemap run: testdata's x64 programs run with their imports bound to host functions and exit 0 when every check
# they make passed (app.exe's include libb.dll's checksum over pointers that are right only when its relocation,
# at a displaced base, was applied). A call to an unresolved import, and code reading the TEB through gs:, stop
# with a message naming them; PE32 is loaded but not run.
# Usage: run.sh PEMAP
set -u
pemap=$1
cd "$(dirname "$0")/../.." || exit 2
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
expect() {  # expect CODE TEXT -- ARGS...: exit code CODE and TEXT (may be empty) in the output
  local code=$1 text=$2
  shift 3
  "$pemap" run "$@" > "$out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$code" ] || { [ -n "$text" ] && ! grep -qF "$text" "$out"; }; then
    echo "FAIL: pemap run $*: exit $rc (want $code), output must contain: $text"
    sed 's/^/  | /' "$out"
    fail=$((fail + 1))
  fi
}
for exe in app ordapp fwdapp apiset delayapp lowalign; do
  expect 0 "" -- testdata/bin/x64/$exe.exe
done
expect 139 "the program called liba.dll!liba_no_such_function, an import bound to the trap address" -- \
  testdata/bin/x64/missing.exe
expect 139 "the instruction reads gs:, the Windows TEB" -- testdata/bin/x64/tls.exe
expect 1 "app.exe is PE32: its code needs the CPU in 32-bit mode" -- testdata/bin/x86/app.exe --path testdata/bin/x86/system
expect 1 "cannot open testdata/bin/x64/nosuch.exe" -- testdata/bin/x64/nosuch.exe
[ "$fail" -eq 0 ] && echo "run: all passed"
[ "$fail" -eq 0 ]
