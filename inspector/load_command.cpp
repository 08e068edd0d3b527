// pemap load: runs the loader with the options given, collects its events, and prints the report, the narration
// (--trace) or both as JSON.
#include "load_command.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "json_text.hpp"
#include "model.hpp"
#include "narrate.hpp"
#include "process/process.hpp"
#include "render.hpp"
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

json event_json(const ldr::Event& e) {
  json j;
  j["step"] = ldr::step_name(e.step);
  j["depth"] = e.depth;
  j["module"] = printable(e.module);
  if (!e.target.empty()) j["target"] = printable(e.target);
  if (!e.function.empty()) j["function"] = printable(e.function);
  if (!e.path.empty()) j["path"] = printable(e.path);
  if (!e.where.empty()) j["where"] = e.where;
  if (!e.how.empty()) j["how"] = e.how;
  if (e.preferred) j["preferred"] = e.preferred;
  if (e.address) j["address"] = e.address;
  if (e.delta) j["delta"] = e.delta;
  if (e.size) j["size"] = e.size;
  if (e.count) j["count"] = e.count;
  if (e.value) j["value"] = e.value;
  if (!e.counts.empty()) j["counts"] = e.counts;
  if (!e.reason.empty()) j["reason"] = printable(e.reason);
  j["ok"] = e.ok;
  j["text"] = describe(e);
  return j;
}

json module_json(const ldr::Module& m) {
  json j;
  j["name"] = printable(m.name.str());
  j["path"] = printable(m.path);
  j["preferred_base"] = m.preferred_base;
  j["base"] = m.base;
  j["size"] = m.section->size();
  j["placed"] = m.placed;
  if (!m.displaced.empty()) j["displaced"] = printable(m.displaced);
  j["relocated"] = m.relocated;
  if (!m.relocation_note.empty()) j["relocation_note"] = m.relocation_note;
  json fixups = json::object();
  const uint16_t machine = m.section->image().file_header().Machine;
  for (const auto& [type, n] : m.relocations.per_type) fixups[std::string(pe::reloc_type_name(type, machine))] = n;
  j["fixups"] = fixups;
  j["pages_made_private"] = m.relocations.pages_made_private;
  j["references"] = m.references;
  j["entry_point"] = m.entry_point;
  j["tls_callbacks"] = m.tls_callbacks;
  json wx = json::array();
  for (const auto& r : m.wx_regions) wx.push_back(printable(r));
  j["wx_regions"] = std::move(wx);
  j["iat_pages_made_private"] = m.iat_pages_made_private;
  json deps = json::array();
  for (const auto* d : m.dependencies) deps.push_back(printable(d->name.str()));
  j["dependencies"] = deps;
  json delay = json::array();
  for (const auto& d : m.delay_dlls) delay.push_back(printable(d));
  j["delay_load"] = delay;
  json bindings = json::array();
  for (const auto& b : m.bindings) {
    json x;
    x["dll"] = printable(b.dll());
    x["function"] = printable(b.function());
    x["iat_rva"] = b.iat_rva;
    x["address"] = b.address;
    x["target"] = printable(b.target());
    json chain = json::array();
    for (const auto& c : b.chain()) chain.push_back(printable(c));
    x["via"] = chain;
    x["how"] = ldr::how_name(b.how);
    if (b.delay) x["delay"] = true;
    bindings.push_back(std::move(x));
  }
  j["bindings"] = std::move(bindings);
  return j;
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
    std::string fixups;
    for (const auto& [type, n] : m["fixups"].items())
      fixups += fmt::format("{}{} {}", fixups.empty() ? "" : ", ", n.get<uint64_t>(), type);
    if (fixups.empty()) fixups = m["relocated"].get<bool>() ? "0" : "-";
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
  ldr::LoadOptions options;
  options.search_dirs = opts.path;
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
  // The file named must be a PE image: else the input is unusable (2), not a load that failed (1).
  if (auto opened = open_image(opts.file); !opened) {
    std::cerr << fmt::format("pemap load: {}: {}\n", opts.file, opened.error().to_string());
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

  json doc;
  doc["file"] = printable(opts.file);
  doc["loaded"] = loaded.has_value();
  if (!loaded) doc["error"] = error_json(loaded.error());
  json modules = json::array();
  for (const auto& m : process.modules()) modules.push_back(module_json(*m));
  doc["modules"] = std::move(modules);
  json unresolved = json::array();
  for (const auto& u : process.unresolved())
    unresolved.push_back({{"importer", printable(u.importer_name())},
                          {"dll", printable(u.dll())},
                          {"function", printable(u.function())},
                          {"status", std::string(status_name(u.status()))},
                          {"reason", printable(u.reason())},
                          {"trap", u.trap()}});
  doc["unresolved"] = std::move(unresolved);
  json order = json::array();
  for (const auto* m : process.initialization_order()) order.push_back(printable(m->name.str()));
  doc["initialization_order"] = std::move(order);
  if (loaded && (*loaded)->entry_point) doc["entry_point"] = (*loaded)->entry_point;
  if (opts.trace || opts.json) {
    json ev = json::array();
    for (const auto& e : events) ev.push_back(event_json(e));
    doc["events"] = std::move(ev);
  }

  // A module that mapped although its file is cut short (bytes the section table declares read as zero).
  for (const auto& m : process.modules())
    if (const auto& cut = m->section->image().truncation()) doc["warnings"].push_back(error_json(*cut));
  int rc = loaded && !doc.contains("warnings") ? exit_ok : exit_findings;
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

  if (opts.json) {
    print_document(std::cout, json_style(opts.jsonl), doc);
  } else {
    if (opts.trace) std::cout << narrate(events) << "\n";
    std::cout << render_report(doc);
  }
  report_warnings(opts.file, warning_texts(doc));
  if (!loaded) std::cerr << fmt::format("pemap load: {}: {}\n", opts.file, loaded.error().to_string());
  return rc;
}

}  // namespace pemap::inspect
