#!/usr/bin/env bash
# pemap run: testdata's x64 programs run with their imports bound to host functions and exit 0 when every check
# they make passed (app.exe's include libb.dll's checksum over pointers that are right only when its relocation,
# at a displaced base, was applied). tls.exe exits 0 only when its TLS callbacks ran in order and its
# __declspec(thread) variable, read through gs:[0x58], starts at its template value (the TEB and the TLS block);
# hello.exe is the whole mingw-w64 CRT start-up and exit on msvcrt.dll, and must print exactly its line. A call to
# an unresolved import stops with a message naming it and the status of a program pemap stopped (125), as does a
# child killed while pemap waits; PE32 is loaded but not run. What run and call cannot use is refused before any
# process starts (exit 2); imports bound to traps are counted on one line unless --verbose; --json reports the
# modules, the traps and the outcome.
# Usage: run.sh PEMAP
set -u
pemap=$1
cd "$(dirname "$0")/../.." || exit 2
fail=0
out=$(mktemp)
dir=$(mktemp -d)
trap 'rm -f "$out" "$out.err"; rm -rf "$dir"' EXIT
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
expect 125 "the program called liba.dll!liba_no_such_function, an import bound to the trap address" -- \
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
expect 2 "app.exe is PE32: its code needs the CPU in 32-bit mode" -- testdata/bin/x86/app.exe --system-dir testdata/bin/x86/system
expect 2 "testdata/bin/x64/nosuch.exe: file: cannot open" -- testdata/bin/x64/nosuch.exe
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

# Refused before any process starts: exit 2, the reason on stderr, nothing on stdout (no code ran).
refused() {  # refused TEXT ARGS...: pemap ARGS exits 2 with TEXT on stderr and nothing on stdout
  local text=$1
  shift
  "$pemap" "$@" > "$out" 2> "$out.err"
  local rc=$?
  if [ "$rc" -ne 2 ] || [ -s "$out" ] || ! grep -qF -- "$text" "$out.err"; then
    echo "FAIL: pemap $*: exit $rc (want 2), stdout must be empty, stderr must contain: $text"
    sed 's/^/  | /' "$out" "$out.err"
    fail=$((fail + 1))
  fi
}
refused "hello.exe: COFF header Characteristics at offset 0x96: IMAGE_FILE_DLL is not set" \
  call testdata/bin/x64/hello.exe nosuchfn
refused "export directory of liba.dll: liba.dll!no_such_export is not exported" \
  call testdata/bin/x64/liba.dll no_such_export
refused "export directory of fwd1.dll: fwd1.dll!Chain is a forwarder to fwd2.Chain" call testdata/bin/x64/fwd1.dll Chain
refused "chain_a.dll: COFF header Characteristics at offset 0x8e: IMAGE_FILE_DLL is set: a DLL is not a program" \
  run testdata/bin/x64/chain_a.dll
refused "5 arguments given: pemap passes at most 4" call testdata/bin/x64/liba.dll liba_add 1 2 3 4 5
refused "--base nonsense" call testdata/bin/x64/liba.dll liba_add --base nonsense

# Imports bound to traps: one line that counts them by DLL; a line each only with --verbose.
traps() {  # traps LINES SUMMARY ARGS...: pemap ARGS prints LINES "(a trap)" lines, and SUMMARY unless it is empty
  local lines=$1 summary=$2
  shift 2
  "$pemap" "$@" > "$out" 2> "$out.err"
  local got
  got=$(grep -c "(a trap)$" "$out.err")
  if [ "$got" -ne "$lines" ] || { [ -n "$summary" ] && ! grep -qF "$summary" "$out.err"; }; then
    echo "FAIL: pemap $*: $got lines for imports bound to traps (want $lines), stderr must contain: $summary"
    sed 's/^/  | /' "$out.err" | head -20
    fail=$((fail + 1))
  fi
}
traps 0 "pemap run: 2 imports bound to traps (liba.dll 1, nosuch.dll 1): calling one stops the program; --verbose" \
  run testdata/bin/x64/missing.exe
traps 2 "" run testdata/bin/x64/missing.exe --verbose
# Real programs and DLLs nobody here wrote: pip's MSVC-built launcher imports over 60 functions pemap does not
# have, a mingw DLL 9; their lines would come before the program's output or the answer.
t64=$(python3 -c 'import os, pip._vendor.distlib as d; print(os.path.join(os.path.dirname(d.__file__), "t64.exe"))' \
  2> /dev/null)
if [ -f "$t64" ]; then
  traps 0 "imports bound to traps (KERNEL32.dll" run "$t64"  # 62 to 66 of them, as pip's version goes
  n=$(sed -n 's/^pemap run: \([0-9]*\) imports bound to traps.*/\1/p' "$out.err")
  traps "${n:--1}" "" run "$t64" --verbose  # as many lines as the count said
else
  echo "skip: pip's t64.exe not found (python3 -m pip's distlib): its imports bound to traps are not checked"
fi
libgcc=$(find /usr/lib/gcc/x86_64-w64-mingw32 -name libgcc_s_seh-1.dll 2> /dev/null | head -1)
if [ -f "$libgcc" ]; then
  traps 0 "pemap call: 9 imports bound to traps (KERNEL32.dll 9)" call "$libgcc" __popcountdi2 0xff
  grep -qF "libgcc_s_seh-1.dll!__popcountdi2 returned 8 " "$out" && [ "$(wc -l < "$out.err")" -eq 1 ] ||
    { echo "FAIL: $libgcc __popcountdi2 0xff: want 8 and one line on stderr"; fail=$((fail + 1)); }
