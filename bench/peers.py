"""The measuring half of bench/peers.sh: runs every tool on every input, writes the peers part of
docs/performance.md. Wall time is taken around the tool's own process, reaped with wait4, so that no wrapper adds
its start-up to every figure. Peak RSS comes from one more run under GNU time (%M): a child's ru_maxrss also
counts what the process held before exec, which for a child of Python is Python's own memory."""
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the repository
from doc_section import write_section  # noqa: E402

root, build, load_json, doc = sys.argv[1:5]
mingw_dll = "/usr/lib/gcc/x86_64-w64-mingw32/12-win32/libstdc++-6.dll"  # as bench/parse_bench.cpp uses it
corkami = os.path.normpath(os.path.join(root, "..", "shared", "corpus", "corkami"))

# Each tool's full-inspection command, and which tables it shows (from its documented options; the "lines"
# columns below are measured). pemap all: DOS/COFF/optional headers, data directories, load config, debug,
# sections, imports (delay and bound too), exports, every relocation entry, TLS.
TOOLS = [
    ("pemap", [f"{build}/inspector/pemap", "all"]),
    ("LIEF 0.9", [f"{build}/bench/pemap_lief_inspect"]),
    ("pefile", ["/usr/bin/python3", f"{root}/bench/pefile_inspect.py"]),
    ("readpe", ["readpe", "-A"]),
    ("llvm-readobj", ["llvm-readobj", "--file-headers", "--sections", "--coff-imports", "--coff-exports",
                      "--coff-basereloc", "--coff-tls-directory", "--coff-load-config", "--coff-debug-directory"]),
    ("objdump -p", ["objdump", "-p"]),
]
SHOWS = {  # headers, data dirs, sections, imports, delay imports, exports, relocations, TLS, load config
    "pemap": "yes yes yes yes yes yes yes yes yes",
    "LIEF 0.9": "yes yes yes yes no yes yes yes no",
    "pefile": "yes yes yes yes yes yes yes yes yes",
    "readpe": "yes yes yes yes no yes no no no",
    "llvm-readobj": "yes yes yes yes yes yes yes yes yes",
    "objdump -p": "yes yes no yes no yes yes no no",
}
TIMEOUT = 30  # seconds; readpe runs for minutes on manyimportsW7.exe


def run_group(cmd, out):
    """(wall seconds, peak RSS KiB, exit status) of one run, "timeout" as the status when it ran out of time (then
    its whole process group is killed)."""
    timed_out = threading.Event()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)

    def kill():
        timed_out.set()
        os.killpg(p.pid, 9)

    timer = threading.Timer(TIMEOUT, kill)
    timer.start()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    if timed_out.is_set():
        return TIMEOUT, 0, "timeout"
    return wall, usage.ru_maxrss, p.returncode  # ru_maxrss: see the module's docstring


def peak_rss(cmd):
    """Peak RSS in KiB of one run of `cmd` under GNU time, 0 when it timed out."""
    with tempfile.NamedTemporaryFile("r") as t:
        _, _, status = run_group(["/usr/bin/time", "-o", t.name, "-f", "%M"] + cmd, subprocess.DEVNULL)
        if status == "timeout":
            return 0
        return int([l for l in t.read().split("\n") if l and not l.startswith("Command")][-1])


def run(cmd, path):
    """(wall seconds, peak RSS KiB, exit status) of `cmd` on `path`: the wall time of a run of its own, the RSS of
    another under GNU time."""
    wall, _, status = run_group(cmd + [path], subprocess.DEVNULL)
    return wall, (0 if status == "timeout" else peak_rss(cmd + [path])), status


def ok(name, status):
    # pemap exits 1 for findings (warnings), which still prints everything.
    return status == 0 or (name == "pemap" and status == 1)


