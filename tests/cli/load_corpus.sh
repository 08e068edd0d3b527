#!/usr/bin/env bash
# `pemap load FILE --allow-missing` over every file of testdata/bin and the corkami corpus, 20 s each: it never
# crashes (a signal or an exit code above 2) nor hangs; every file loads (exit 0, and --json gives a document that
# parses and says it loaded) except the files below, each refused with exactly the status listed (exit 1 when the
# loader refuses it, 2 when its headers do not parse: unusable input). The test fails when the set changes: a
# listed file that starts to load (remove it) or a new refusal (a finding); and what each loaded file loads
# (modules, bindings, fixups...) is a known result, load_corpus.expected.
# corkami says every PE in it loads on Windows; the refusals below are the images modern Windows refuses too.
# Runs in an empty directory, so the current directory on the search path holds no DLL, and with no system
# directory, so that what a file binds to does not depend on the Wine installed here.
set -uo pipefail
export PEMAP_SYSTEM32='' PEMAP_SYSWOW64=''
pemap=$1
corpus=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
mkdir empty && cd empty || exit 1
known_refused=(
  # DataFile DLLs, for LoadLibraryEx(LOAD_LIBRARY_AS_DATAFILE) only, never loadable as images:
  "corkami/d_resource.dll STATUS_INVALID_IMAGE_FORMAT"  # 65535 section headers in a 640-byte file
  "corkami/d_tiny.dll STATUS_INVALID_IMAGE_PROTECT"     # 61 bytes: no room for e_lfanew
  # not PE images: a DOS 'ZM' executable, an NE one whose DOS stub patches itself into a PE and relaunches:
  "corkami/dosZMXP.exe STATUS_INVALID_IMAGE_NOT_MZ"
  "corkami/exe2pe.exe STATUS_INVALID_IMAGE_WIN_16"
  # relocation types 6 and 9 on i386, applied by XP and W7, refused from Windows 8 on (corkami: reloc9.exe
  # "unsupported under W8"; reloccryptW8.exe is the version that loads, and does here):
  "corkami/reloc9.exe STATUS_INVALID_IMAGE_FORMAT"
  "corkami/relocOSdet.exe STATUS_INVALID_IMAGE_FORMAT"
  "corkami/reloccrypt.exe STATUS_INVALID_IMAGE_FORMAT"
  "corkami/reloccryptXP.exe STATUS_INVALID_IMAGE_FORMAT"
  # XP only: a 97-byte file whose optional header is cut short by the end of the file:
  "corkami/tinyXP.exe STATUS_INVALID_IMAGE_FORMAT"
  "corkami/tinydllXP.dll STATUS_INVALID_IMAGE_FORMAT"
  "corkami/tinydrivXP.sys STATUS_INVALID_IMAGE_FORMAT"
  # XP only: the section table runs past the end of the file:
  "corkami/virtrelocXP.exe STATUS_INVALID_IMAGE_FORMAT"
  "corkami/virtsectblXP.exe STATUS_INVALID_IMAGE_FORMAT"
)
# Loaded, as Windows loads them, but with a warning and exit 1: the file is cut short, and the bytes the section
# table declares past its end read as zero (docs/parser.md, "A file cut short"):
known_warned=(
  "corkami/bigSoRD.exe"  # the first section's raw data runs 0xc00 bytes past the end of the file
)
fail=0 loaded=0 refused=0 json_ok=0
refusals=() warned=() results=()
# A loaded file's known result: modules, bindings, unresolved imports, and the executable's placement, fixups by
# type and TLS callbacks.
summary='
import json, sys
d = json.load(sys.stdin)
if not (d["loaded"] and d["file"] == sys.argv[1] and d["modules"]):
    sys.exit(1)
mods = d["modules"]
top = mods[0]
fixups = ",".join(k + ":" + str(v) for k, v in sorted(top["fixups"].items())) or "-"
print("modules=%d bindings=%d unresolved=%d placed=%s fixups=%s tls=%d" % (len(mods),
      sum(len(m["bindings"]) for m in mods), len(d["unresolved"]), top["placed"], fixups, len(top["tls_callbacks"])))
