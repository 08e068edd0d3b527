#!/usr/bin/env bash
# pemap run: testdata's x64 programs run with their imports bound to host functions and exit 0 when every check
# they make passed (app.exe's include libb.dll's checksum over pointers that are right only when its relocation,
# at a displaced base, was applied). tls.exe exits 0 only when its TLS callbacks ran in order and its
# __declspec(thread) variable, read through gs:[0x58], starts at its template value (the TEB and the TLS block);
# hello.exe is the whole mingw-w64 CRT start-up and exit on msvcrt.dll, and must print exactly its line. A call to
# an unresolved import stops with a message naming it; PE32 is loaded but not run.
# Usage: run.sh PEMAP
set -u
pemap=$1
cd "$(dirname "$0")/../.." || exit 2
fail=0
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT
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
expect 0 "" -- testdata/bin/x64/tls.exe
expect 0 "" -- testdata/bin/x64/tls.exe --base tls.exe=0x7f0000000
# hello.exe: stdout is its one line and nothing else, stderr is empty, the exit code is main's 0 (through exit()).
for base in "" "--base hello.exe=0x7f0000000"; do
  # shellcheck disable=SC2086  # $base is zero or two words
  "$pemap" run testdata/bin/x64/hello.exe $base > "$out" 2> "$out.err"
  rc=$?
  if [ "$rc" -ne 0 ] || [ "$(od -An -c "$out")" != "$(printf 'hello from pemap testdata\n' | od -An -c)" ] ||
    [ -s "$out.err" ]; then
    echo "FAIL: pemap run testdata/bin/x64/hello.exe $base: exit $rc (want 0), stdout must be its one line, stderr empty"
    sed 's/^/  | /' "$out" "$out.err"
    fail=$((fail + 1))
  fi
done
# printf.exe: msvcrt's printf family, byte for byte what testdata/src/printf.expected says msvcrt.dll prints;
# its fprintf(stderr) on stderr; main's 3 as the exit code, after its atexit handler ran.
"$pemap" run testdata/bin/x64/printf.exe > "$out" 2> "$out.err"
rc=$?
if [ "$rc" -ne 3 ] || ! cmp -s "$out" testdata/src/printf.expected || [ "$(cat "$out.err")" != "to stderr 5" ]; then
  echo "FAIL: pemap run testdata/bin/x64/printf.exe: exit $rc (want 3), stdout must equal printf.expected"
  diff "$out" testdata/src/printf.expected | sed 's/^/  | /'
  sed 's/^/  stderr| /' "$out.err"
  fail=$((fail + 1))
fi
expect 1 "app.exe is PE32: its code needs the CPU in 32-bit mode" -- testdata/bin/x86/app.exe --path testdata/bin/x86/system
expect 1 "cannot open testdata/bin/x64/nosuch.exe" -- testdata/bin/x64/nosuch.exe
expect 0 "" -- testdata/bin/x64/app.exe --base app.exe=0x50000000 --base liba.dll=0x7f0000000

# pemap call: exports of rebased DLLs give the answers that are right only when every fixup was applied.
call() {  # call WANT ARGS...: stdout must say "returned WANT"
  local want=$1
  shift
  local got
  got=$("$pemap" call "$@" 2>&1)
  grep -qF "returned $want " <<< "$got" || { echo "FAIL: pemap call $*: want $want"; echo "  | $got"; fail=$((fail + 1)); }
}
call 42 testdata/bin/x64/liba.dll liba_add 2 40
call 42 testdata/bin/x64/libb.dll libb_twice 0x15
call 1337 testdata/bin/x64/liba.dll liba_checksum --base liba.dll=0x30000
call 4242 testdata/bin/x64/libb.dll libb_checksum --base libb.dll=0x7f0000000 --base liba.dll=0x123400000000
call 300000 testdata/bin/x64/bigreloc.dll big_count --base bigreloc.dll=0x500000000
"$pemap" call testdata/bin/x64/liba.dll no_such_export > "$out" 2>&1
[ $? -eq 1 ] && grep -qF "liba.dll!no_such_export is not exported" "$out" ||
  { echo "FAIL: a missing export is not exit 1 with its name"; fail=$((fail + 1)); }
[ "$fail" -eq 0 ] && echo "run: all passed"
[ "$fail" -eq 0 ]