def median_run(cmd, path, reps):
    """(median wall seconds, peak RSS KiB, exit status) over `reps` runs, the RSS from one more."""
    runs = [run_group(cmd + [path], subprocess.DEVNULL)]
    if runs[0][2] == "timeout":
        return runs[0]
    runs += [run_group(cmd + [path], subprocess.DEVNULL) for _ in range(reps - 1)]
    return statistics.median(r[0] for r in runs), peak_rss(cmd + [path]), runs[0][2]


def output_lines(cmd, path):
    with tempfile.TemporaryFile() as f:
        if run_group(cmd + [path], f)[2] == "timeout":
            return None
        f.seek(0)
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


singles = [("bigreloc.dll", f"{root}/testdata/bin/x64/bigreloc.dll", 5),
           ("libstdc++-6.dll", mingw_dll, 5),
           ("manyimportsW7.exe", f"{corkami}/manyimportsW7.exe", 3)]
singles = [s for s in singles if os.path.exists(s[1])]
sets = [("testdata/bin", sorted(p for p in glob.glob(f"{root}/testdata/bin/**/*", recursive=True)
                                if os.path.isfile(p)))]
if os.path.isdir(corkami):
    sets.append(("corkami", sorted(p for p in glob.glob(f"{corkami}/**/*", recursive=True)
                                   if os.path.isfile(p) and not p.endswith((".txt", ".tsv")))))
else:
    print(f"bench/peers.sh: {corkami} absent, corkami skipped", file=sys.stderr)

# pemap's own footprint before it reads a file: `pemap --version` (libstdc++ and fmt mapped and initialized).
base_rss = peak_rss([f"{build}/inspector/pemap", "--version"])


def startup_ms(cmd, reps=9):
    """Median wall time of a run that reads no file (the process's own cost)."""
    return statistics.median(run_group(cmd, subprocess.DEVNULL)[0] for _ in range(reps)) * 1000


startup = {"pemap": startup_ms([f"{build}/inspector/pemap", "--version"]),
           "readpe": startup_ms(["readpe", "--version"]),
           "LIEF 0.9": startup_ms([f"{build}/bench/pemap_lief_inspect"])}

load_before = os.getloadavg()[0]
results = {}  # (input, tool) -> dict
for label, path, reps in singles:
    size = os.path.getsize(path)
    for name, cmd in TOOLS:
        wall, rss, status = median_run(cmd, path, reps)
        lines = output_lines(cmd, path) if status != "timeout" else None
        results[(label, name)] = dict(wall=wall, rss=rss, ok=ok(name, status), size=size, lines=lines, files=1,
                                      failed=0 if ok(name, status) else 1, timeout=status == "timeout")
        print(f"{label:20} {name:14} {wall * 1000:10.1f} ms {rss / 1024:8.1f} MiB  {status}", file=sys.stderr)
for label, files in sets:
    for name, cmd in TOOLS:
        total, peak, failed, over, timeouts = 0.0, 0, 0, [], 0
        for f in files:
            wall, rss, status = run(cmd, f)
            total += wall
            peak = max(peak, rss)
            failed += not ok(name, status)
            timeouts += status == "timeout"
            if name == "pemap":
                over.append((f, rss - base_rss, os.path.getsize(f)))
        results[(label, name)] = dict(wall=total, rss=peak, files=len(files), failed=failed, over=over,
                                      timeout=timeouts > 0)
        print(f"{label:20} {name:14} {total * 1000:10.1f} ms {peak / 1024:8.1f} MiB  {failed} failed",
              file=sys.stderr)

# pemap's machine-readable output against its own text, same inputs, same run: `all --json` and `all --jsonl`.
FORMATS = [("--json", [f"{build}/inspector/pemap", "all", "--json"]),
           ("--jsonl", [f"{build}/inspector/pemap", "all", "--jsonl"])]
formats = {}  # (input, format) -> dict(wall, rss)
for label, path, reps in singles:
    for name, cmd in FORMATS:
        wall, rss, status = median_run(cmd, path, reps)
        formats[(label, name)] = dict(wall=wall, rss=rss, failed=0 if ok("pemap", status) else 1)
