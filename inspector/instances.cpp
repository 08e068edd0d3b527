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
#include "instances_picture.hpp"
#include "json_text.hpp"
#include "memory/win32.hpp"
#include "model.hpp"
#include "picture_page.hpp"
#include "run/child.hpp"
#include "run_command.hpp"
#include "table.hpp"

namespace pemap::inspect {

namespace {

// What one instance did when it started: DllMain's result and each call's, or why it did not run.
struct Started {
  std::string error;    ///< the instance could not be created: the reason (nothing else is set)
  std::string why_not;  ///< it loaded but its code did not run (DllMain not called, or it failed)
  std::vector<std::pair<std::string, std::optional<uint32_t>>> calls;  ///< each export's value, or nullopt
  std::vector<std::string> stopped;                                    ///< for a call that did not return: why
  bool ran() const { return error.empty() && why_not.empty(); }
};

// Runs DllMain (dependencies first, as the loader initializes them), then each call asked for.
Started start(run::Child& child, const std::vector<std::string>& calls) {
  const auto& report = child.report();
  auto text = [](const Result<run::Outcome>& o) {
    return printable(!o ? o.error().message : o->message.empty() ? "ended" : o->message);
  };
  Started out;
  if (!report.cannot_run.empty()) {
    out.why_not = printable(report.cannot_run);
    return out;
  }
  auto init = child.initialize();
  if (!init || init->kind != run::Outcome::Kind::returned) {
    out.why_not = text(init);
    return out;
  }
  for (const auto& name : calls) {
    auto r = child.call(report.module, name);
    const bool returned = r && r->kind == run::Outcome::Kind::returned;
    out.calls.emplace_back(name, returned ? std::optional(static_cast<uint32_t>(r->value)) : std::nullopt);
    out.stopped.push_back(returned ? std::string() : text(r));
  }
  return out;
}

// One instance's document: its view's regions with the kernel's page counts (while `child` is alive), and what
// its code did.
void print_instance(Printer& p, const Started& s, run::Child* child) {
  p.begin_object();
  p.field("ok", s.error.empty());
  if (!s.error.empty()) {
    p.field("error", s.error);
    return p.end_object();
  }
  const auto& report = child->report();
  const run::ChildModule& m = *report.find(report.module);
  p.field("pid", report.pid);
  p.field("base", m.base);
  p.field("size", m.size);
  p.begin_array("regions");
  for (const auto& r : m.regions) {
    p.begin_object();
    p.field("rva", r.rva);
    p.field("size", r.size);
    p.field("name", printable(r.name));
    p.field("protect", win::protection_name(r.protect));
    p.field("shared", r.shared);
    if (child->running()) {
      const auto pages = child->resident(m.base + r.rva, r.size);
      p.field("shared_kb", pages.shared_kb);
      p.field("private_kb", pages.private_kb);
      p.begin_array("frames");
      for (const auto f : child->page_frames(m.base + r.rva, r.size)) p.field({}, f);
      p.end_array();
    }
    p.end_object();
  }
  p.end_array();
  if (!s.ran()) {
    p.field("ran", false);
    p.field("why_not", s.why_not);
    return p.end_object();
  }
  p.field("dll_main", 1);
  p.field("ran", true);
  // An export called twice is one member, where it was first asked for, with the last call's result.
  p.begin_object("calls");
  for (size_t i = 0; i < s.calls.size(); ++i) {
    const auto same = [&](const auto& c) { return c.first == s.calls[i].first; };
    if (std::any_of(s.calls.begin(), s.calls.begin() + static_cast<std::ptrdiff_t>(i), same)) continue;
    const size_t last =
        static_cast<size_t>(std::find_if(s.calls.rbegin(), s.calls.rend(), same).base() - s.calls.begin()) - 1;
    s.calls[last].second ? p.field(s.calls[i].first, *s.calls[last].second)
                         : p.field(s.calls[i].first, s.stopped[last]);
  }
  p.end_object();
  p.end_object();
}

// 0 when all `count` instances ran DllMain, 2 when none did, 1 in between.
int exit_status(const std::vector<Started>& started, int count) {
  const auto ran = std::count_if(started.begin(), started.end(), [](const Started& s) { return s.ran(); });
  return ran == count ? exit_ok : ran == 0 ? exit_unusable : exit_findings;
}

// The text of `doc` (the instances' document): what each instance's code did, then the pages of each one's view;
// why an instance or a call failed goes to `notes`, for stderr after the tables.
std::string render_instances(const json& doc, const InstancesOptions& opts, std::string& notes) {
  std::vector<Table::Column> cols{{"instance", Table::Align::right},
                                  {"pid", Table::Align::right},
                                  {"base", Table::Align::right},
                                  {"DllMain", Table::Align::right}};
  for (const auto& name : opts.calls) cols.push_back({name, Table::Align::right});
  Table t(cols);
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
  std::string out =
      fmt::format("{} instances of {}, all alive at once\n",
                  started == static_cast<size_t>(opts.count) ? std::to_string(started)
                                                             : fmt::format("{} of {}", started, opts.count),
                  opts.dll) +
      t.render();
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
  return out + "\nPages of each instance's view: the kernel's counts (/proc/PID/smaps, resident pages) and " +
         "physical frames (/proc/PID/pagemap)\n" + pages.render();
}

}  // namespace

int run_instances(const InstancesOptions& opts) {
  if (!pictures_fit_stdout("instances", opts.html, opts.svg, opts.json)) return exit_unusable;
  if (opts.count < 1 || opts.count > 64) {
    std::cerr << "pemap instances: -n takes 1 to 64\n";
    return exit_unusable;
  }
  ldr::LoadOptions searched;
  if (auto applied = apply_search(opts.search, searched, WineDefault::no); !applied) {
    std::cerr << "pemap instances: " << applied.error().to_string() << "\n";
    return exit_unusable;
  }
  std::vector<run::Child> children;
  std::vector<Started> reports;
  bool failed = false;
  // One after the other, each still alive when the next starts: instance k sees the k-1 before it.
  for (int i = 0; i < opts.count && !failed; ++i) {
    run::ChildOptions options;
    options.load = searched;
    options.load.application_dir = std::filesystem::path(opts.dll).parent_path().string();
    options.load.allow_missing = opts.allow_missing;
    options.library = true;
    options.sandbox = opts.sandbox;
    auto child = run::Child::create(opts.dll, std::move(options));
    if (!child) {
      reports.push_back({printable(child.error().to_string()), {}, {}, {}});
      break;
    }
    if (i == 0)
      for (const auto& line : sandbox_warnings(opts.sandbox, child->report().sandbox_weaker))
        std::cerr << fmt::format("pemap instances: {}\n", line);
    if (i == 0 && !child->report().unresolved.empty())
      std::cerr << fmt::format("pemap instances: {}\n",
                               trap_summary(child->report().unresolved, "`pemap load --allow-missing` lists them"));
    reports.push_back(start(*child, opts.calls));
    failed = !child->running();
    children.push_back(std::move(*child));
  }
  // The kernel's view of every instance while all of them are alive.
  const auto print = [&](Printer& p) {
    p.field("dll", printable(opts.dll));
    print_sandbox(p, opts.sandbox,
                  children.empty() ? std::vector<std::string>{} : children.front().report().sandbox_weaker);
    p.begin_array("instances");
    for (size_t i = 0; i < reports.size(); ++i)
      print_instance(p, reports[i], i < children.size() ? &children[i] : nullptr);
    p.end_array();
  };
  int rc = exit_status(reports, opts.count);
  // A picture of instances none of which started would be empty columns: the reason alone is said, below.
  const bool none_started =
      std::none_of(reports.begin(), reports.end(), [](const Started& s) { return s.error.empty(); });
  if ((!opts.html.empty() || !opts.svg.empty()) && !none_started) {
    TreeBuilder doc;
    print(doc);
    const std::string svg = instances_svg(doc.document());
    const std::string intro = fmt::format(
        "{} loaded in {} processes, each in a sandboxed child: every page of every section, and whether the "
        "processes hold one physical page for it (shared: code, read-only data, a MEM_SHARED section) or each its own "
        "(copy-on-write data DllMain wrote). Hover over a page for its address and frame.",
        printable(opts.dll), opts.count);
    if (!opts.html.empty() &&
        !write_picture(opts.html, picture_page("pemap instances " + printable(opts.dll), intro, svg)))
      rc = exit_unusable;
    if (!opts.svg.empty() && !write_picture(opts.svg, svg)) rc = exit_unusable;
  }
  if (opts.json) {
    JsonDocuments docs(std::cout, json_style(opts.jsonl), false);
    print(docs.begin());
    docs.end();
    return rc;
  }
  TreeBuilder tree;
  print(tree);
  children.clear();  // each instance ends here
  // No instance loaded it: the one reason, not empty tables.
  if (none_started) {
    std::cerr << fmt::format("pemap instances: {}: {}\n", opts.dll,
                             reports.empty() ? "no instance started" : reports.front().error);
    return rc;
  }
  std::string notes;
  if (!picture_on_stdout(opts.html, opts.svg)) std::cout << render_instances(tree.document(), opts, notes);
  std::cerr << notes;
  return rc;
}

}  // namespace pemap::inspect
