#!/usr/bin/env bash
# Runs the memory-mapped-file examples of docs/examples and checks what they do to real files.
# Usage: examples.sh EXAMPLE_REVERSE EXAMPLE_WALK EXAMPLE_SHARE
set -uo pipefail
[ $# -eq 3 ] || { echo "usage: $0 EXAMPLE_REVERSE EXAMPLE_WALK EXAMPLE_SHARE" >&2; exit 2; }
reverse=$1 walk=$2 share=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
pass() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: passes when COMMAND succeeds.
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
# checks NAME 'CONDITION': passes when the shell condition (evaluated here, e.g. 'a && b') holds.
checks() { if eval "$2"; then pass "$1"; else fail "$1"; fi; }

# --- reverse ------------------------------------------------------------------------------------------------
# Known bytes, including a 0 and bytes >= 0x80, and their reversal written independently with python.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) + b"Hello, mapped world!\0end")' > "$work/bytes"
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[::-1])' "$work/bytes" \
  > "$work/expected"
cp "$work/bytes" "$work/subject"
out=$("$reverse" "$work/subject" 2>&1); rc=$?
check "reverse exits 0 ($out)" [ "$rc" -eq 0 ]
check "reverse gives the reversed bytes" cmp -s "$work/subject" "$work/expected"
check "reverse restores the size ($(stat -c %s "$work/subject") bytes)" \
  [ "$(stat -c %s "$work/subject")" -eq "$(stat -c %s "$work/bytes")" ]
check "reverse reports the byte count" grep -q "reversed 280 bytes" <<< "$out"
"$reverse" "$work/subject" > /dev/null 2>&1
check "reversing twice gives the original file" cmp -s "$work/subject" "$work/bytes"

printf 'x' > "$work/one"
"$reverse" "$work/one" > /dev/null 2>&1
checks "a 1-byte file stays 1 byte" '[ "$(cat "$work/one")" = x ] && [ "$(stat -c %s "$work/one")" -eq 1 ]'

: > "$work/empty"
out=$("$reverse" "$work/empty" 2>&1); rc=$?
check "reverse of an empty file exits non-zero (rc $rc)" [ "$rc" -ne 0 ]
check "reverse of an empty file says why ($out)" grep -q "ERROR_FILE_INVALID.*empty" <<< "$out"
check "reverse leaves an empty file empty" [ "$(stat -c %s "$work/empty")" -eq 0 ]

out=$("$reverse" "$work/missing" 2>&1); rc=$?
checks "reverse of a missing file: ERROR_FILE_NOT_FOUND, non-zero ($out)" \
  '[ "$rc" -ne 0 ] && grep -q ERROR_FILE_NOT_FOUND <<< "$out"'

# --- walk ---------------------------------------------------------------------------------------------------
# 1 MiB + 12345 bytes: every byte non-zero except at the offsets below, which include both sides of several
# 64 KiB window boundaries, the first and the last byte.
size=$((1048576 + 12345))
python3 - "$work/big" "$size" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
data = bytearray((i % 255) + 1 for i in range(size))  # 1..255, never 0
zeros = {0, 1, 65535, 65536, 131071, 131072, 500000, 1048575, 1048576, size - 2, size - 1}
zeros |= set(range(300000, 300000 + 1000))  # a run of 1000 zeros
for z in zeros:
    data[z] = 0
open(path, "wb").write(data)
PY
expected_zeros=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().count(0))' "$work/big")
check "the walk input has 1011 zero bytes" [ "$expected_zeros" -eq 1011 ]
views=$(( (size + 65535) / 65536 ))
out=$("$walk" "$work/big" 2>&1); rc=$?
check "walk exits 0 ($out)" [ "$rc" -eq 0 ]
check "walk counts $expected_zeros zero bytes" grep -q " $expected_zeros zero bytes" <<< "$out"
check "walk takes ceil($size/65536) = $views views" grep -q "through $views views of at most 65536 bytes" <<< "$out"
out=$("$walk" "$work/big" 262144 2>&1); rc=$?
views4=$(( (size + 262143) / 262144 ))
checks "walk with 256 KiB windows: $expected_zeros zeros in $views4 views ($out)" \
  '[ "$rc" -eq 0 ] && grep -q " $expected_zeros zero bytes, counted through $views4 views" <<< "$out"'
for window in 1000 4096 65537 0 abc; do
  out=$("$walk" "$work/big" "$window" 2>&1); rc=$?
  checks "walk refuses a $window-byte window ($out)" '[ "$rc" -ne 0 ] && grep -q "not a positive multiple" <<< "$out"'
done

# --- share --------------------------------------------------------------------------------------------------
text="shared through a named page-file section"
out=$(timeout 30 "$share" demo "$text" 2>&1); rc=$?
check "share demo exits 0 (rc $rc)" [ "$rc" -eq 0 ]
check "share demo: the writer wrote the text" grep -q "^writer .*wrote ${#text} bytes: \"$text\"" <<< "$out"
check "share demo: the reader process read the text" grep -q "^reader .*read ${#text} bytes: \"$text\"" <<< "$out"
check "share demo: the writer saw the reader's flag" grep -q "the reader saw the text" <<< "$out"
writer_pid=$(sed -n 's/^writer \([0-9]*\):.*/\1/p' <<< "$out" | head -1)
reader_pid=$(sed -n 's/^reader \([0-9]*\):.*/\1/p' <<< "$out" | head -1)
checks "share demo: reader ($reader_pid) and writer ($writer_pid) are different processes" \
  '[ -n "$reader_pid" ] && [ -n "$writer_pid" ] && [ "$reader_pid" != "$writer_pid" ]'
out=$("$share" read "example-share-$writer_pid" 2>&1); rc=$?
checks "share demo: the name is gone afterwards ($out)" '[ "$rc" -ne 0 ] && grep -q ERROR_FILE_NOT_FOUND <<< "$out"'

# write and read as two separate commands.
name="examples-test-$$"
timeout 30 "$share" write "$name" "two commands" > "$work/writer.out" 2>&1 &
writer=$!
for _ in $(seq 100); do grep -q "waiting up to" "$work/writer.out" 2> /dev/null && break; sleep 0.05; done
out=$(timeout 30 "$share" read "$name" 2>&1); rc=$?
wait "$writer"; writer_rc=$?
checks "share read exits 0 and prints the text ($out)" '[ "$rc" -eq 0 ] && grep -q "\"two commands\"" <<< "$out"'
check "share write exits 0 once read ($(tail -1 "$work/writer.out"))" [ "$writer_rc" -eq 0 ]
out=$("$share" read "$name" 2>&1); rc=$?
checks "share read of a closed section: ERROR_FILE_NOT_FOUND ($out)" \
  '[ "$rc" -ne 0 ] && grep -q ERROR_FILE_NOT_FOUND <<< "$out"'

# A writer nobody reads gives up after its 10 s instead of waiting forever, and removes the name.
name="examples-lonely-$$"
start=$SECONDS
out=$(timeout 30 "$share" write "$name" "nobody reads this" 2>&1); rc=$?
checks "share write without a reader fails after ~10 s, rc $rc, $((SECONDS - start)) s ($(tail -1 <<< "$out"))" \
  '[ "$rc" -eq 1 ] && [ $((SECONDS - start)) -le 20 ] && grep -q "no reader set the flag within 10 s" <<< "$out"'
out=$("$share" read "$name" 2>&1); rc=$?
checks "share write without a reader removes the name ($out)" '[ "$rc" -ne 0 ] && grep -q ERROR_FILE_NOT_FOUND <<< "$out"'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