for label, files in sets:
    for name, cmd in FORMATS:
        total, peak, failed = 0.0, 0, 0
        for f in files:
            wall, rss, status = run(cmd, f)
            total, peak, failed = total + wall, max(peak, rss), failed + (not ok("pemap", status))
        formats[(label, name)] = dict(wall=total, rss=peak, failed=failed)

# Before and after a change, in the same run: PEMAP_BEFORE names another build's pemap (say, of the commit before
# the change); `all` and `all --json` are timed with both on every input.
before_bin = os.environ.get("PEMAP_BEFORE")
before = {}  # (input, command) -> (before wall, after wall)
if before_bin:
    for label, path, reps in singles:
        for args in (["all"], ["all", "--json"]):
            b = median_run([before_bin] + args, path, reps)[0]
            a = median_run([f"{build}/inspector/pemap"] + args, path, reps)[0]
            before[(label, " ".join(args))] = (b, a)
    # Each file's runs alternate between the two builds, so that a change in the machine's load falls on both.
    def median_pair(args, f, reps=3):
        pairs = [(run_group([before_bin] + args + [f], subprocess.DEVNULL)[0],
                  run_group([f"{build}/inspector/pemap"] + args + [f], subprocess.DEVNULL)[0]) for _ in range(reps)]
        return statistics.median(b for b, _ in pairs), statistics.median(a for _, a in pairs)
    for label, files in sets:
        for args in (["all"], ["all", "--json"]):
            pairs = [median_pair(args, f) for f in files]
            before[(label, " ".join(args))] = (sum(b for b, _ in pairs), sum(a for _, a in pairs))

# Resources and signatures: `pemap resources` and `pemap signature` against LIEF's and pefile's parses of the
# same tables (bench/lief_inspect.cpp and bench/pefile_inspect.py, --resources and --signature). Signed inputs are
# made here, in a directory removed at the end: testdata files signed by osslsigncode with a throwaway certificate.
WINE_DIR = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
TABLE_TOOLS = {
    what: [("pemap", [f"{build}/inspector/pemap", what]),
           ("LIEF 0.9", [f"{build}/bench/pemap_lief_inspect", f"--{what}"]),
           ("pefile", ["/usr/bin/python3", f"{root}/bench/pefile_inspect.py", f"--{what}"])]
    for what in ("resources", "signature")}
signing = tempfile.TemporaryDirectory()
table_inputs = {"resources": [], "signature": []}  # what -> [(label, [paths], reps)]
for name in ("shell32.dll", "comctl32.dll"):
    if os.path.exists(f"{WINE_DIR}/{name}"):
        table_inputs["resources"].append((f"Wine's {name}", [f"{WINE_DIR}/{name}"], 5))
table_inputs["resources"].append(("versioned.exe", [f"{root}/testdata/bin/x64/versioned.exe"], 5))
wine_dlls = sorted(glob.glob(f"{WINE_DIR}/*.dll"))[::10]
if wine_dlls:
    table_inputs["resources"].append((f"Wine's DLLs, every 10th", wine_dlls, 1))
key, cert = f"{signing.name}/test.key", f"{signing.name}/test.pem"
made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30",
                       "-subj", "/CN=pemap bench", "-keyout", key, "-out", cert], capture_output=True)
for name in ("x64/bigreloc.dll", "x64/versioned.exe", "x86/app.exe"):
    signed = f"{signing.name}/{os.path.basename(name)}"
    if made.returncode == 0 and subprocess.run(
            ["osslsigncode", "sign", "-certs", cert, "-key", key, "-h", "sha256", "-in", f"{root}/testdata/bin/{name}",
             "-out", signed], capture_output=True).returncode == 0:
        table_inputs["signature"].append((f"{os.path.basename(name)}, signed", [signed], 5))
if not table_inputs["signature"]:
    print("bench/peers.sh: openssl or osslsigncode failed: signatures are not measured", file=sys.stderr)
