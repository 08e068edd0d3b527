// Each instance is a run::Child that loads the DLL, runs DllMain(DLL_PROCESS_ATTACH) and the exports asked for,
// and stays alive (so every instance maps the image at the same time) until the parent has read its
// /proc/PID/smaps.
#include "instances.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_text.hpp"
#include "memory/win32.hpp"
#include "model.hpp"
#include "run/child.hpp"
#include "table.hpp"

namespace pemap::inspect {

namespace {

// One instance: its report as JSON (the regions of the DLL's view, DllMain's result, each call's).
json instance(run::Child& child, const std::vector<std::string>& calls) {
  const auto& report = child.report();
  const run::ChildModule& m = *report.find(report.module);
  json out{{"ok", true}, {"pid", report.pid}, {"base", m.base}, {"size", m.size}};
  json regions = json::array();
  for (const auto& r : m.regions)
    regions.push_back({{"rva", r.rva},
                       {"size", r.size},
                       {"name", printable(r.name)},
                       {"protect", std::string(win::protection_name(r.protect))},
                       {"shared", r.shared}});
  out["regions"] = std::move(regions);
  if (!report.cannot_run.empty()) {
    out["ran"] = false;
    out["why_not"] = printable(report.cannot_run);
    return out;
  }
  auto text = [](const Result<run::Outcome>& o) {
    return printable(!o ? o.error().message : o->message.empty() ? "ended" : o->message);
  };
  // Dependencies first, as the loader initializes them.
  auto init = child.initialize();
  if (!init || init->kind != run::Outcome::Kind::returned) {
    out["ran"] = false;
    out["why_not"] = text(init);
    return out;
  }
  out["dll_main"] = 1;
  json results = json::object();
  for (const auto& name : calls) {
    auto r = child.call(report.module, name);
    results[name] =
        r && r->kind == run::Outcome::Kind::returned ? json(static_cast<uint32_t>(r->value)) : json(text(r));
  }
  out["ran"] = true;
  out["calls"] = std::move(results);
  return out;
}

struct Pages {
  uint64_t shared_kb = 0, private_kb = 0;
};

// Shared_* and Private_* of /proc/PID/smaps, summed over the mappings inside each region of the image.
std::vector<Pages> smaps_pages(int pid, uint64_t base, const json& regions) {
  std::vector<Pages> out(regions.size());
  std::ifstream in(fmt::format("/proc/{}/smaps", pid));
  std::string line;
  int current = -1;
  while (std::getline(in, line)) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      current = -1;
      for (size_t i = 0; i < regions.size(); ++i) {
        const uint64_t start = base + regions[i]["rva"].get<uint64_t>();
        if (lo >= start && lo < start + regions[i]["size"].get<uint64_t>()) current = static_cast<int>(i);
      }
      continue;
    }
    if (current < 0) continue;
    unsigned long long kb = 0;
    char key[64] = {};
    if (std::sscanf(line.c_str(), "%63[^:]: %llu kB", key, &kb) != 2) continue;
    const std::string k = key;
    if (k == "Shared_Clean" || k == "Shared_Dirty") out[current].shared_kb += kb;
    if (k == "Private_Clean" || k == "Private_Dirty") out[current].private_kb += kb;
  }
  return out;
}

}  // namespace

int run_instances(const InstancesOptions& opts) {
  if (opts.count < 1 || opts.count > 64) {
    std::cerr << "pemap instances: -n takes 1 to 64\n";
    return exit_unusable;
  }
  std::vector<run::Child> children;
  std::vector<json> reports;
  int rc = exit_ok;
  // One after the other, each still alive when the next starts: instance k sees the k-1 before it.
  for (int i = 0; i < opts.count && rc == exit_ok; ++i) {
    run::ChildOptions options;
    options.load.search_dirs = opts.path;
    options.load.application_dir = std::filesystem::path(opts.dll).parent_path().string();
    options.library = true;
    auto child = run::Child::create(opts.dll, std::move(options));
    if (!child) {
      reports.push_back({{"ok", false}, {"error", printable(child.error().to_string())}});
      rc = exit_findings;
      break;
    }
    reports.push_back(instance(*child, opts.calls));
    if (!child->running()) rc = exit_findings;
    children.push_back(std::move(*child));
  }
  // The kernel's view of every instance while all of them are alive.
  json doc;
  doc["dll"] = printable(opts.dll);
  json instances = json::array();
  for (size_t i = 0; i < reports.size(); ++i) {
    json j = reports[i];
    if (i < children.size() && children[i].running()) {
      const auto pages = smaps_pages(children[i].pid(), j["base"].get<uint64_t>(), j["regions"]);
      for (size_t r = 0; r < pages.size(); ++r) {
        j["regions"][r]["shared_kb"] = pages[r].shared_kb;
        j["regions"][r]["private_kb"] = pages[r].private_kb;
      }
    }
    instances.push_back(std::move(j));
  }
  doc["instances"] = std::move(instances);
  children.clear();  // each instance ends here

  if (opts.json) {
    std::cout << doc.dump(2) << "\n";
    return rc;
  }
  std::vector<Table::Column> cols{{"instance", Table::Align::right},
                                  {"pid", Table::Align::right},
                                  {"base", Table::Align::right},
                                  {"DllMain", Table::Align::right}};
  for (const auto& name : opts.calls) cols.push_back({name, Table::Align::right});
  Table t(cols);
  std::string notes;
  int k = 0;
  for (const auto& j : doc["instances"]) {
    ++k;
    if (!j.value("ok", false)) {
      notes += fmt::format("instance {} failed: {}\n", k, j.value("error", std::string("?")));
      continue;
    }
    std::vector<std::string> row{std::to_string(k), std::to_string(j["pid"].get<int>()),
                                 fmt::format("{:#x}", j["base"].get<uint64_t>())};
    if (!j["ran"].get<bool>()) {
      row.push_back("-");
      notes += fmt::format("instance {}: {}\n", k, j["why_not"].get<std::string>());
    } else {
      row.push_back(j["dll_main"].get<uint64_t>() ? "TRUE" : "FALSE");
    }
    for (const auto& name : opts.calls) {
      const json* v = j.contains("calls") && j["calls"].contains(name) ? &j["calls"][name] : nullptr;
      row.push_back(!v ? "-" : v->is_number() ? std::to_string(v->get<uint32_t>()) : v->get<std::string>());
    }
    t.add(std::move(row));
  }
  std::cout << fmt::format("{} instances of {}, all alive at once\n", doc["instances"].size(), opts.dll) << t.render();
  Table pages({{"instance", Table::Align::right},
               {"region"},
               {"protect"},
               {"backing"},
               {"shared kB", Table::Align::right},
               {"private kB", Table::Align::right}});
  k = 0;
  for (const auto& j : doc["instances"]) {
    ++k;
    if (!j.value("ok", false)) continue;
    for (const auto& r : j["regions"])
      pages.add({std::to_string(k), r["name"].get<std::string>(), r["protect"].get<std::string>(),
                 r["shared"].get<bool>() ? "MEM_SHARED section" : "image, copy-on-write",
                 std::to_string(r.value("shared_kb", uint64_t{0})),
                 std::to_string(r.value("private_kb", uint64_t{0}))});
  }
  std::cout << "\nPages of each instance's view, from /proc/PID/smaps (resident only)\n" << pages.render() << notes;
  return rc;
}

}  // namespace pemap::inspect
