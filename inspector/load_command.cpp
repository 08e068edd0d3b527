// pemap load: runs the loader with the options given, collects its events, and prints the report, the narration
// (--trace) or both as JSON.
#include "load_command.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "address_space_picture.hpp"
#include "json_text.hpp"
#include "memory/image_rules.hpp"
#include "model.hpp"
#include "narrate.hpp"
#include "picture_page.hpp"
#include "process/process.hpp"
#include "table.hpp"

namespace pemap::inspect {

namespace {

std::optional<std::pair<std::string, std::string>> split_assignment(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) return std::nullopt;
  return std::pair{s.substr(0, eq), s.substr(eq + 1)};
}

bool any_module_named(const ldr::Process& process, const std::string& key) {
  const auto& mods = process.modules();
  return std::any_of(mods.begin(), mods.end(), [&](const auto& m) { return m->name.key() == key; });
}

void print_event(Printer& p, const ldr::Event& e) {
  p.begin_object();
  p.field("step", ldr::step_name(e.step));
  p.field("depth", e.depth);
  p.field("module", printable(e.module));
  if (!e.target.empty()) p.field("target", printable(e.target));
  if (!e.function.empty()) p.field("function", printable(e.function));
  if (!e.path.empty()) p.field("path", printable(e.path));
  if (!e.where.empty()) p.field("where", e.where);
  if (!e.how.empty()) p.field("how", e.how);
  if (e.preferred) p.field("preferred", e.preferred);
  if (e.address) p.field("address", e.address);
  if (e.delta) p.field("delta", e.delta);
  if (e.size) p.field("size", e.size);
  if (e.count) p.field("count", e.count);
  if (e.value) p.field("value", e.value);
  if (!e.counts.empty()) {
    p.begin_object("counts");
    for (const auto& [name, n] : e.counts) p.field(name, n);
    p.end_object();
  }
  if (!e.reason.empty()) p.field("reason", printable(e.reason));
  p.field("ok", e.ok);
  p.field("text", describe(e));
  p.end_object();
}

void print_binding(Printer& p, const ldr::Binding& b) {
  p.begin_object();
  p.field("dll", printable(b.dll()));
  p.field("function", printable(b.function()));
  p.field("iat_rva", b.iat_rva);
  p.field("address", b.address);
  p.field("target", printable(b.target()));
  p.begin_array("via");
  for (const auto& c : b.chain()) p.field({}, printable(c));
  p.end_array();
  p.field("how", ldr::how_name(b.how));
  if (b.delay) p.field("delay", true);
  p.end_object();
}

// How much of each module a report holds: what the text prints, or also each view's regions and the pages its
// fixups made private (for --json and the pictures), which cost a VirtualQuery walk and a relocation walk each.
enum class Layout : uint8_t { no, yes };

void print_module(Printer& p, const ldr::Module& m, Layout layout) {
  p.begin_object();
  p.field("name", printable(m.name.str()));
  p.field("path", printable(m.path));
  p.field("preferred_base", m.preferred_base);
  p.field("base", m.base);
  p.field("size", m.section->size());
  p.field("placed", m.placed);
  if (!m.displaced.empty()) p.field("displaced", printable(m.displaced));
  p.field("relocated", m.relocated);
  if (!m.relocation_note.empty()) p.field("relocation_note", m.relocation_note);
  print_fixups(p, m.relocations.per_type, m.section->image().file_header().Machine);
  p.field("pages_made_private", m.relocations.pages_made_private);
  if (layout == Layout::yes) {
    if (m.view) print_regions(p, m.view->base(), m.view->size());
    print_fixup_pages(p, m.image(), m.relocated && m.base != m.preferred_base);
  }
  p.field("references", m.references);
  p.field("entry_point", m.entry_point);
  p.begin_array("tls_callbacks");
  for (const auto a : m.tls_callbacks) p.field({}, a);
  p.end_array();
  p.begin_array("wx_regions");
  for (const auto& r : m.wx_regions) p.field({}, printable(r));
  p.end_array();
  p.field("iat_pages_made_private", m.iat_pages_made_private);
  p.begin_array("dependencies");
  for (const auto* d : m.dependencies) p.field({}, printable(d->name.str()));
  p.end_array();
  p.begin_array("delay_load");
  for (const auto& d : m.delay_dlls) p.field({}, printable(d));
  p.end_array();
  p.begin_array("bindings");
  for (const auto& b : m.bindings) print_binding(p, b);
  p.end_array();
  p.end_object();
}

// What the load did, into the document `p` is in (its "file" already printed): whether it loaded, each module,
// the imports bound to traps, the initialization order, the entry point, the events when given, the warnings.
void print_report(Printer& p, const Result<ldr::Module*>& loaded, const ldr::Process& process,
                  const std::vector<ldr::Event>* events, const Warnings& w, Layout layout) {
  p.field("loaded", loaded.has_value());
  if (!loaded) print_error(p, "error", loaded.error());
  p.begin_array("modules");
  for (const auto& m : process.modules()) print_module(p, *m, layout);
  p.end_array();
  p.begin_array("unresolved");
  for (const auto& u : process.unresolved())
    print_unresolved(p, u.importer_name(), u.dll(), u.function(), u.status(), u.reason(), u.trap());
  p.end_array();
  p.begin_array("initialization_order");
  for (const auto* m : process.initialization_order()) p.field({}, printable(m->name.str()));
  p.end_array();
  if (loaded && (*loaded)->entry_point) p.field("entry_point", (*loaded)->entry_point);
  if (events) {
    p.begin_array("events");
    for (const auto& e : *events) print_event(p, e);
    p.end_array();
  }
  w.print(p);
}

std::string render_report(const json& doc) {
  std::string out;
  if (doc["modules"].empty()) return out;
  Table mods({{"#", Table::Align::right},
              {"module"},
              {"preferred", Table::Align::right},
              {"base", Table::Align::right},
              {"placed"},
              {"fixups"},
              {"pages", Table::Align::right},
              {"refs", Table::Align::right},
              {"path"}});
  size_t i = 0;
  for (const auto& m : doc["modules"]) {
    const std::string fixups = fixup_counts_text(m["fixups"], m["relocated"].get<bool>() ? "0" : "-");
    mods.add({std::to_string(i++), m["name"].get<std::string>(),
              fmt::format("{:#x}", m["preferred_base"].get<uint64_t>()),
              fmt::format("{:#x}", m["base"].get<uint64_t>()), m["placed"].get<std::string>(), fixups,
              m["relocated"].get<bool>() ? std::to_string(m["pages_made_private"].get<uint64_t>()) : "-",
              std::to_string(m["references"].get<uint64_t>()), m["path"].get<std::string>()});
  }
  out += "Modules, in load order\n" + mods.render();
  for (const auto& m : doc["modules"]) {
    if (m.contains("displaced"))
      out += fmt::format("  {} displaced: {}\n", m["name"].get<std::string>(), m["displaced"].get<std::string>());
    if (m.contains("relocation_note"))
      out += fmt::format("  {}: {}\n", m["name"].get<std::string>(), m["relocation_note"].get<std::string>());
  }
  for (const auto& m : doc["modules"]) {
    if (m["bindings"].empty()) continue;
    Table t({{"import"}, {"address", Table::Align::right}, {"bound to"}, {"how"}});
    for (const auto& b : m["bindings"]) {
      std::string to = b["target"].get<std::string>();
      for (auto it = b["via"].rbegin(); it != b["via"].rend(); ++it) to = it->get<std::string>() + " -> " + to;
      if (to.empty()) to = "(unresolved)";
      t.add({b["dll"].get<std::string>() + "!" + b["function"].get<std::string>() +
                 (b.contains("delay") ? " (delay)" : ""),
             fmt::format("{:#x}", b["address"].get<uint64_t>()), to, b["how"].get<std::string>()});
    }
    out += fmt::format("\n{} imports\n", m["name"].get<std::string>()) + t.render();
  }
  for (const auto& m : doc["modules"]) {
    const auto& tls = m["tls_callbacks"];
    for (size_t k = 0; k < tls.size(); ++k)
      out += fmt::format("{}{} TLS callback {} at {:#x}\n", k == 0 ? "\n" : "", m["name"].get<std::string>(), k,
                         tls[k].get<uint64_t>());
  }
  if (!doc["unresolved"].empty()) {
    Table t({{"importer"}, {"import"}, {"trap", Table::Align::right}, {"status"}, {"reason"}});
    for (const auto& u : doc["unresolved"])
      t.add({u["importer"].get<std::string>(), u["dll"].get<std::string>() + "!" + u["function"].get<std::string>(),
             fmt::format("{:#x}", u["trap"].get<uint64_t>()), u["status"].get<std::string>(),
             u["reason"].get<std::string>()});
    out += "\nUnresolved (bound to trap addresses)\n" + t.render();
  }
  std::string order;
  for (const auto& n : doc["initialization_order"]) order += (order.empty() ? "" : ", ") + n.get<std::string>();
  if (!order.empty()) out += "\nInitialization order (DllMain, dependencies first): " + order + "\n";
  if (doc.contains("entry_point")) out += fmt::format("Entry point: {:#x}\n", doc["entry_point"].get<uint64_t>());
  return out;
}

}  // namespace