if os.path.exists(f"{corkami}/signature.exe"):
    table_inputs["signature"].append(("corkami signature.exe", [f"{corkami}/signature.exe"], 5))
tables = {}  # (what, input, tool) -> dict(wall, rss, lines, failed)
for what, inputs in table_inputs.items():
    for label, paths, reps in inputs:
        for name, cmd in TABLE_TOOLS[what]:
            runs = [median_run(cmd, p, reps) for p in paths]
            tables[(what, label, name)] = dict(
                wall=sum(r[0] for r in runs), rss=max(r[1] for r in runs),
                failed=sum(not ok(name, r[2]) for r in runs), files=len(paths),
                lines=output_lines(cmd, paths[0]) if len(paths) == 1 else None)
            print(f"{what:10} {label:28} {name:10} {tables[(what, label, name)]['wall'] * 1000:10.1f} ms",
                  file=sys.stderr)
signing.cleanup()

# A real program's load: Wine's notepad.exe and the DLLs it pulls in from the directory Debian's Wine packages
# install, against `pemap info` (parse only) and `pemap map` (parse, lay out the image object, map a view) over the
# same files, in the same run.
program = None
if os.path.exists(f"{WINE_DIR}/notepad.exe"):
    pemap = f"{build}/inspector/pemap"
    report = json.loads(subprocess.run([pemap, "load", "--json", f"{WINE_DIR}/notepad.exe", "--path", WINE_DIR],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout)
    graph = [m["path"] for m in report["modules"]]
    times = {}
    for what, cmd in [("load", [pemap, "load", f"{WINE_DIR}/notepad.exe", "--path", WINE_DIR]),
                      ("info", [pemap, "info"] + graph), ("map", [pemap, "map"] + graph)]:
        times[what] = statistics.median(run_group(cmd, subprocess.DEVNULL)[0] for _ in range(9))
    program = dict(modules=len(graph), bytes=sum(os.path.getsize(p) for p in graph), **times)
else:
    print(f"bench/peers.sh: {WINE_DIR} absent (Debian's wine64 installs it): the program load is not measured",
          file=sys.stderr)

load = {b["run_name"]: b for b in json.load(open(load_json))["benchmarks"] if b.get("aggregate_name") == "median"}
us = lambda b: b["real_time"] * {"us": 1, "ms": 1000, "ns": 0.001}[b["time_unit"]]

lines_text = lambda n: "timed out" if n is None else f"{n:,}"
mib = lambda kib: f"{kib / 1024:,.1f}"
peers = [n for n, _ in TOOLS if n != "pemap"]
labels = [s[0] for s in singles] + [s[0] for s in sets]
out = ["## Against peers\n"]
out.append("`bench/peers.sh` runs each tool's full inspection (headers, sections, imports, exports, base")
out.append("relocations) of the same files in one run, each a process of its own with output to /dev/null, reaped")
out.append("with wait4: wall time from spawn to exit (median of 5 runs, 3 for manyimportsW7.exe; the sum over the")
out.append("files for a directory), and peak RSS from GNU time's `%M` in a run of its own (the largest over a")
out.append("directory's files).")
out.append("Ratios are **pemap / peer**: below 1 pemap is faster or smaller.\n")
out.append(f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; run "
           f"{datetime.date.today().isoformat()}, load average {load_before:.1f} at the start and "
           f"{os.getloadavg()[0]:.1f} at the end (other work on the machine slows every tool alike, so compare "
           f"the ratios rather than the times). Commands: " +
           "; ".join(f"{n}: `{' '.join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd[:8]))}" +
                     (" …`" if len(cmd) > 8 else "`") for n, cmd in TOOLS) + ".\n")
out.append("### Wall time, pemap / peer\n")
out.append("| input | pemap | " + " | ".join(peers) + " |")
out.append("|---|---:|" + "---:|" * len(peers))
for label in labels:
    p = results[(label, "pemap")]
    cells = []
    for n in peers:
        r = results[(label, n)]
        more, at_most = (", timed out", "≤ ") if r.get("timeout") else ("", "")
        cells.append(f"**{at_most}{p['wall'] / r['wall']:.2f}** ({r['wall'] * 1000:,.1f} ms{more})")
    files = f" ({p['files']} files)" if p["files"] > 1 else ""
    out.append(f"| {label}{files} | {p['wall'] * 1000:,.1f} ms | " + " | ".join(cells) + " |")
out.append("\n### Peak RSS, pemap / peer\n")
out.append("| input | size | pemap | " + " | ".join(peers) + " |")
out.append("|---|---:|---:|" + "---:|" * len(peers))
for label in labels:
    p = results[(label, "pemap")]
    size = f"{p['size'] / 2**20:,.2f} MiB" if "size" in p else "-"
    cells = [f"**{p['rss'] / results[(label, n)]['rss']:.2f}** ({mib(results[(label, n)]['rss'])} MiB)"
             if results[(label, n)]['rss'] else "-" for n in peers]
    out.append(f"| {label} | {size} | {mib(p['rss'])} MiB | " + " | ".join(cells) + " |")
out.append(f"\npemap's own footprint before it reads a file (`pemap --version`: libstdc++ and fmt; LIEF is loaded only")
out.append(f"by `pemap verify`'s helper) is {mib(base_rss)} MiB; the RSS goal below is measured above it.\n")
out.append("### What each tool showed\n")
out.append("Tables each command prints (from its options), and lines of output it printed here (measured):\n")
cols = ["headers", "data dirs", "sections", "imports", "delay imports", "exports", "relocations", "TLS",
        "load config"]
out.append("| tool | " + " | ".join(cols) + " | " + " | ".join(f"lines, {s[0]}" for s in singles) + " |")
out.append("|---|" + "---|" * len(cols) + "---:|" * len(singles))
for n, _ in TOOLS:
    out.append(f"| {n} | " + " | ".join(SHOWS[n].split()) + " | " +
               " | ".join(lines_text(results[(s[0], n)]['lines']) for s in singles) + " |")
fails = [f"{n} on {results[(l, n)]['failed']} of {results[(l, n)]['files']} {l} files"
         for l in labels for n, _ in TOOLS if results[(l, n)]["failed"]]
out.append("\nFailed (exit status other than 0, or 1 with findings for pemap; a crash or a " +
           f"{TIMEOUT} s timeout): " + ("; ".join(fails) if fails else "none") + ". A failed run still counts in the time.\n")

out.append("### Goals\n")
lief = [results[(l, "pemap")]["wall"] / results[(l, "LIEF 0.9")]["wall"] for l in labels]
out.append(f"- Full inspection at least 10x faster than LIEF 0.9 (pemap / LIEF ≤ 0.10): "
           + ", ".join(f"{l} {r:.2f} ({'met' if r <= 0.1 else 'missed'})" for l, r in zip(labels, lief)) + ".")
if "bigreloc.dll" in labels:
    r = results[("bigreloc.dll", "pemap")]["wall"] / results[("bigreloc.dll", "readpe")]["wall"]
    out.append(f"- Faster than readpe on bigreloc.dll while showing more: pemap / readpe {r:.2f} "
               f"({'met' if r < 1 else 'missed'}); pemap printed "
               f"{results[('bigreloc.dll', 'pemap')]['lines']:,} lines, readpe "
               f"{results[('bigreloc.dll', 'readpe')]['lines']:,} (it has no option for relocations).")
# (path, KiB above the footprint, bytes) of every pemap run; below 1 MiB twice the file is less than what a full
# inspection's own code and heap add to `pemap --version`, so the goal is checked on the larger files.
every = [(path, results[(l, "pemap")]["rss"] - base_rss, results[(l, "pemap")]["size"])
         for l, path, _ in singles] + [r for l, _ in sets for r in results[(l, "pemap")]["over"]]
big = {os.path.realpath(p): (p, extra, size) for p, extra, size in every if size >= 2**20}.values()
small = max((extra for _, extra, size in every if size < 2**20), default=0)
over = [(p, extra, size) for p, extra, size in big if extra * 1024 > 2 * size]
out.append(f"- pemap's peak RSS below twice the file size on every input, counted above its {mib(base_rss)} MiB "
           f"footprint, on the {len(big)} files of 1 MiB or more (on the smaller ones a full inspection's own code "
           f"and heap add up to {mib(small)} MiB to the footprint, more than twice such a file): " +
           ("met" if not over else f"missed on {len(over)}") + ": " +
           "; ".join(f"{os.path.basename(p)} {mib(extra)} MiB for {size / 2**20:.2f} MiB "
                     f"({'met' if extra * 1024 <= 2 * size else 'missed'})"
                     for p, extra, size in sorted(big, key=lambda b: os.path.basename(b[0]))) + ".")
out.append("")
out.append("Why, where a goal is missed:\n")
out.append(f"- Every row here is a whole process. Before it reads a file pemap takes {startup['pemap']:.1f} ms "
           f"(`pemap --version`, same run: loading libstdc++ and fmt, and building its CLI11 command table); readpe "
           f"takes {startup['readpe']:.1f} ms and "
           f"LIEF's program {startup['LIEF 0.9']:.1f} ms. On small files (testdata) that is most of the time, so "
           f"the ratio to LIEF cannot reach 0.10 there. The parse and walk alone, without a process or printing, "
           f"is the first table of this page.")
out.append("- pemap prints what it parses: on bigreloc.dll every one of its relocation entries is a line, and "
           "formatting them is most of pemap's time there; readpe prints no relocations at all (pev has no option "
           "for them), so it has a small fraction of the work. The lines column above says how much each showed.")
if "manyimportsW7.exe" in labels:
    info = json.loads(subprocess.run([f"{build}/inspector/pemap", "info", "--json", f"{corkami}/manyimportsW7.exe"],
                                     stdout=subprocess.PIPE).stdout)
    n = info["counts"]["import_functions"]
    out.append(f"- manyimportsW7.exe holds {n:,} import entries behind a TLS AddressOfIndex that points into its "
               f"third import descriptor: a loader that writes the TLS index first sees two modules, and pemap "
               f"warns so but lists the table as the file holds it, walking it twice (once to size the columns, "
               f"once to print) in the memory of one entry. LIEF, pefile and objdump stop at the third descriptor "
               f"(see the lines), so they do a small fraction of the work; the ratio there compares different "
               f"outputs.")
for p, extra, size in over:
    # pemap info prints no table: if it peaks as high, the memory is the parser's, not the text's.
    info_rss = peak_rss([f"{build}/inspector/pemap", "info", p])
    out.append(f"- {os.path.basename(p)}: `pemap info`, which prints no table, peaks at {mib(info_rss)} MiB against "
               f"{mib(extra + base_rss)} MiB for `pemap all`, so what is above the goal is the parse "
               f"(`loader/pe`), not the output.")
out.append("")

out.append("### JSON against text\n")
out.append("`pemap all --json` and `pemap all --jsonl` against `pemap all` on the same inputs, in the same run, measured "
           "as above. Ratios are **JSON / text**. Both back ends print as the parser walks, so neither holds the "
           "document.\n")
out.append("| input | text | --json | --jsonl | peak RSS: text | --json | --jsonl |")
out.append("|---|---:|---:|---:|---:|---:|---:|")
for label in labels:
    t = results[(label, "pemap")]
    row = [f"{t['wall'] * 1000:,.1f} ms"]
    row += [f"**{formats[(label, n)]['wall'] / t['wall']:.2f}** ({formats[(label, n)]['wall'] * 1000:,.1f} ms)"
            for n, _ in FORMATS]
    row += [f"{mib(t['rss'])} MiB"] + [f"**{formats[(label, n)]['rss'] / t['rss']:.2f}** "
                                       f"({mib(formats[(label, n)]['rss'])} MiB)" for n, _ in FORMATS]
    out.append(f"| {label} | " + " | ".join(row) + " |")
worst = max(formats[(l, n)]["wall"] / results[(l, "pemap")]["wall"] for l in labels for n, _ in FORMATS)
worst_rss = max((formats[(l, n)]["rss"] - base_rss) / max(results[(l, "pemap")]["rss"] - base_rss, 1)
                for l in labels for n, _ in FORMATS)
# A file pemap cannot use fails the same way in every form (exit 2): only a difference from the text would be news.
failed_formats = [f"{n} on {l} ({formats[(l, n)]['failed']}, text {results[(l, 'pemap')]['failed']})"
                  for l in labels for n, _ in FORMATS if formats[(l, n)]["failed"] != results[(l, "pemap")]["failed"]]
out.append(f"\n- Goal: `--json` and `--jsonl` within 1.5x of the text's time on every input: the largest ratio is "
           f"{worst:.2f} ({'met' if worst <= 1.5 else 'missed'}). Their peak RSS above the footprint is at most "
           f"{worst_rss:.2f}x the text's. Runs that failed where the text did not: "
           f"{', '.join(failed_formats) if failed_formats else 'none'}.")
if singles:
    def output_bytes(cmd, path):
        with tempfile.TemporaryFile() as f:
            subprocess.run(cmd + [path], stdout=f, stderr=subprocess.DEVNULL)
            return f.seek(0, os.SEEK_END)
    label, path, _ = singles[0]
    text_bytes = output_bytes([f"{build}/inspector/pemap", "all"], path)
    out.append(f"- JSON says more than text (every field named, every relocation an object): on {label} `--json` "
               f"wrote {output_bytes(FORMATS[0][1], path) / text_bytes:.1f} times the text's bytes and `--jsonl` "
               f"{output_bytes(FORMATS[1][1], path) / text_bytes:.1f} times.")
out.append("")

out.append("### Resources and signatures\n")
out.append("`pemap resources` and `pemap signature` against LIEF 0.9 (`pemap_lief_inspect --resources`: the tree, "
           "each leaf's bytes, the version resource and the manifest through its ResourcesManager; `--signature`: "
           "the PKCS#7 SignedData it parses) and pefile (`pefile_inspect.py --resources`: the tree, each leaf's "
           "bytes and the version resource; `--signature`: the certificate table, since pefile reads no PKCS#7, "
           "and the SHA-256 image digest computed over its parse). pemap also decodes the manifest with libxml2, "
           "and recomputes and compares the image digest and verifies the signature with OpenSSL. Measured as "
           "above; the signed inputs are testdata files signed in the run by osslsigncode (SHA-256, a throwaway "
           "certificate). Ratios are **pemap / peer**.\n")
out.append("| table | input | pemap | LIEF 0.9 | pefile | lines: pemap, LIEF, pefile |")
out.append("|---|---|---:|---:|---:|---|")
for what, inputs in table_inputs.items():
    for label, paths, _ in inputs:
        p = tables[(what, label, "pemap")]
        cells = [f"**{p['wall'] / tables[(what, label, n)]['wall']:.2f}** "
                 f"({tables[(what, label, n)]['wall'] * 1000:,.1f} ms)" for n in ("LIEF 0.9", "pefile")]
        lines = ", ".join("-" if tables[(what, label, n)]["lines"] is None else f"{tables[(what, label, n)]['lines']:,}"
                          for n, _ in TABLE_TOOLS[what])
        files = f" ({len(paths)} files)" if len(paths) > 1 else ""
        out.append(f"| {what} | {label}{files} | {p['wall'] * 1000:,.1f} ms | " + " | ".join(cells) + f" | {lines} |")
table_fails = [f"{n} {what} on {r['failed']} of {r['files']} {label} files"
               for (what, label, n), r in tables.items() if r["failed"]]
out.append("\nFailed (exit status other than 0, or 1 with findings for pemap): " +
           ("; ".join(table_fails) if table_fails else "none") + ".\n")

out.append("### Loading\n")
out.append("`pemap_load_bench`, same run, medians of 5 (wall time): bigreloc.dll (300,000 DIR64 fixups).\n")
out.append("| what | time | figure |")
out.append("|---|---:|---|")
first, second = load["load/bigreloc.dll first instance"], load["load/bigreloc.dll second instance"]
pref, disp = load["load/bigreloc.dll at its preferred base"], load["load/bigreloc.dll displaced, relocated"]
out.append(f"| first instance: open, parse, lay out the image object, map a view | {us(first):,.1f} µs | |")
out.append(f"| second instance while the first view is alive (image object shared: "
           f"{'yes' if second.get('shared_section') == 1 else 'NO'}) | {us(second):,.1f} µs | "
           f"**{us(first) / us(second):,.1f}x** cheaper than the first |")
out.append(f"| a view at the preferred base (object built once) | {us(pref):,.1f} µs | no fixups |")
out.append(f"| a view displaced and relocated | {us(disp):,.1f} µs | {disp['fixups']:,.0f} fixups on "
           f"{disp['pages']:,.0f} pages: **{disp['fixups'] / us(disp):,.0f} million fixups/s**; "
           f"**{us(disp) / us(pref):,.0f}x** the unrelocated view |")
out.append("")
if program:
    ms = lambda s: f"{s * 1000:,.1f} ms"
    out.append(f"A real program: `pemap load notepad.exe --path {WINE_DIR}` (Wine's notepad.exe and the "
               f"{program['modules'] - 1} DLLs it loads, {program['bytes'] / 2**20:,.1f} MiB of files), against "
               f"`pemap info` and `pemap map` over the same {program['modules']} files, medians of 9 runs:\n")
    out.append("| command | time | / info |")
    out.append("|---|---:|---:|")
    for what, label in [("info", "`pemap info` (parse)"),
                        ("map", "`pemap map` (parse, lay out each image object, map a view, VirtualQuery)"),
                        ("load", "`pemap load` (all of that, plus search, bind, protections, the report)")]:
        out.append(f"| {label} | {ms(program[what])} | {program[what] / program['info']:.2f} |")
    ratio = program["load"] / program["info"]
    out.append(f"\n- Goal: the load within 2x of `pemap info` over the same files: {ratio:.2f} "
               f"({'met' if ratio <= 2 else 'missed'}).")
    out.append("- What bounds it: pemap copies every file byte of an image into its image object when the section "
               "is made, and seals the object, so that no process (image code in a child holds the descriptor) can "
               "change the pages every view starts from. Windows reads an image's pages in from the file as they "
               f"are touched. `pemap map` does the parse and that copy and nothing else of the load: it is "
               f"{program['map'] / program['info']:.1f}x `info` here, so the copy is "
               f"{(program['map'] - program['info']) / (program['load'] - program['info']) * 100:.0f}% of what the "
               f"load adds to the parse (a perf profile of this load agrees: pwrite into the image objects is its "
               f"largest symbol by far). The rest is the search, the binding of every import, the protections, "
               f"unmapping and closing the objects, and the report. Mapping the file's pages directly would give up the seal; Linux refuses copy_file_range "
               f"from a file to a memfd (EXDEV), which would have spared the copy through user space.")
if before:
    out.append("\n### Before and after\n")
    out.append("The build named by `PEMAP_BEFORE` (of the commit before the change) against this build, same run, "
               "medians as above. Ratios are **after / before**: below 1 the change made it faster.\n")
    out.append("| input | command | before | after | after / before |")
    out.append("|---|---|---:|---:|---:|")
    for (label, cmd), (b, a) in before.items():
        out.append(f"| {label} | `pemap {cmd}` | {b * 1000:,.1f} ms | {a * 1000:,.1f} ms | **{a / b:.2f}** |")
print(write_section(doc, "bench/peers.sh", out))
