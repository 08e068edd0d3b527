#!/usr/bin/env bash
# pemap verify --corpus: every file of testdata and corkami is parsed, mapped and loaded in a child process of its
# own, and none may crash or time out; every refusal names its structure, its offset or RVA, and the status; each
# file's verdict is the known one of corpus_verdicts.expected (CORPUS_VERDICTS_UPDATE=1 rewrites it: review the
# diff). The verdicts themselves are tested too: a FIFO never answers (timeout), a child killed by SIGSEGV is a crash.
# Without the corpus, the rest is checked and the test skips (77) unless a check failed.
# Usage: corpus_verdicts.sh PEMAP [CORKAMI_DIR]
set -u
pemap=$1
corpus=${2:-}
cd "$(dirname "$0")/../.." || exit 2
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

known="$(pwd)/tests/cli/corpus_verdicts.expected"
check() {  # check JSON LABEL DIR: no crash or timeout, every refusal says where and which rule, and each file's
  # verdict (ok, or refused at a stage with a status) is the one corpus_verdicts.expected lists for it
  python3 - "$1" "$2" "$3" "$known" <<'PY' || fail=$((fail + 1))
import json, os, re, sys
d = json.load(open(sys.argv[1]))
label, directory, known = sys.argv[2], sys.argv[3], sys.argv[4]
def verdict(f):
    status = re.search(r"\((STATUS_[A-Z_0-9]+)\)$", f["reason"])
    return f["verdict"] + ("" if f["verdict"] == "ok" else f" {f['stage']} {status.group(1) if status else '-'}")
actual = sorted(f"{label}/{os.path.relpath(f['file'], directory)} {verdict(f)}" for f in d["files"])
if os.environ.get("CORPUS_VERDICTS_UPDATE"):
    kept = [l for l in open(known).read().splitlines() if not l.startswith(label + "/")] if os.path.exists(known) else []
    open(known, "w").write("\n".join(sorted(kept + actual)) + "\n")
expected = [l for l in open(known).read().splitlines() if l.startswith(label + "/")]
changed = sorted(set(expected) ^ set(actual))
for line in changed:
    print(("FAIL: now     " if line in actual else "FAIL: was     ") + line)
bad = [f for f in d["files"] if f["verdict"] in ("crash", "timeout")]
vague = [f for f in d["files"] if f["verdict"] == "refused"
         and not (re.search(r" at (offset|RVA) 0x[0-9a-f]+", f["reason"]) and re.search(r"\(STATUS_[A-Z_0-9]+\)$", f["reason"]))]
for f in bad + vague:
    print(f"FAIL: {f['file']}: {f['verdict']} at {f['stage']}: {f['reason']}")
print(f"{sys.argv[2]}: {d['ok']} ok, {d['refused']} refused, {d['crash']} crash, {d['timeout']} timeout")
sys.exit(1 if bad or vague or changed else 0)
PY
}

"$pemap" verify --corpus testdata/bin --json > "$tmp/testdata.json"
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: verify --corpus testdata/bin: exit $rc"; fail=$((fail + 1)); }
check "$tmp/testdata.json" testdata testdata/bin
# Every testdata image loads (fixed.dll too: alone in its process, its preferred base is free).
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['ok'] == len(d['files']) > 40 else 1)" \
  "$tmp/testdata.json" || { echo "FAIL: not every testdata image is ok"; fail=$((fail + 1)); }

have_corpus=0
if [ -n "$corpus" ] && [ -f "$corpus/MANIFEST.tsv" ]; then  # the corpus, not just a directory of that name
  have_corpus=1
  "$pemap" verify --corpus "$corpus" --json > "$tmp/corkami.json"
  rc=$?
  [ "$rc" -eq 0 ] || { echo "FAIL: verify --corpus $corpus: exit $rc"; fail=$((fail + 1)); }
  check "$tmp/corkami.json" corkami "$corpus"
  # Files that are not PE images at all (no MZ, or empty: MANIFEST.tsv, the notes) are counted, not given verdicts.
  python3 - "$tmp/corkami.json" "$corpus" <<'PY' || fail=$((fail + 1))
import json, os, sys
d, corpus = json.load(open(sys.argv[1])), sys.argv[2]
def mz(p):
    with open(p, "rb") as f:
        return f.read(2) == b"MZ"
files = [os.path.join(r, n) for r, _, ns in os.walk(corpus) for n in ns]
not_pe = sum(1 for p in files if os.path.isfile(p) and not mz(p))
listed = {os.path.relpath(f["file"], corpus) for f in d["files"]}
ok = d["not_pe"] == not_pe > 0 and "MANIFEST.tsv" not in listed
print(("" if ok else "FAIL: ") + f"corkami: {d['not_pe']} files counted as not PE images, {not_pe} without MZ")
sys.exit(0 if ok else 1)
PY
fi

# A FIFO blocks the child's open forever: a timeout, reported as such, exit 1; the other file is still ok.
mkdir "$tmp/hang"
mkfifo "$tmp/hang/fifo.exe"
cp testdata/bin/x64/liba.dll "$tmp/hang/"
"$pemap" verify --corpus "$tmp/hang" --timeout 1 --json > "$tmp/hang.json"
rc=$?
python3 - "$tmp/hang.json" "$rc" <<'PY' || fail=$((fail + 1))
import json, sys
d, rc = json.load(open(sys.argv[1])), int(sys.argv[2])
v = {f["file"].rsplit("/", 1)[1]: f for f in d["files"]}
ok = rc == 1 and v["fifo.exe"]["verdict"] == "timeout" and v["fifo.exe"]["stage"] == "parse" and v["liba.dll"]["verdict"] == "ok"
print(("" if ok else "FAIL: ") + f"FIFO: exit {rc}, {v['fifo.exe']['verdict']} at {v['fifo.exe']['stage']}; liba.dll {v['liba.dll']['verdict']}")
sys.exit(0 if ok else 1)
PY

# A child that dies of a signal is a crash, named with the signal.
rm "$tmp/hang/liba.dll"
"$pemap" verify --corpus "$tmp/hang" --timeout 60 --json > "$tmp/crash.json" &
verify=$!
child=""
for _ in $(seq 100); do
  child=$(pgrep -P "$verify" | head -1)
  [ -n "$child" ] && break
  sleep 0.05
done
[ -n "$child" ] && kill -SEGV "$child"
wait "$verify"
rc=$?
python3 - "$tmp/crash.json" "$rc" <<'PY' || fail=$((fail + 1))
import json, sys
d, rc = json.load(open(sys.argv[1])), int(sys.argv[2])
f = d["files"][0]
ok = rc == 1 and f["verdict"] == "crash" and f["reason"].startswith("signal 11")
print(("" if ok else "FAIL: ") + f"killed child: exit {rc}, {f['verdict']}: {f['reason']}")
sys.exit(0 if ok else 1)
PY

[ "$fail" -eq 0 ] || exit 1
if [ "$have_corpus" -eq 0 ]; then
  echo "SKIP: corkami corpus (its MANIFEST.tsv) not found at '$corpus' (testdata, timeout and crash verdicts passed)"
  exit 77
fi
echo "corpus verdicts: all passed"