else
  echo "skip: the mingw-w64 libgcc_s_seh-1.dll is not installed (gcc-mingw-w64-x86-64): a real DLL is not called"
fi

# --json: the modules, the imports bound to traps and the outcome, after what the program printed.
json_check() {  # json_check CODE PYTHON ARGS...: pemap ARGS --json exits CODE; PYTHON asserts on d (the document)
  local code=$1 check=$2
  shift 2
  "$pemap" "$@" --json > "$out" 2> "$out.err"
  local rc=$?
  python3 -c "import json, sys; d = json.loads(open(sys.argv[1]).read()[int(sys.argv[2]):]); assert ($check), d" \
    "$out" "$skip" > "$out.err" 2>&1 && [ "$rc" -eq "$code" ] ||
    { echo "FAIL: pemap $* --json: exit $rc (want $code), $check"; sed 's/^/  | /' "$out" "$out.err"; fail=$((fail + 1)); }
}
skip=0
json_check 0 'd["outcome"] == {"kind": "returned", "value": 42} and d["exit_status"] == 0 and d["unresolved"] == []
  and [m["name"] for m in d["modules"]] == ["libb.dll", "liba.dll"] and d["arguments"] == ["21"]' \
  call testdata/bin/x64/libb.dll libb_twice 21
json_check 125 'd["outcome"]["kind"] == "stopped" and "liba_no_such_function" in d["outcome"]["message"]
  and [(u["dll"], u["function"]) for u in d["unresolved"]] == [("liba.dll", "liba_no_such_function"),
  ("nosuch.dll", "nosuch_function")] and d["exit_status"] == 125' run testdata/bin/x64/missing.exe
json_check 2 '"IMAGE_FILE_DLL is set" in d["error"] and d["exit_status"] == 2' run testdata/bin/x64/chain_a.dll
skip=$(wc -c < testdata/src/printf.expected)  # printf.exe's own output comes first, byte for byte
json_check 3 'd["outcome"] == {"kind": "exited", "exit_code": 3} and d["modules"][0]["name"] == "printf.exe"' \
  run testdata/bin/x64/printf.exe
cmp -s -n "$skip" "$out" testdata/src/printf.expected || { echo "FAIL: printf.exe --json: its output changed"; fail=$((fail + 1)); }

# A child that hangs, killed while pemap waits: pemap names the signal and exits with the status of a program it
# stopped; no process is left. liba_add becomes `jmp $` (EB FE).
cp testdata/bin/x64/liba.dll "$dir/spin.dll"
rva=$("$pemap" exports "$dir/spin.dll" --json | python3 -c 'import json, sys
print(next(e["rva"] for e in json.load(sys.stdin)["exports"] if e["name"] == "liba_add"))')
python3 - "$dir/spin.dll" "$rva" << 'PY'
import struct, sys
path, rva = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, "rb").read())
nt = struct.unpack_from("<I", b, 0x3C)[0]
count, opt_size = struct.unpack_from("<H", b, nt + 6)[0], struct.unpack_from("<H", b, nt + 20)[0]
for i in range(count):
    vsize, va, raw_size, raw = struct.unpack_from("<4I", b, nt + 24 + opt_size + 40 * i + 8)
    if va <= rva < va + vsize:
        b[raw + rva - va:raw + rva - va + 2] = b"\xeb\xfe"
open(path, "wb").write(b)
PY
child_of() {  # child_of PID: the pid of PID's child, once it has forked one (the parent checks the file first)
  local child=""
  for _ in $(seq 100); do
    child=$(cat "/proc/$1/task/$1/children" 2> /dev/null)
    [ -n "$child" ] && break
    sleep 0.1
  done
  echo $child
}
stopped() {  # stopped WHAT TEXT CHILD RC: exit 125, TEXT on stderr, CHILD gone
  if [ -z "$3" ] || [ "$4" -ne 125 ] || ! grep -qF "$2" "$out.err" || kill -0 "$3" 2> /dev/null; then
    echo "FAIL: $1: child '$3', exit $4 (want 125 and: $2), no process left"
    sed 's/^/  | /' "$out.err"
    fail=$((fail + 1))
  fi
}
"$pemap" call "$dir/spin.dll" liba_add 1 2 > "$out" 2> "$out.err" &
pemap_pid=$!
child=$(child_of $pemap_pid)
sleep 0.5  # initialized, and spinning in liba_add (killed at any point, pemap must say the same)
[ -n "$child" ] && kill -KILL "$child"
wait $pemap_pid
stopped "a call whose child is killed with SIGKILL" "the child process died of signal 9 (Killed)" "$child" $?
# pemap itself interrupted (SIGTERM here, SIGINT for Ctrl-C) while the code hangs: it kills the child first.
"$pemap" call "$dir/spin.dll" liba_add 1 2 > "$out" 2> "$out.err" &
pemap_pid=$!
child=$(child_of $pemap_pid)
sleep 0.5
kill -TERM $pemap_pid
wait $pemap_pid
stopped "pemap call interrupted by SIGTERM" "pemap was interrupted by signal 15 (Terminated) and killed the program" \
  "$child" $?

[ "$fail" -eq 0 ] && echo "run: all passed"
[ "$fail" -eq 0 ]
