#!/usr/bin/env bash
# The pictures' pages in Chromium, on this machine: the size of `pemap load --html` of Wine's notepad.exe (21
# modules) and of testdata's app.exe, and how long headless Chromium takes to render each, as the median of 7
# screenshots of the page against 7 of an empty page in the same run (the difference is the page's own cost:
# parse, style, layout, the script, paint), with the moment the page's script finished (performance.now()).
# Writes the "Pictures" part of docs/performance.md; exits 1 when the notepad page is 1 MB or more, or takes a
# second or more to render.
# Usage: bench/pictures.sh [BUILD_DIR]   (default build/; needs pemap and Debian's chromium)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ -x "$build/inspector/pemap" ] || { echo "bench/pictures.sh: $build/inspector/pemap not built" >&2; exit 2; }
command -v chromium > /dev/null || { echo "bench/pictures.sh: chromium missing (scripts/install-deps.sh)" >&2; exit 2; }
/usr/bin/python3 - "$root" "$build/inspector/pemap" "$root/docs/performance.md" << 'PY'
import datetime, os, re, statistics, subprocess, sys, tempfile, time
root, pemap, doc = sys.argv[1:4]
sys.path.insert(0, os.path.join(root, "bench"))
sys.dont_write_bytecode = True  # no __pycache__ left in the repository
from doc_section import write_section
WINE = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
RUNS = 7
os.chdir(root)
with tempfile.TemporaryDirectory() as work:
    chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=1280,1400", f"--user-data-dir={work}/profile"]
    pages = [("testdata app.exe (x86)", ["testdata/bin/x86/app.exe", "--system-dir", "testdata/bin/x86/system"])]
    if os.path.exists(f"{WINE}/notepad.exe"):
        pages.append(("Wine's notepad.exe", [f"{WINE}/notepad.exe"]))
    empty = f"{work}/empty.html"
    open(empty, "w").write("<!DOCTYPE html><html><body></body></html>")

    def screenshot(url):
        start = time.perf_counter()
        subprocess.run(chromium + [f"--screenshot={work}/shot.png", url], capture_output=True, timeout=120)
        return time.perf_counter() - start

    def ready_ms(url):
        out = subprocess.run(chromium + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        m = re.search(r'data-ready-ms="([0-9.]+)"', out)
        return float(m.group(1)) if m else float("nan")

    rows = []
    for label, args in pages:
        page = f"{work}/page.html"
        run = subprocess.run([pemap, "load", "--html", page] + args, capture_output=True)
        text = open(page).read()
        modules, bindings = len(re.findall(r'<g class="module"', text)), len(re.findall(r'<tr data-from', text))
        base, full = [], []
        for _ in range(RUNS):  # alternating, so that the machine's load falls on both alike
            base.append(screenshot("file://" + empty))
            full.append(screenshot("file://" + page))
        ready = statistics.median(ready_ms("file://" + page) for _ in range(3))
        rows.append(dict(label=label, modules=modules, bindings=bindings, size=os.path.getsize(page), empty=statistics.median(base),
                         page=statistics.median(full), ready=ready))
        print(f"{label}: {os.path.getsize(page)} bytes, {modules} modules, empty {statistics.median(base):.3f} s, "
              f"page {statistics.median(full):.3f} s, script done at {ready:.0f} ms", file=sys.stderr)

out = ["## Pictures\n",
       "`bench/pictures.sh`: the page `pemap load --html` writes, opened by Debian's Chromium, headless, in one run on "
       f"this machine ({os.cpu_count()} CPUs, {datetime.date.today().isoformat()}). Render time is the median of "
       f"{RUNS} screenshots of the page (1280 by 1400 pixels) less the median of {RUNS} of an empty page, taken "
       "alternately: what the page itself costs Chromium to parse, style, lay out, script and paint. The script "
       "column is when the page's script finished (performance.now()).\n",
       "| page | modules | size | empty page | this page | page's own cost | script done |",
       "|---|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    out.append(f"| {r['label']} | {r['modules']} | {r['size'] / 1000:,.0f} kB | {r['empty'] * 1000:,.0f} ms | "
               f"{r['page'] * 1000:,.0f} ms | **{(r['page'] - r['empty']) * 1000:,.0f} ms** | {r['ready']:,.0f} ms |")
notepad = [r for r in rows if "notepad" in r["label"]]
if notepad:
    r = notepad[0]
    ok_size, ok_time = r["size"] < 1_000_000, r["page"] - r["empty"] < 1.0
    out.append(f"\n- Goal: the notepad page under 1 MB ({r['size'] / 1e6:.2f} MB, {'met' if ok_size else 'missed'}) "
               f"and rendered in under 1 s ({r['page'] - r['empty']:.2f} s, {'met' if ok_time else 'missed'}). "
               "The import arrows are drawn by the page's script when a module is chosen, from the bindings table, "
               f"rather than written into the page for each of the {r['bindings']:,} bindings (about 300 bytes an "
               f"arrow, {r['bindings'] * 300 / 1e6:.1f} MB more).")
print(write_section(doc, "bench/pictures.sh", out))
sys.exit(0 if not notepad or (notepad[0]["size"] < 1_000_000 and notepad[0]["page"] - notepad[0]["empty"] < 1.0) else 1)
PY
