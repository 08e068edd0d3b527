// The HTML pages.
#include "picture_page.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "address_space_picture.hpp"
#include "json_text.hpp"
#include "markup.hpp"

namespace pemap::inspect {
namespace {

constexpr std::string_view kPageStyle = R"(
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 12px 16px; max-width: 1040px; color: #111; }
h1 { font-size: 20px; margin: 4px 0; } h2 { font-size: 16px; margin: 18px 0 6px; }
.picture { overflow-x: auto; border: 1px solid #ddd; }
.picture svg { max-width: 100%; height: auto; display: block; }
#script-status { font-size: 12px; color: #666; }
#script-errors:empty { display: none; }
#script-errors { color: #922b21; white-space: pre-wrap; }
.controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.controls input[type=range] { flex: 1 1 240px; }
ol.steps { max-height: 320px; overflow-y: auto; font-size: 13px; border: 1px solid #ddd; padding: 6px 6px 6px 44px; }
ol.steps li { cursor: pointer; }
ol.steps li.current { background: #fdebd0; font-weight: 600; }
ol.steps li.failed { color: #922b21; }
table.bindings { border-collapse: collapse; font-size: 12px; font-family: ui-monospace, monospace; }
table.bindings td, table.bindings th { border-bottom: 1px solid #eee; padding: 2px 8px; text-align: left; }
table.bindings[hidden] { display: none; }
.legend-list { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; }
@media (max-width: 700px) { body { padding: 6px; } }
)";

// Every page's: errors caught into the page, and where the picture lies on the screen (its box and viewBox, so that
// a test can find a region's pixels in a screenshot).
constexpr std::string_view kPageScript = R"(
(function () {
  const status = document.getElementById('script-status');
  const errors = document.getElementById('script-errors');
  window.addEventListener('error', function (e) {
    errors.textContent += 'script error: ' + e.message + '\n';
    status.dataset.state = 'error';
  });
  if (status.dataset.state !== 'error') { status.dataset.state = 'ok'; status.textContent = ''; }
  // Measured after the status line above the picture is emptied, which moves the picture up.
  const svg = document.querySelector('.picture svg');
  if (svg) {
    const box = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
    document.body.dataset.pictureBox = [box.left + scrollX, box.top + scrollY, box.width, box.height,
                                        view.width, view.height].join(' ');
  }
})();
)";

// Steps through the load (elements name the event that made them in data-from), and shows one module's bindings.
// Runs after kPageScript, whose error handler marks the page when this throws.
constexpr std::string_view kLoadScript = R"(
(function () {
  const slider = document.getElementById('step');
  const label = document.getElementById('step-label');
  const items = Array.from(document.querySelectorAll('ol.steps li'));
  let made = Array.from(document.querySelectorAll('.pemap-picture [data-from]'));
  function show(n) {
    if (!Number.isInteger(n)) n = items.length - 1;
    n = Math.max(0, Math.min(items.length - 1, n));
    made.forEach(function (e) { e.style.display = Number(e.dataset.from) <= n ? '' : 'none'; });
    items.forEach(function (li, i) { li.classList.toggle('current', i === n); });
    slider.value = String(n);
    label.textContent = items[n] ? 'after step ' + (n + 1) + ' of ' + items.length + ': ' + items[n].textContent
                                 : 'no steps';
    document.body.dataset.step = String(n);
  }
  items.forEach(function (li, i) { li.addEventListener('click', function () { show(i); }); });
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  document.getElementById('prev').addEventListener('click', function () { show(Number(slider.value) - 1); });
  document.getElementById('next').addEventListener('click', function () { show(Number(slider.value) + 1); });
  const importer = document.getElementById('importer');
  // The axis: each stretch's start and end address, its y and its scale (px per byte), from the picture.
  const arrows = document.querySelector('.pemap-picture g.arrows');
  const clusters = arrows ? arrows.dataset.clusters.split(',').filter(Boolean).map(function (c) {
    const f = c.split(' ');
    return { start: parseInt(f[0], 16), end: parseInt(f[1], 16), y: Number(f[2]), scale: Number(f[3]) };
  }) : [];
  function y(address) {
    for (const c of clusters) if (address >= c.start && address <= c.end) return c.y + (address - c.start) * c.scale;
    return null;
  }
  // An arrow from each IAT slot of the module to the export it was bound to, made when the module is chosen.
  function draw(table) {
    arrows.replaceChildren();
    const x = Number(arrows.dataset.x), ns = 'http://www.w3.org/2000/svg';
    let k = 0;
    table.querySelectorAll('tr[data-from]').forEach(function (tr) {
      const slot = tr.cells[1].textContent, target = tr.cells[3].textContent;
      const y1 = y(parseInt(slot, 16)), y2 = y(parseInt(target, 16));
      if (y1 === null || y2 === null) return;
      const bulge = 12 + (k++ % 8) * 4;
      const path = document.createElementNS(ns, 'path');
      path.setAttribute('class', 'arrow');
      path.setAttribute('d', 'M' + x + ' ' + y1 + ' C' + (x + bulge) + ' ' + y1 + ' ' + (x + bulge) + ' ' + y2 + ' ' +
                        (x + 2) + ' ' + y2);
      path.setAttribute('marker-end', 'url(#arrowhead)');
      path.dataset.from = tr.dataset.from;
      path.dataset.slot = slot;
      path.dataset.target = target;
      const title = document.createElementNS(ns, 'title');
      title.textContent = 'IAT slot ' + slot + ' (' + tr.cells[0].textContent + ') -> ' + target + ' ' +
          tr.cells[2].textContent;
      path.appendChild(title);
      path.style.display = Number(path.dataset.from) <= Number(slider.value) ? '' : 'none';
      arrows.appendChild(path);
    });
    made = Array.from(document.querySelectorAll('.pemap-picture [data-from]'));
  }
  function choose(name) {
    document.querySelectorAll('table.bindings').forEach(function (t) {
      t.hidden = t.dataset.module !== name;
      if (!t.hidden && arrows) draw(t);
    });
    document.body.dataset.importer = name;
  }
  if (importer) {
    importer.addEventListener('change', function () { choose(importer.value); });
    document.querySelectorAll('.pemap-picture g.module').forEach(function (g) {
      g.addEventListener('click', function () { importer.value = g.dataset.module; choose(g.dataset.module); });
    });
    choose(importer.value);
  }
  // A link may name a step and a module: #step=5&module=libb.dll (steps count from 1, as the list does).
  const wanted = new URLSearchParams(location.hash.slice(1));
  if (importer && wanted.has('module')) {
    const asked = wanted.get('module').toLowerCase();  // module names compare as the loader compares them
    const match = Array.from(importer.options).find(function (o) { return o.value.toLowerCase() === asked; });
    if (match) { importer.value = match.value; choose(match.value); }
  }
  const step = parseInt(wanted.get('step') || '', 10);
  show(Number.isInteger(step) ? step - 1 : items.length - 1);
  // When the page was ready: its parse, style, and this script (bench/pictures.sh reads it).
  document.body.dataset.readyMs = performance.now().toFixed(1);
})();
)";

std::string str(const json& d, std::string_view key) { return json_text(d, key); }

void head(Markup& page, std::string_view title) {
  page.raw("<!DOCTYPE html>\n");
  page.open("html", {{"lang", "en"}});
  page.open("head");
  page.empty("meta", {{"charset", "utf-8"}});
  page.empty("meta", {{"name", "viewport"}, {"content", "width=device-width, initial-scale=1"}});
  page.element("title", {}, title);
  page.open("style").raw(kPageStyle).close();
  page.close();
}

}  // namespace

bool pictures_fit_stdout(std::string_view command, const std::string& html, const std::string& svg, bool json_report) {
  if (html == "-" && svg == "-") {
    std::cerr << fmt::format("pemap {}: --html - and --svg -: one of them can go to standard output\n", command);
    return false;
  }
  if (picture_on_stdout(html, svg) && json_report) {
    std::cerr << fmt::format("pemap {}: a picture on standard output leaves no room for --json there\n", command);
    return false;
  }
  return true;
}

bool write_picture(const std::string& path, std::string_view text) {
  const auto fail = [&] {
    std::cerr << fmt::format("pemap: cannot write {}\n", printable(path));
    return false;
  };
  if (path == "-") {
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cout.flush();
    return std::cout ? true : fail();
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  // A device or a pipe (/dev/null, a FIFO) is written as it is; a file is written beside its name and renamed
  // over it, so that a failed write leaves what was there, and nothing pemap did not make is ever removed.
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    std::ofstream out(path, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    return out ? true : fail();
  }
  const std::string temporary = path + ".pemap-partial";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  if (!out) return fail();
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out || (fs::rename(temporary, path, ec), ec)) {
    fs::remove(temporary, ec);
    return fail();
  }
  return true;
}

std::string picture_page(std::string_view title, std::string_view intro, std::string_view svg) {
  Markup page;
  head(page, title);
  page.open("body");
  page.element("h1", {}, title);
  page.element("p", {}, intro);
  page.element("div", {{"id", "script-status"}, {"data-state", "not run"}}, "");
  page.element("div", {{"id", "script-errors"}}, "");
  page.open("div", {{"class", "picture"}}).raw(svg).close();
  page.open("script").raw(kPageScript).close();
  page.close().close();
  return page.str();
}

std::string load_page(const json& doc) {
  const std::string file = str(doc, "file");
  Markup page;
  head(page, "pemap load " + file);
  page.open("body", {{"data-step", ""}});
  page.element("h1", {}, "pemap load " + file);
  const size_t n = json_array(doc, "modules").size();
  page.element("p", {},
               fmt::format("{} modules in the simulated process{}. Hover over anything for its exact addresses; "
                           "choose a step to see the address space as it stood after it, and a module (in the list "
                           "or in the picture) to see its imports.",
                           n, doc.contains("loaded") && doc["loaded"] == false ? "; the load failed" : ""));
  page.element("div", {{"id", "script-status"}, {"data-state", "not run"}},
               "The page's script has not run: the picture shows the load's end, and the steps do not respond.");
  page.element("div", {{"id", "script-errors"}}, "");
  page.open("div", {{"class", "picture"}}).raw(address_space_svg(doc)).close();

  page.element("h2", {}, "The load, step by step");
  const json events = json_array(doc, "events");
  const std::string last = std::to_string(events.empty() ? 0 : events.size() - 1);
  page.open("div", {{"class", "controls"}});
  page.element("button", {{"id", "prev"}, {"type", "button"}}, "◀ previous");
  page.empty("input", {{"id", "step"},
                       {"type", "range"},
                       {"min", "0"},
                       {"max", last},
                       {"value", last},
                       {"aria-label", "step of the load"}});
  page.element("button", {{"id", "next"}, {"type", "button"}}, "next ▶");
  page.close();
  page.element("p", {{"id", "step-label"}}, "after the last step");
  page.open("ol", {{"class", "steps"}});
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const bool ok = !e.contains("ok") || e["ok"] != false;
    page.element("li",
                 {{"data-step", std::to_string(i)},
                  {"data-kind", str(e, "step")},
                  {"data-module", str(e, "module")},
                  {"class", ok ? "" : "failed"}},
                 str(e, "text"));
  }
  page.close();

  page.element("h2", {}, "Imports");
  page.open("label").text("Module ");
  page.open("select", {{"id", "importer"}});
  const json modules = json_array(doc, "modules");
  for (const auto& m : modules)
    page.element("option", {{"value", str(m, "name")}},
                 fmt::format("{} ({} bindings)", str(m, "name"), json_array(m, "bindings").size()));
  page.close().close();
  const LoadSteps steps(doc);
  for (size_t i = 0; i < modules.size(); ++i) {
    const auto& m = modules[i];
    page.open("table", {{"class", "bindings"}, {"data-module", str(m, "name")}});
    page.open("tr");
    for (const char* h : {"import", "IAT slot", "bound to", "address", "how"}) page.element("th", {}, h);
    page.close();
    for (const auto& b : json_array(m, "bindings")) {
      std::string to = str(b, "target");
      const json& via = json_array(b, "via");
      for (auto it = via.rbegin(); it != via.rend(); ++it)
        if (it->is_string()) to = it->get<std::string>() + " → " + to;
      // The script reads the slot and the address from the cells (the second and fourth).
      page.open("tr", {{"data-from", steps.bound(str(m, "name"), str(b, "dll"))}});
      page.element("td", {}, str(b, "dll") + "!" + str(b, "function"));
      page.element("td", {}, hex_address(json_number(m, "base") + json_number(b, "iat_rva")));
      page.element("td", {}, to.empty() ? "(unresolved)" : to);
      page.element("td", {}, hex_address(json_number(b, "address")));
      page.element("td", {}, str(b, "how"));
      page.close();
    }
    page.close();
  }
  page.open("script").raw(kPageScript).close();
  page.open("script").raw(kLoadScript).close();
  page.close().close();
  return page.str();
}

}  // namespace pemap::inspect
