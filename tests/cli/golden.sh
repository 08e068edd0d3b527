#!/usr/bin/env bash
# Golden-output tests for the CLI: each line of cases.txt is "NAME | ARGS"; the output of `pemap ARGS`
# (run from the repository root, stdout and stderr) must equal golden/NAME exactly.
# Run with --update to rewrite the golden files after an intended change, then review the diff.
set -uo pipefail
pemap=$1
update=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
fail=0 count=0
while IFS='|' read -r name args; do
  name=$(echo "$name" | xargs)
  [ -z "$name" ] || [[ $name == \#* ]] && continue
  count=$((count + 1))
  # shellcheck disable=SC2086
  actual=$("$pemap" $args 2>&1; echo "exit=$?")
  golden="$here/golden/$name"
  if [ "$update" = "--update" ]; then
    printf '%s\n' "$actual" > "$golden"
  elif ! diff -u "$golden" <(printf '%s\n' "$actual") > /tmp/pemap-golden-diff.$$ 2>&1; then
    echo "FAIL $name: pemap$args"
    head -40 /tmp/pemap-golden-diff.$$
    fail=$((fail + 1))
  fi
done < "$here/cases.txt"
rm -f /tmp/pemap-golden-diff.$$
echo "$((count - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
