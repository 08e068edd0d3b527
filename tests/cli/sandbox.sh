#!/usr/bin/env bash
# The sandbox of run, call and instances, as a user meets it: each of testdata's hostile.dll exports, which try a
# way out, works with --unsafe-no-sandbox and is stopped without it (exit 125), with the message naming the system
# call and the instruction's module+RVA and section, or the limit reached; nothing is written outside --allow-dir;
# an option that takes a fence down says so on stderr and in --json; bad sandbox options are refused (exit 2).
# Usage: sandbox.sh PEMAP
set -u
pemap=$1
cd "$(dirname "$0")/../.." || exit 2
fail=0
hostile=testdata/bin/x64/hostile.dll
out=$(mktemp)
dir=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$dir"' EXIT
check() {  # check WHAT CODE TEXT -- ARGS...: pemap ARGS exits CODE and its output (both streams) contains TEXT
  local what=$1 code=$2 text=$3
  shift 4
  "$pemap" "$@" > "$out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$code" ] || { [ -n "$text" ] && ! grep -qF -- "$text" "$out"; }; then
    echo "FAIL: $what: pemap $*: exit $rc (want $code), output must contain: $text"
    sed 's/^/  | /' "$out"
    fail=$((fail + 1))
  fi
}

# A raw system call from the DLL's .text: allowed only with the sandbox off.
check "raw write, unconfined" 0 "hostile.dll: a raw write reached the terminal" -- \
  call $hostile raw_write --unsafe-no-sandbox
check "raw write" 125 "write (1) by the instruction at 0x268001019 (hostile.dll+0x1019, .text)" -- \
  call $hostile raw_write
check "raw socket" 125 "socket (41) by the instruction at" -- call $hostile raw_socket
check "raw execve" 125 "execve (59) by the instruction at" -- call $hostile raw_execve
check "raw ptrace" 125 "ptrace (101) by the instruction at" -- call $hostile raw_ptrace
check "raw open, unconfined" 0 "returned" -- call $hostile raw_open "$dir/raw-open" --unsafe-no-sandbox
[ -f "$dir/raw-open" ] || { echo "FAIL: raw_open did not create its file without the sandbox"; fail=$((fail + 1)); }
rm -f "$dir/raw-open"
check "raw open" 125 "openat (257) by the instruction at" -- call $hostile raw_open "$dir/raw-open" --allow-dir "$dir"
[ -e "$dir/raw-open" ] && { echo "FAIL: raw_open created its file inside the sandbox"; fail=$((fail + 1)); }
# The same stop under run's --json: the outcome says it, the sandbox object says what was in force.
check "json" 125 '"kind": "stopped"' -- call $hostile raw_write --json
grep -qF '"system_calls": true' "$out" || { echo "FAIL: --json has no sandbox object"; fail=$((fail + 1)); }

# LoadLibraryA of a DLL the child may not read: refused, and named on stderr; --allow-dir lets it in.
cp testdata/bin/x64/liba.dll "$dir/outside.dll"
check "LoadLibraryA outside" 0 "the sandbox refused LoadLibraryA(\"$dir/outside.dll\")" -- \
  call $hostile load_library "$dir/outside.dll"
grep -qF "returned 0 (0x0" "$out" || { echo "FAIL: LoadLibraryA outside returned non-NULL"; fail=$((fail + 1)); }
check "LoadLibraryA allowed" 0 "returned 6442450944" -- call $hostile load_library "$dir/outside.dll" --allow-dir "$dir"

# Limits: an endless loop and a memory bomb.
check "endless loop" 125 "used up its CPU time limit (1 s, --limit-time); it was running at 0x" -- \
  call $hostile spin --limit-time 1
check "memory bomb" 125 "the memory limit (--limit-mem 128 MiB) refused 1 allocation (the largest 16777216 bytes)" -- \
  call $hostile memory_bomb --limit-mem 128M

# A fence taken down is said, on stderr and in --json.
check "no sandbox" 0 "warning: the sandbox is off (--unsafe-no-sandbox)" -- run testdata/bin/x64/app.exe \
  --unsafe-no-sandbox
check "no filter" 0 "warning: the sandbox is weakened: system calls are not filtered (--unsafe-allow-syscalls)" -- \
  run testdata/bin/x64/app.exe --unsafe-allow-syscalls
check "no limits, json" 0 '"limits": false' -- run testdata/bin/x64/app.exe --unsafe-no-limits --json
check "instances" 0 "pemap instances: warning: the sandbox is weakened: files are not confined" -- \
  instances testdata/bin/x64/liba.dll -n 1 --unsafe-all-files

# Options that cannot be used.
check "tiny memory limit" 2 "--limit-mem: '5' is not in 16M..1024G" -- call $hostile spin --limit-mem 5
check "size that is not one" 2 "is not a size" -- call $hostile spin --limit-mem lots
check "zero time" 2 "--limit-time: '0' is not in 1..86400" -- call $hostile spin --limit-time 0
check "missing allowed dir" 2 "--allow-dir $dir/none: not a directory" -- call $hostile spin --allow-dir "$dir/none"

[ "$fail" -eq 0 ] && echo "sandbox: all passed"
[ "$fail" -eq 0 ]