'
run() {  # run LABEL FILE
  local label=$1 file=$2 rc status
  timeout -k 5 20 "$pemap" load "$file" --allow-missing > "$tmp/out" 2> "$tmp/err"
  rc=$?
  if [ "$rc" -eq 0 ]; then
    loaded=$((loaded + 1))
    # The same load as JSON: it parses, names the file and says it loaded; what it loaded is summed up in a line.
    timeout -k 5 20 "$pemap" load "$file" --allow-missing --json 2> "$tmp/err" |
      python3 -c "$summary" "$file" > "$tmp/summary" 2> "$tmp/py"
    local codes=("${PIPESTATUS[@]}")
    if [ "${codes[0]}" -eq 0 ] && [ "${codes[1]}" -eq 0 ]; then
      json_ok=$((json_ok + 1))
      results+=("$label $(cat "$tmp/summary")")
    else
      echo "FAIL: $label: --json exit ${codes[0]}, or its document does not parse or say it loaded"
      tail -2 "$tmp/err" "$tmp/py" | sed 's/^/  | /'
      fail=$((fail + 1))
    fi
  elif [ "$rc" -eq 1 ] && ! grep -qF "pemap load: $file: " "$tmp/err"; then
    # Loaded, with a warning about the file (on stderr): a load that failed names the file after "pemap load:".
    loaded=$((loaded + 1))
    warned+=("$label")
  elif [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; then
    refused=$((refused + 1))
    status=$(grep -oE '\((STATUS|ERROR)_[A-Z0-9_]+\)$' "$tmp/err" | tail -1 | tr -d '()')
    grep -qF "pemap load: $file: " "$tmp/err" || {
      echo "FAIL: $label: refused without naming the file"; sed 's/^/  | /' "$tmp/err"; fail=$((fail + 1)); }
    refusals+=("$label ${status:-no-status}")
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "FAIL: $label: no answer within 20 s"
    fail=$((fail + 1))
  else
    echo "FAIL: $label: exit $rc$([ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
    tail -3 "$tmp/err" | sed 's/^/  | /'
    fail=$((fail + 1))
  fi
}
pe_files() {  # every file under $1 but the corpus's notes
  (cd "$1" && find . -type f ! -name MANIFEST.tsv ! -name '*.txt' ! -name 'README*' ! -name '*.md' | sed 's|^\./||' |
    LC_ALL=C sort)
}
while read -r f; do run "testdata/$f" "$root/testdata/bin/$f"; done < <(pe_files "$root/testdata/bin")
have_corpus=0
if [ -n "$corpus" ] && [ -d "$corpus" ]; then
  have_corpus=1
  corpus=$(cd "$corpus" && pwd)
  while read -r f; do run "corkami/$f" "$corpus/$f"; done < <(pe_files "$corpus")
fi

same_set() {  # same_set WHAT: the sorted lines of $expected and $actual, corkami's dropped when it is absent
  [ "$have_corpus" -eq 1 ] || expected=$(grep -v '^corkami/' <<< "$expected")
  [ "$expected" = "$actual" ] && return
  echo "FAIL: the set of $1 changed (< expected, > now):"
  diff <(echo "$expected") <(echo "$actual") | grep '^[<>]'
  fail=$((fail + 1))
}
expected=$(printf '%s\n' "${known_warned[@]}" | LC_ALL=C sort)
actual=$( ((${#warned[@]})) && printf '%s\n' "${warned[@]}" | LC_ALL=C sort)
same_set "files loaded with a warning"
expected=$(printf '%s\n' "${known_refused[@]}" | LC_ALL=C sort)
actual=$( ((${#refusals[@]})) && printf '%s\n' "${refusals[@]}" | LC_ALL=C sort)
same_set "refused files"
# Each loaded file's summary line, against load_corpus.expected (LOAD_CORPUS_UPDATE=1 rewrites it; review the diff).
known_results="$root/tests/cli/load_corpus.expected"
actual=$( ((${#results[@]})) && printf '%s\n' "${results[@]}" | LC_ALL=C sort)
if [ -n "${LOAD_CORPUS_UPDATE:-}" ]; then
  [ "$have_corpus" -eq 1 ] && echo "$actual" > "$known_results"
fi
expected=$(cat "$known_results")
same_set "loaded files' results (load_corpus.expected)"
echo "$loaded loaded ($json_ok with valid JSON, ${#warned[@]} with a warning), $refused refused," \
  "$fail failures"
[ "$fail" -eq 0 ] || exit 1
if [ "$have_corpus" -eq 0 ]; then
  echo "SKIP: corkami corpus not found at '$corpus' (testdata/bin alone passed)"
  exit 77
fi
