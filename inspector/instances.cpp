// Each instance is a run::Child that loads the DLL, runs DllMain(DLL_PROCESS_ATTACH) and the exports asked for,
// and stays alive (so every instance maps the image at the same time) until the parent has read its
// /proc/PID/smaps.
#include "instances.hpp"

#include <algorithm>
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
#include "run_command.hpp"
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

// 0 when all `count` instances ran DllMain, 2 when none did, 1 in between.
int exit_status(const std::vector<json>& reports, int count) {
  const auto ran = std::count_if(reports.begin(), reports.end(), [](const json& j) { return j.value("ran", false); });
  return ran == count ? exit_ok : ran == 0 ? exit_unusable : exit_findings;
}

}  // namespace

int run_instances(const InstancesOptions& opts) {
  if (opts.count < 1 || opts.count > 64) {
    std::cerr << "pemap instances: -n takes 1 to 64\n";
    return exit_unusable;
  }
  std::vector<run::Child> children;
  std::vector<json> reports;
  bool failed = false;
  // One after the other, each still alive when the next starts: instance k sees the k-1 before it.
  for (int i = 0; i < opts.count && !failed; ++i) {
    run::ChildOptions options;
    options.load.search_dirs = opts.path;
    options.load.application_dir = std::filesystem::path(opts.dll).parent_path().string();
    options.load.allow_missing = opts.allow_missing;
    options.library = true;
    options.sandbox = opts.sandbox;
    auto child = run::Child::create(opts.dll, std::move(options));
    if (!child) {
      reports.push_back({{"ok", false}, {"error", printable(child.error().to_string())}});
      break;
    }
    if (i == 0)
      for (const auto& line : sandbox_warnings(opts.sandbox, child->report().sandbox_weaker))
        std::cerr << fmt::format("pemap instances: {}\n", line);
    if (i == 0 && !child->report().unresolved.empty())
      std::cerr << fmt::format("pemap instances: {}\n",
                               trap_summary(child->report().unresolved, "`pemap load --allow-missing` lists them"));
    reports.push_back(instance(*child, opts.calls));
    failed = !child->running();
    children.push_back(std::move(*child));
  }
  // The kernel's view of every instance while all of them are alive.
  json doc;
  doc["dll"] = printable(opts.dll);
  doc["sandbox"] = sandbox_json(
      opts.sandbox, children.empty() ? std::vector<std::string>{} : children.front().report().sandbox_weaker);
  json instances = json::array();
  for (size_t i = 0; i < reports.size(); ++i) {
    json j = reports[i];
    if (i < children.size() && children[i].running()) {
      for (auto& r : j["regions"]) {
        const auto pages =
            children[i].resident(j["base"].get<uint64_t>() + r["rva"].get<uint64_t>(), r["size"].get<uint64_t>());
        r["shared_kb"] = pages.shared_kb;
        r["private_kb"] = pages.private_kb;
        r["frames"] =
            children[i].page_frames(j["base"].get<uint64_t>() + r["rva"].get<uint64_t>(), r["size"].get<uint64_t>());
      }
    }
    instances.push_back(std::move(j));
  }
  doc["instances"] = std::move(instances);
  children.clear();  // each instance ends here
  const int rc = exit_status(reports, opts.count);

  if (opts.json) {
    print_document(std::cout, json_style(opts.jsonl), doc);
    return rc;
  }
  // No instance loaded it: the one reason, not empty tables.
  if (std::none_of(reports.begin(), reports.end(), [](const json& j) { return j.value("ok", false); })) {
    std::cerr << fmt::format("pemap instances: {}: {}\n", opts.dll,
                             reports.empty() ? "no instance started" : reports.front().value("error", "?"));
    return rc;
  }
  std::vector<Table::Column> cols{{"instance", Table::Align::right},
                                  {"pid", Table::Align::right},
                                  {"base", Table::Align::right},
                                  {"DllMain", Table::Align::right}};
  for (const auto& name : opts.calls) cols.push_back({name, Table::Align::right});
  Table t(cols);
  std::string notes;  // why an instance or a call failed: on stderr, after the tables
  int k = 0;
  for (const auto& j : doc["instances"]) {
    ++k;
    if (!j.value("ok", false)) {
      notes += fmt::format("pemap instances: instance {} failed: {}\n", k, j.value("error", std::string("?")));
      continue;
    }
    std::vector<std::string> row{std::to_string(k), std::to_string(j["pid"].get<int>()),
                                 fmt::format("{:#x}", j["base"].get<uint64_t>())};
    if (!j["ran"].get<bool>()) {
      row.push_back("-");
      notes += fmt::format("pemap instances: instance {}: {}\n", k, j["why_not"].get<std::string>());
    } else {
      row.push_back(j["dll_main"].get<uint64_t>() ? "TRUE" : "FALSE");
    }
    for (const auto& name : opts.calls) {
      const json* v = j.contains("calls") && j["calls"].contains(name) ? &j["calls"][name] : nullptr;
      if (v && !v->is_number())
        notes += fmt::format("pemap instances: instance {}: {}: {}\n", k, name, v->get<std::string>());
      row.push_back(!v ? "-" : v->is_number() ? std::to_string(v->get<uint32_t>()) : "stopped");
    }
    t.add(std::move(row));
  }
  const size_t started = doc["instances"].size();  // fewer than asked when one failed: the rest were not started
  std::cout << fmt::format("{} instances of {}, all alive at once\n",
                           started == static_cast<size_t>(opts.count) ? std::to_string(started)
                                                                      : fmt::format("{} of {}", started, opts.count),
                           opts.dll)
            << t.render();
  Table pages({{"instance", Table::Align::right},
               {"region"},
               {"protect"},
               {"backing"},
               {"shared kB", Table::Align::right},
               {"private kB", Table::Align::right},
               {"page frames"}});
  // Physical pages: the same frames as the first instance's region, or frames of its own.
  auto frames = [&](const json& r, const json* first) -> std::string {
    const auto f = r.value("frames", std::vector<uint64_t>{});
    const bool any = std::any_of(f.begin(), f.end(), [](uint64_t v) { return v != 0; });
    if (!any) return r.value("shared_kb", uint64_t{0}) + r.value("private_kb", uint64_t{0}) ? "hidden" : "-";
    if (!first) return "first";
    return f == first->value("frames", std::vector<uint64_t>{}) ? "same as 1" : "own";
  };
  k = 0;
  const json* first = nullptr;
  for (const auto& j : doc["instances"]) {
    ++k;
    if (!j.value("ok", false)) continue;
    for (size_t i = 0; i < j["regions"].size(); ++i) {
      const json& r = j["regions"][i];
      pages.add({std::to_string(k), r["name"].get<std::string>(), r["protect"].get<std::string>(),
                 r["shared"].get<bool>() ? "MEM_SHARED section" : "image, copy-on-write",
                 std::to_string(r.value("shared_kb", uint64_t{0})), std::to_string(r.value("private_kb", uint64_t{0})),
                 frames(r, first ? &(*first)["regions"][i] : nullptr)});
    }
    if (!first) first = &j;
  }
  std::cout << "\nPages of each instance's view: the kernel's counts (/proc/PID/smaps, resident pages) and physical "
               "frames (/proc/PID/pagemap)\n"
            << pages.render();
  std::cerr << notes;
  return rc;
}

}  // namespace pemap::inspect
