#!/usr/bin/env bash
# `pemap verify` over the corkami corpus: every file agrees with LIEF 0.9 or differs only by a classified
# LIEF limitation, except the files below, each an open finding; the test fails when one starts to agree
# (remove it) or another file disagrees.
set -uo pipefail
pemap=$1
corpus=$2
[ -d "$corpus" ] || { echo "SKIP: corkami corpus not found at $corpus"; exit 77; }
known=(
  dump_imports.exe           # kernel32: we read 3 IAT entries, LIEF 1
  ibrelocW7.exe              # flat sectionless image: LIEF reads no relocations
  imports_nothunk.exe        # LIEF reads a third, space-named module past our terminator
  lfanew_relocW7.exe         # flat sectionless image: LIEF reads no relocations
  maxsecXP.exe               # 96 low-alignment sections: LIEF reads no imports
  nosectionXP.exe            # sectionless: LIEF reads no imports
  nothing.dll                # TLS callback in the headers of a sectionless DLL: LIEF reads none
  nullSOH-XP.exe             # section table inside the optional header: LIEF reads no imports
  other/poly_CorkaMIX_corkamix.exe  # lookup table names point outside the image; LIEF reads 2 names
)
out=$("$pemap" verify "$corpus" 2>&1)
disagree=$(printf '%s\n' "$out" | sed -n "s|^$corpus/\(.*\): DISAGREE.*|\1|p" | sort)
expected=$(printf '%s\n' "${known[@]}" | sort)
printf '%s\n' "$out" | tail -1
if [ "$disagree" != "$expected" ]; then
  echo "the set of disagreeing files changed:"
  diff <(echo "$expected") <(echo "$disagree")
  exit 1
fi
echo "$(printf '%s\n' "$out" | grep -c ': agree') passed, 0 failed"