int run_load(const LoadCommandOptions& opts) {
  if (!pictures_fit_stdout("load", opts.html, opts.svg, opts.json)) return exit_unusable;
  ldr::LoadOptions options;
  if (auto searched = apply_search(opts.search, options, WineDefault::yes); !searched) {
    std::cerr << "pemap load: " << searched.error().to_string() << "\n";
    return exit_unusable;
  }
  options.resolve_imports = !opts.no_imports;
  options.allow_missing = opts.allow_missing;
  options.bind_delay = opts.bind_delay;
  options.placement.aslr_seed = opts.aslr_seed;
  options.application_dir = std::filesystem::path(opts.file).parent_path().string();
  if (opts.bottom_up_start) options.placement.bottom_up_start = *opts.bottom_up_start;
  auto bases = forced_bases(opts.bases);
  if (!bases) {
    std::cerr << "pemap load: --base " << bases.error().message << "\n";
    return exit_unusable;
  }
  options.forced_bases = std::move(*bases);
  // The file named must be a PE image the memory manager maps (as `pemap map` requires): else the input is
  // unusable (2), not a load that failed (1).
  const auto opened = open_image(opts.file);
  if (auto refused = !opened ? std::optional(opened.error()) : win::check_image_for_mapping(opened->image)) {
    if (opened) refused = own_loader_hint(std::move(*refused), opts.file);
    std::cerr << fmt::format("pemap load: {}: {}\n", opts.file, refused->to_string());
    if (opts.json) {  // {"file", "error"}, as every command's JSON says of a file it cannot use
      JsonDocuments docs(std::cout, json_style(opts.jsonl), false);
      print_error(docs.begin(printable(opts.file)), "error", *refused);
      docs.end();
    }
    return exit_unusable;
  }
  std::vector<std::pair<std::string, std::string>> dumps;
  for (const auto& d : opts.dumps) {
    auto kv = split_assignment(d);
    if (!kv) {
      std::cerr << fmt::format("pemap load: --dump-image {}: expected MODULE=FILE\n", d);
      return exit_unusable;
    }
    dumps.push_back(*kv);
  }
  for (const auto& f : opts.api_set_files)
    if (auto loaded = options.api_sets.load_file(f); !loaded) {
      std::cerr << "pemap load: " << loaded.error().to_string() << "\n";
      return exit_unusable;
    }

  std::vector<ldr::Event> events;
  ldr::Process process(std::move(options), [&](const ldr::Event& e) { events.push_back(e); });
  const bool is_dll = ldr::ascii_lower(std::filesystem::path(opts.file).extension().string()) != ".exe";
  for (const auto& first : opts.preload)
    if (auto pre = process.load_library(first); !pre) {
      std::cerr << fmt::format("pemap load: --preload {}: {}\n", first, pre.error().to_string());
      return exit_findings;
    }
  auto loaded = is_dll ? process.load_library(opts.file.find('/') == std::string::npos ? "./" + opts.file : opts.file)
                       : process.load_executable(opts.file);

  // A module that mapped although its file is cut short (bytes the section table declares read as zero).
  Warnings w;
  for (const auto& m : process.modules())
    if (const auto& cut = m->section->image().truncation()) w.add(*cut);
  int rc = loaded && w.empty() ? exit_ok : exit_findings;
  // Which modules load is known only after the load: a --base for none of them is checked here.
  for (const auto& [name, base] : process.options().forced_bases)
    if (loaded && !any_module_named(process, name)) {
      std::cerr << fmt::format("pemap load: --base {}={:#x}: no module of that name was loaded\n", name, base);
      rc = exit_unusable;
    }
  for (const auto& [name, file] : dumps) {
    const ldr::Module* m = process.find(ldr::ModuleName(name));
    if (!m) {
      std::cerr << fmt::format("pemap load: --dump-image {}: no such module is loaded\n", name);
      rc = exit_unusable;
      continue;
    }
    const auto bytes = m->image_bytes();
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::cerr << fmt::format("pemap load: --dump-image: cannot write {}\n", file);
      rc = exit_unusable;
    }
  }

  if (!opts.html.empty() || !opts.svg.empty()) {
    TreeBuilder doc;
    doc.field("file", printable(opts.file));
    print_report(doc, loaded, process, &events, w, Layout::yes);
    if (!opts.html.empty() && !write_picture(opts.html, load_page(doc.document()))) rc = exit_unusable;
    if (!opts.svg.empty() && !write_picture(opts.svg, address_space_svg(doc.document()))) rc = exit_unusable;
  }
  if (picture_on_stdout(opts.html, opts.svg)) {
    // The picture is standard output: the report stays off it.
  } else if (opts.json) {
    JsonDocuments docs(std::cout, json_style(opts.jsonl), false);
    print_report(docs.begin(printable(opts.file)), loaded, process, &events, w, Layout::yes);
    docs.end();
  } else {
    if (opts.trace) std::cout << narrate(events) << "\n";
    TreeBuilder doc;
    print_report(doc, loaded, process, nullptr, w, Layout::no);
    std::cout << render_report(doc.document());
  }
  report_warnings(opts.file, w.texts());
  if (!loaded) std::cerr << fmt::format("pemap load: {}: {}\n", opts.file, loaded.error().to_string());
  return rc;
}

}  // namespace pemap::inspect
