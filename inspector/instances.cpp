// Each instance is a forked child that loads the DLL through the loader, calls DllMain(DLL_PROCESS_ATTACH) and the
// exports asked for, reports over a pipe, and stays alive (so every instance maps the image at the same time) until
// the parent has read its /proc/PID/smaps and closes the release pipe. A child dies with its parent.
#include "instances.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_text.hpp"
#include "memory/win32.hpp"
#include "model.hpp"
#include "process/process.hpp"
#include "run/call.hpp"
#include "table.hpp"

namespace pemap::inspect {

namespace {

// In the child: load, run, report one JSON line, wait for the parent.
[[noreturn]] void instance(const InstancesOptions& opts, int report_fd, int release_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  json out;
  auto say = [&](const json& j) {
    const std::string line = j.dump() + "\n";
    if (::write(report_fd, line.data(), line.size()) < 0) ::_exit(3);
  };
  ldr::LoadOptions options;
  options.search_dirs = opts.path;
  options.application_dir = std::filesystem::path(opts.dll).parent_path().string();
  ldr::Process process(std::move(options));
  auto loaded = process.load_library(opts.dll.find('/') == std::string::npos ? "./" + opts.dll : opts.dll);
  if (!loaded) {
    say({{"ok", false}, {"error", printable(loaded.error().to_string())}});
    ::_exit(1);
  }
  const ldr::Module& m = **loaded;
  out["ok"] = true;
  out["pid"] = ::getpid();
  out["base"] = m.base;
  out["size"] = m.section->size();
  json regions = json::array();
  for (const auto& r : m.section->regions())
    regions.push_back({{"rva", r.rva},
                       {"size", r.size},
                       {"name", printable(r.name)},
                       {"protect", std::string(win::protection_name(r.protect))},
                       {"shared", r.backing == win::ImageRegion::Backing::shared}});
  out["regions"] = std::move(regions);
  if (auto ran = run::can_run(m); !ran) {
    out["ran"] = false;
    out["why_not"] = printable(ran.error().message);
  } else {
    // Dependencies first, as the loader initializes them.
    for (const ldr::Module* d : process.initialization_order()) {
      auto r = run::call_dll_main(*d, run::kDllProcessAttach);
      if (d == &m) out["dll_main"] = r ? *r : 0;
    }
    json calls = json::object();
    for (const auto& name : opts.calls) {
      auto at = run::export_address(m, name);
      auto r = at ? run::call(m, *at, {}) : Result<uint64_t>(at.error());
      calls[name] = r ? json(static_cast<uint32_t>(*r)) : json(printable(r.error().message));
    }
    out["ran"] = true;
    out["calls"] = std::move(calls);
  }
  say(out);
  char c;
  while (::read(release_fd, &c, 1) > 0) {
  }
  ::_exit(0);
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
  struct Child {
    int pid = -1, release = -1;
    json report;
  };
  std::vector<Child> children;
  int rc = exit_ok;
  // One after the other, each still alive when the next starts: instance k sees the k-1 before it.
  for (int i = 0; i < opts.count; ++i) {
    int report[2], release[2];
    if (::pipe(report) != 0 || ::pipe(release) != 0) {
      std::cerr << "pemap instances: cannot create a pipe\n";
      return exit_unusable;
    }
    std::cout.flush();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(report[0]);
      ::close(release[1]);
      for (const auto& c : children) ::close(c.release);
      instance(opts, report[1], release[0]);
    }
    ::close(report[1]);
    ::close(release[0]);
    Child child{pid, release[1], {}};
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;) {
      text.append(buf, static_cast<size_t>(n));
      if (text.find('\n') != std::string::npos) break;
    }
    ::close(report[0]);
    child.report = json::parse(text, nullptr, false);
    if (child.report.is_discarded() || !child.report.value("ok", false)) {
      int status = 0;
      if (child.report.is_discarded()) {
        ::close(child.release);
        ::waitpid(pid, &status, 0);
        child.report = {{"ok", false},
                        {"error", WIFSIGNALED(status) ? fmt::format("instance died of signal {}", WTERMSIG(status))
                                                      : fmt::format("instance exited with {}", WEXITSTATUS(status))}};
        child.release = -1;
        child.pid = -1;
      }
      rc = exit_findings;
    }
    children.push_back(std::move(child));
    if (rc != exit_ok) break;
  }
  // The kernel's view of every instance while all of them are alive.
  json doc;
  doc["dll"] = printable(opts.dll);
  json instances = json::array();
  for (auto& c : children) {
    json j = c.report;
    if (c.pid > 0 && j.value("ok", false)) {
      const auto pages = smaps_pages(c.pid, j["base"].get<uint64_t>(), j["regions"]);
      for (size_t i = 0; i < pages.size(); ++i) {
        j["regions"][i]["shared_kb"] = pages[i].shared_kb;
        j["regions"][i]["private_kb"] = pages[i].private_kb;
      }
    }
    instances.push_back(std::move(j));
  }
  doc["instances"] = std::move(instances);
  for (auto& c : children) {
    if (c.release >= 0) ::close(c.release);
    if (c.pid > 0) ::waitpid(c.pid, nullptr, 0);
  }

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
