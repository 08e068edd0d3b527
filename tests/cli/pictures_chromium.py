#!/usr/bin/env python3
"""The pictures' pages (`pemap load --html`, `pemap instances --html`, `pemap map --html`, `pemap relocs --check
--html`) opened in Debian's Chromium, headless:
- through the DOM the browser built and its script changed (--dump-dom): the script ran without an error; every
  module, region, private page, step and binding of the command's JSON is in the page, with the same addresses;
  a link to a step (#step=N) shows exactly what the events up to N made, and a link to a module (#module=NAME)
  shows its bindings and its arrows only; every instance's every page is there with its physical frame, shared
  where the JSON says all processes hold one frame and own where they differ;
- through screenshots at two widths (kept in a temporary directory): where the page's script says its picture lies
  on the screen, the centre of every solid-coloured region and private page in view has its colour.

Usage: pictures_chromium.py PEMAP REPO"""
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


class Dom(html.parser.HTMLParser):
    """Every element with its attributes and its direct text, in document order."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": list(self.stack)}
        self.elements.append(e)
        if tag not in ("meta", "input", "br", "img", "link"):
            self.stack.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": "", "parents": []})

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1]["text"] += data

    def find(self, tag=None, cls=None, **attrs):
        out = []
        for e in self.elements:
            if tag and e["tag"] != tag:
                continue
            if cls and cls not in e["attrs"].get("class", "").split():
                continue
            if all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(e)
        return out


def chromium_args(browser, work):
    # --no-sandbox: CI runs as root, where Chromium's own sandbox refuses to start; the pages are ours.
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
            "--v=0", f"--user-data-dir={work}/profile", "--crash-dumps-dir=" + f"{work}/crashes"]


def dom(browser, work, url):
    return dom_args(browser, work, url, [])


def dom_args(browser, work, url, extra):
    run = subprocess.run(chromium_args(browser, work) + extra + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=120)
    # Console messages come on stderr as CONSOLE lines; an uncaught error is one.
    for line in run.stderr.splitlines():
        if "CONSOLE" in line and ("Uncaught" in line or "Error" in line):
            failures.append(f"{url}: console: {line.strip()}")
    return Dom(run.stdout)


def hexa(v):
    return hex(v)


def check_load(pemap, browser, work, repo, arch):
    page = f"{work}/load-{arch}.html"
    args = [f"{repo}/testdata/bin/{arch}/app.exe", "--path", f"{repo}/testdata/bin/{arch}/system"]
    doc = json.loads(subprocess.run([pemap, "load", "--json"] + args, capture_output=True, check=True).stdout)
    subprocess.run([pemap, "load", "--html", page] + args, capture_output=True, check=True)
    url = "file://" + page
    d = dom(browser, work, url)
    where = f"load {arch}"
    status = d.find(id="script-status")
    check(status and status[0]["attrs"].get("data-state") == "ok", f"{where}: the script did not finish: {status}")
    errors = d.find(id="script-errors")
    check(errors and not errors[0]["text"].strip(), f"{where}: script errors: {errors}")
    modules = doc["modules"]
    check(any(m["base"] != m["preferred_base"] for m in modules), f"{where}: no displaced module to check")
    for m in modules:
        name, base = m["name"], m["base"]
        check(d.find("g", "module", data_module=name, data_base=hexa(base)),
              f"{where}: module {name} at {hexa(base)} is not in the page")
        if base != m["preferred_base"]:
            ghost = [e for e in d.find("rect", data_address=hexa(m["preferred_base"]))
                     if any("ghost" in p["attrs"].get("class", "").split() and p["attrs"].get("data-module") == name
                            for p in e["parents"])]
            check(ghost,
                  f"{where}: {name}'s ghost at {hexa(m['preferred_base'])} is not in the page")
        for r in m["regions"]:
            at = max(r["address"], base)
            if at >= base + m["size"]:
                continue
            check(len(d.find("rect", "region", data_address=hexa(at))) >= 2,
                  f"{where}: {name}'s region at {hexa(at)} is not drawn in the band and the row")
        for p in m["fixup_pages"]:
            check(d.find("rect", "private", data_address=hexa(base + p["rva"]), data_fixups=str(p["fixups"])),
                  f"{where}: {name}'s private page at {hexa(base + p['rva'])} ({p['fixups']} fixups) is missing")
        tables = d.find("table", "bindings", data_module=name)
        check(len(tables) == 1, f"{where}: no bindings table for {name}")
    check(sum(len(m["fixup_pages"]) for m in modules) > 0, f"{where}: no private pages to check")
    items = d.find("li")
    steps = [e for e in items if "data-step" in e["attrs"]]
    check(len(steps) == len(doc["events"]), f"{where}: {len(steps)} steps in the page, {len(doc['events'])} events")
    for e, li in zip(doc["events"], steps):
        check(li["text"].strip() == e["text"], f"{where}: step text {li['text']!r} is not {e['text']!r}")
        if li["text"].strip() != e["text"]:
            break

    # A link to a step: the picture as it stood after it. Modules not yet mapped are hidden, mapped ones shown.
    n = next(i for i, e in enumerate(doc["events"]) if e["step"] == "map" and i > 2) + 1
    d = dom(browser, work, url + f"#step={n}")
    body = d.find("body")
    check(body and body[0]["attrs"].get("data-step") == str(n - 1), f"{where}: #step={n} not shown: {body}")
    mapped = {e["module"].lower() for e in doc["events"][:n] if e["step"] == "map"}
    # Everything a step made (bands, ghosts, rows, private pages, arrows) is shown exactly when its step is done.
    dated = [e for e in d.elements if "data-from" in e["attrs"] and e["tag"] != "tr"]
    check(dated, f"{where}: nothing in the picture names the step that made it")
    for e in dated:
        hidden = "display: none" in e["attrs"].get("style", "")
        check(hidden == (int(e["attrs"]["data-from"]) > n - 1),
              f"{where}: after step {n}, a {e['tag']} of step {e['attrs']['data-from']} is "
              f"{'hidden' if hidden else 'shown'}")
    for g in d.find("g", "module"):
        hidden = "display: none" in g["attrs"].get("style", "")
        should = g["attrs"]["data-module"].lower() not in mapped
        check(hidden == should, f"{where}: after step {n}, {g['attrs']['data-module']} "
                                f"{'hidden' if hidden else 'shown'}")
    check(len([g for g in d.find("g", "module") if "display: none" not in g["attrs"].get("style", "")]) ==
          len(mapped), f"{where}: after step {n}, not exactly the {len(mapped)} modules mapped are shown")

    # A link to a module: its bindings and arrows only.
    # Not the first module, which the page shows by default: the link must be what changes it.
    importer = next(m for m in modules[1:] if m["bindings"])
    d = dom(browser, work, url + "#module=" + importer["name"])
    # The script draws the chosen module's arrows: from its IAT slots, each to the address its binding holds.
    arrows = d.find("path", "arrow")
    bound = {(hexa(importer["base"] + b["iat_rva"]), hexa(b["address"])) for b in importer["bindings"]}
    drawn = {(a["attrs"].get("data-slot"), a["attrs"].get("data-target")) for a in arrows}
    check(drawn and drawn <= bound, f"{where}: arrows {sorted(drawn - bound)[:3]} are not {importer['name']}'s bindings")
    in_picture = {(s, t) for s, t in bound if any(m["base"] <= int(t, 16) < m["base"] + m["size"] for m in modules)}
    check(drawn == in_picture, f"{where}: {len(drawn)} arrows drawn for {len(in_picture)} bindings to a module")
    for t in d.find("table", "bindings"):
        check(("hidden" in t["attrs"]) != (t["attrs"]["data-module"] == importer["name"]),
              f"{where}: bindings table of {t['attrs']['data-module']} hidden={'hidden' in t['attrs']}")
    return page


def check_instances(pemap, browser, work, repo):
    page = f"{work}/instances.html"
    dll = f"{repo}/testdata/bin/x64/shared.dll"
    doc = json.loads(subprocess.run([pemap, "instances", dll, "-n", "3", "--json"], capture_output=True,
                                    check=True).stdout)
    subprocess.run([pemap, "instances", dll, "-n", "3", "--html", page], capture_output=True, check=True)
    d = dom(browser, work, "file://" + page)
    where = "instances"
    check(len(doc["instances"]) == 3, f"{where}: {len(doc['instances'])} instances in the JSON")
    verdicts = {}
    for i, inst in enumerate(doc["instances"]):
        for r in inst["regions"]:
            for k, frame in enumerate(r["frames"]):
                address = hexa(inst["base"] + r["rva"] + 4096 * k)
                found = d.find("g", "page", data_process=str(i + 1), data_address=address)
                check(len(found) == 1, f"{where}: process {i + 1}'s page at {address} is not in the page")
                if found:
                    verdicts.setdefault(r["name"], set()).add(found[0]["attrs"]["data-verdict"])
    # Frames differ from run to run; what must hold: .data is each process's own, Shared is one page for all. The
    # kernel shows frames to root with CAP_SYS_ADMIN only (as CI runs); elsewhere every page reads "not in memory".
    if any(f for inst in doc["instances"] for r in inst["regions"] for f in r["frames"]):
        check(verdicts.get(".data") == {"own"}, f"{where}: .data pages are {verdicts.get('.data')}, not own")
        check(verdicts.get("Shared") == {"shared"}, f"{where}: Shared pages are {verdicts.get('Shared')}, not shared")
    else:
        print("note: the kernel shows no page frames here: shared and own are not checked")
    return page


def check_map(pemap, browser, work, repo):
    page = f"{work}/map.html"
    dll = f"{repo}/testdata/bin/x86/liba.dll"
    doc = json.loads(subprocess.run([pemap, "map", "--json", dll], capture_output=True, check=True).stdout)
    subprocess.run([pemap, "map", dll, "--html", page], capture_output=True, check=True)
    d = dom(browser, work, "file://" + page)
    check(d.find("g", "module", data_module="liba.dll", data_base=hexa(doc["base"])), "map: the view is not drawn")
    for r in doc["regions"]:
        check(len(d.find("rect", "region", data_address=hexa(r["address"]), data_protect=r["protect"])) == 2,
              f"map: region {hexa(r['address'])} {r['protect']} is not drawn in the band and the row")
    return page


def check_relocs(pemap, browser, work, repo):
    page = f"{work}/relocs.html"
    dll = f"{repo}/testdata/bin/x86/libb.dll"
    args = ["relocs", "--check", dll, "--base", "0x10000"]
    doc = json.loads(subprocess.run([pemap] + args + ["--json"], capture_output=True, check=True).stdout)
    subprocess.run([pemap] + args + ["--html", page], capture_output=True, check=True)
    d = dom(browser, work, "file://" + page)
    check(d.find("g", "ghost", data_module="libb.dll"), "relocs --check: no ghost at the preferred base")
    check(len(doc["fixup_pages"]) == doc["pages_made_private"], "relocs --check: fixup_pages and pages_made_private")
    for p in doc["fixup_pages"]:
        check(d.find("rect", "private", data_address=hexa(doc["base"] + p["rva"]), data_fixups=str(p["fixups"])),
              f"relocs --check: private page {hexa(doc['base'] + p['rva'])} is not drawn")
    return page


SOLID = {"p-r": (0xd5, 0xd8, 0xdc), "p-rx": (0xf0, 0xb2, 0x7a), "private": (0x8a, 0x2b, 0xe2)}


def check_screenshots(browser, work, pages):
    """At each width: where the page's script says the picture lies on the screen (its box and viewBox), the
    centre of each solid-coloured rectangle of the picture that lies in the screenshot has that rectangle's colour.
    The legend's swatches are left out, so a picture with no region cannot pass on them."""
    from PIL import Image
    for kind, page in pages:
        for width in (1280, 760):
            size = [f"--window-size={width},1400"]
            d = dom_args(browser, work, "file://" + page, size)
            body = d.find("body")
            box = body[0]["attrs"].get("data-picture-box", "") if body else ""
            if len(box.split()) != 6:
                failures.append(f"{kind} at {width} px: the page did not say where its picture is ({box!r})")
                continue
            left, top, w, h, view_w, view_h = map(float, box.split())
            png = f"{work}/{kind}-{width}.png"
            subprocess.run(chromium_args(browser, work) + size + [f"--screenshot={png}", "file://" + page],
                           capture_output=True, timeout=120)
            if not os.path.exists(png):
                failures.append(f"{kind} at {width} px: no screenshot")
                continue
            with Image.open(png) as im:
                pixels, (sw, sh) = im.convert("RGB").load(), im.size
                checked = 0
                for e in d.elements:
                    classes = e["attrs"].get("class", "").split()
                    colour = next((SOLID[c] for c in classes if c in SOLID), None)
                    if e["tag"] != "rect" or colour is None or any(
                            "legend" in p["attrs"].get("class", "").split() for p in e["parents"]):
                        continue
                    x, y = float(e["attrs"]["x"]), float(e["attrs"]["y"])
                    rw, rh = float(e["attrs"]["width"]), float(e["attrs"]["height"])
                    # Too small on screen to hit reliably; in a module's band, the module's name and base are
                    # written over its first 16 units, so a band's region must be taller to show its colour.
                    in_band = any("module" in p["attrs"].get("class", "").split() for p in e["parents"])
                    if rw * w / view_w < 12 or rh * h / view_h < (28 if in_band else 10):
                        continue
                    # Nine points inside it: a region's label or an outline may cover some, not all.
                    points = [(int(left + (x + rw * fx) * w / view_w), int(top + (y + rh * fy) * h / view_h))
                              for fx in (0.3, 0.6, 0.9) for fy in (0.3, 0.5, 0.7)]
                    if not all(0 <= px < sw and 0 <= py < sh for px, py in points):
                        continue
                    seen = [pixels[px, py] for px, py in points]
                    check(any(all(abs(a - b) <= 8 for a, b in zip(got, colour)) for got in seen),
                          f"{kind} at {width} px: the {'/'.join(classes)} rect at ({x}, {y}) shows none of its "
                          f"colour {colour} on screen around {points[4]}: {seen[:3]}")
                    checked += 1
                check(checked >= 3, f"{kind} at {width} px: only {checked} rectangles checked on screen")


def main():
    pemap, repo = sys.argv[1], sys.argv[2]
    browser = shutil.which("chromium")
    if not browser:
        print("SKIP: chromium is not installed (scripts/install-deps.sh installs it)")
        return 77
    try:
        import PIL  # noqa: F401
    except ImportError:
        print("SKIP: python3-pil is not installed (scripts/install-deps.sh installs it)")
        return 77
    with tempfile.TemporaryDirectory() as work:
        pages = [("load", check_load(pemap, browser, work, repo, "x86")),
                 ("load", check_load(pemap, browser, work, repo, "x64")),
                 ("instances", check_instances(pemap, browser, work, repo)),
                 ("map", check_map(pemap, browser, work, repo)),
                 ("load", check_relocs(pemap, browser, work, repo))]
        check_screenshots(browser, work, pages)
    for f in failures[:30]:
        print("FAIL:", f)
    print(f"{len(pages)} pages opened in Chromium, at two widths each; {len(failures)} failures")
    return 1 if failures else 0


sys.exit(main())
