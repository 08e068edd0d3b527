// pemap run and pemap call: the parent checks that the file is what the command runs (a program, or a DLL with that
// export), then a run::Child loads it in its own process; the parent says what the load bound to traps, has the
// child initialize the modules, then run the entry point or call the export (and end the process with ExitProcess),
// and turns each outcome into a message, an exit status and, with --json, a document.
#include "run_command.hpp"

#include <signal.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_text.hpp"
#include "mapped_file.hpp"
#include "model.hpp"
#include "narrate.hpp"
#include "pe/image.hpp"
#include "process/export_lookup.hpp"

namespace pemap::inspect {

namespace {

// The Microsoft x64 convention passes four integer arguments in registers; pemap puts nothing on the stack.
constexpr size_t kMaxArguments = 4;

run::Argument argument(const std::string& a) {
  size_t used = 0;
  uint64_t v = 0;
  try {
    v = std::stoull(a, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == a.size() && !a.empty()) return v;
  return a;
}

// Why `image` is not a program (run) or not a DLL exporting the function (call), read from the file before any
// process starts, as CreateProcess and GetProcAddress would find it.
std::optional<Error> wrong_kind(const RunOptions& opts, const pe::Image& image) {
  const bool is_dll = (image.file_header().Characteristics & pe::file_flag::dll) != 0;
  const auto characteristics = Location::offset(image.nt_offset() + 4 + offsetof(pe::FileHeader, Characteristics));
  if (!opts.call && is_dll)
    return make_error(Status::success, "COFF header Characteristics", characteristics,
                      "IMAGE_FILE_DLL is set: a DLL is not a program (`pemap call DLL FUNCTION` calls its exports)");
  if (opts.call && !is_dll)
    return make_error(Status::success, "COFF header Characteristics", characteristics,
                      "IMAGE_FILE_DLL is not set: call calls a DLL's exports (`pemap run` runs a program)");
  if (!opts.call) return std::nullopt;
  auto exports = ldr::ExportLookup::create(image);
  if (!exports) return exports.error();
  const auto found = exports->by_name(opts.function, 0);
  const std::string dll = printable(std::filesystem::path(opts.file).filename().string());
  const std::string where = "export directory of " + dll;
  if (!found.entry)
    return make_error(
        Status::entrypoint_not_found, where, Location{},
        fmt::format("{}!{} is not exported (`pemap exports` lists what is)", dll, printable(opts.function)));
  if (found.entry->is_forwarder())
    return make_error(Status::success, where, Location{},
                      fmt::format("{}!{} is a forwarder to {}: call its target", dll, printable(opts.function),
                                  printable(found.entry->forwarder.substr(0, 256))));
  return std::nullopt;
}

// What the parent refuses before any process starts: too many arguments, a file that is not a PE, or not the kind
// the command runs.
std::optional<std::string> refusal(const RunOptions& opts) {
  if (opts.call && opts.args.size() > kMaxArguments)
    return fmt::format("{} arguments given: pemap passes at most {}, in RCX, RDX, R8 and R9", opts.args.size(),
                       kMaxArguments);
  auto file = MappedFile::open(opts.file);
  auto image = file ? pe::Image::parse(file->bytes()) : Result<pe::Image>(file.error());
  if (!image) return fmt::format("{}: {}", printable(opts.file), image.error().to_string());
  if (auto why = wrong_kind(opts, *image)) return fmt::format("{}: {}", printable(opts.file), why->to_string());
  return std::nullopt;
}

void print_modules(Printer& p, const run::ChildReport& report) {
  p.begin_array("modules");
  for (const auto& m : report.modules) {
    p.begin_object();
    p.field("name", printable(m.name));
    p.field("path", printable(m.path));
    p.field("base", m.base);
    p.field("preferred_base", m.preferred_base);
    p.field("size", m.size);
    p.field("entry_point", m.entry_point);
    p.field("executable", m.executable);
    p.end_object();
  }
  p.end_array();
}

void print_unresolved(Printer& p, const std::vector<run::UnresolvedImport>& unresolved) {
  p.begin_array("unresolved");
  for (const auto& u : unresolved) print_unresolved(p, u.importer, u.dll, u.function, u.status, u.reason, u.trap);
  p.end_array();
}

// An interrupted pemap (Ctrl-C, SIGTERM, SIGHUP) kills the program it waits for, then reports it stopped like any
// other end: the signal named, exit_stopped, the --json document.
volatile std::sig_atomic_t g_interrupt = 0;
volatile std::sig_atomic_t g_child = 0;  // the pid being waited for

void on_interrupt(int sig) {
  g_interrupt = sig;
  if (g_child > 0) {
    ::kill(g_child, SIGKILL);
    return;
  }
  ::signal(sig, SIG_DFL);  // no child to stop yet (the load may be what hangs): end as if not caught
  ::raise(sig);
}

class KillOnInterrupt {
 public:
  KillOnInterrupt() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &previous_[i]);
  }
  KillOnInterrupt(const KillOnInterrupt&) = delete;
  KillOnInterrupt& operator=(const KillOnInterrupt&) = delete;
  ~KillOnInterrupt() {
    g_child = 0;
    for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &previous_[i], nullptr);
  }
  /// From now on an interrupt kills `pid` instead of pemap.
  void watch(pid_t pid) { g_child = pid; }
  /// How the program was stopped, when an interrupt did it.
  static std::string why() {
    const int sig = g_interrupt;
    return sig ? fmt::format("pemap was interrupted by signal {} ({}) and killed the program: ", sig, strsignal(sig))
               : std::string();
  }

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> previous_{};
};

// The command's report: diagnostics on stderr as they happen, the document (--json) on stdout at the end, after
// whatever the program itself printed (so it is kept until then; a later outcome replaces an earlier one).
class Report {
 public:
  explicit Report(const RunOptions& opts) : opts_(opts), command_(opts.call ? "call" : "run") {
    doc_.field("command", command_);
    doc_.field("file", printable(opts.file));
    if (opts.call) {
      doc_.field("function", printable(opts.function));
      doc_.begin_array("arguments");
      for (const auto& a : opts.args) doc_.field({}, printable(a));
      doc_.end_array();
    }
  }

  void say(const std::string& message) const { std::cerr << fmt::format("pemap {}: {}\n", command_, message); }

  /// The command stops before (or instead of) running code: `message` on stderr and in the document.
  int refuse(const std::string& message, int status) {
    say(message);
    doc_.field("error", printable(message));
    return finish(status);
  }

  /// What the child loaded, and what it bound to traps: their count (or, --verbose, each) on stderr.
  void loaded(const run::ChildReport& report) {
    print_sandbox(doc_, opts_.sandbox, report.sandbox_weaker);
    for (const auto& line : sandbox_warnings(opts_.sandbox, report.sandbox_weaker)) say(line);
    print_modules(doc_, report);
    print_unresolved(doc_, report.unresolved);
    if (opts_.verbose)
      for (const auto& line : trap_lines(report.unresolved)) say(line);
    else if (!report.unresolved.empty())
      say(trap_summary(report.unresolved, "--verbose or --trace lists them"));
  }

  /// How the code ended, and the exit status that says so.
  int ended(const run::Outcome& o, const std::string& module) {
    using Kind = run::Outcome::Kind;
    switch (o.kind) {
      case Kind::returned:
        returned(o, module);
        return finish(exit_ok);
      case Kind::exited:
        outcome("exited", [&] { doc_.field("exit_code", o.value); });
        if (opts_.call) say(fmt::format("the code ended the process with exit code {} before returning", o.value));
        return finish(static_cast<int>(o.value));
      case Kind::fault:
        break;
    }
    return stopped(o);
  }

  /// The called function returned: its value, printed at once (what the process does next comes after it).
  void returned(const run::Outcome& o, const std::string& module) {
    outcome("returned", [&] { doc_.field("value", o.value); });
    if (opts_.call && !opts_.json)
      std::cout << fmt::format("{}!{} returned {} ({:#x}; as a 32-bit int {})\n", module, opts_.function, o.value,
                               o.value, static_cast<int32_t>(static_cast<uint32_t>(o.value)))
                << std::flush;
  }

  /// How ExitProcess after a returned call ended: DLL_PROCESS_DETACH ran, or it stopped the program.
  int exited_after_call(const run::Outcome& o) {
    return o.kind == run::Outcome::Kind::fault ? stopped(o) : finish(exit_ok);
  }

 private:
  int stopped(const run::Outcome& o) {
    const std::string message = KillOnInterrupt::why() + o.message;
    say(message);
    outcome("stopped", [&] { doc_.field("message", printable(message)); });
    return finish(exit_stopped);
  }

  template <class Members>
  void outcome(const char* kind, const Members& members) {
    doc_.begin_object("outcome");
    doc_.field("kind", kind);
    members();
    doc_.end_object();
  }

  int finish(int status) {
    doc_.field("exit_status", status);
    if (opts_.json) print_document(std::cout, json_style(opts_.jsonl), doc_.document());
    return status;
  }

  const RunOptions& opts_;
  std::string command_;
  TreeBuilder doc_;
};

}  // namespace

std::string trap_summary(const std::vector<run::UnresolvedImport>& unresolved, const std::string& how_to_list) {
  std::vector<std::pair<std::string, size_t>> by_dll;  // in the order the load met them
  for (const auto& u : unresolved) {
    auto it = std::find_if(by_dll.begin(), by_dll.end(), [&](const auto& d) { return d.first == u.dll; });
    if (it == by_dll.end())
      by_dll.emplace_back(u.dll, 1);
    else
      ++it->second;
  }
  std::string counts;
  for (const auto& [dll, n] : by_dll) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", printable(dll), n);
  return fmt::format("{} import{} bound to traps ({}): calling one stops the program; {}", unresolved.size(),
                     unresolved.size() == 1 ? "" : "s", counts, how_to_list);
}

std::vector<std::string> sandbox_warnings(const run::Sandbox& sandbox, const std::vector<std::string>& weaker) {
  std::vector<std::string> out;
  if (const std::string missing = sandbox.missing(); !missing.empty()) out.push_back("warning: " + missing);
  for (const auto& w : weaker) out.push_back("warning: sandbox: " + w);
  return out;
}

// The members in name order, as the documents have always had them.
void print_sandbox(Printer& p, const run::Sandbox& sandbox, const std::vector<std::string>& weaker) {
  p.begin_object("sandbox");
  p.begin_array("allow_dirs");
  for (const auto& d : sandbox.write_dirs) p.field({}, printable(d));
  p.end_array();
  if (sandbox.limits) p.field("cpu_seconds", sandbox.cpu_seconds);
  p.field("files", sandbox.files);
  p.field("limits", sandbox.limits);
  if (sandbox.limits) p.field("memory_limit", sandbox.memory_bytes);
  p.field("system_calls", sandbox.system_calls);
  p.begin_array("weaker");
  for (const auto& w : weaker) p.field({}, printable(w));
  p.end_array();
  p.end_object();
}

std::vector<std::string> trap_lines(const std::vector<run::UnresolvedImport>& unresolved) {
  std::vector<std::string> out;
  for (const auto& u : unresolved)
    out.push_back(fmt::format("{} imports {}!{}: {} (a trap)", printable(u.importer), printable(u.dll),
                              printable(u.function), printable(u.reason)));
  return out;
}

int run_program(const RunOptions& opts) {
  Report report(opts);
  auto bases = forced_bases(opts.bases);
  if (!bases) return report.refuse("--base " + bases.error().message, exit_unusable);
  if (auto why = refusal(opts)) return report.refuse(*why, exit_unusable);

  std::vector<ldr::Event> events;
  KillOnInterrupt interrupt;
  run::ChildOptions options;
  if (auto searched = apply_search(opts.search, options.load, WineDefault::no); !searched)
    return report.refuse(searched.error().to_string(), exit_unusable);
  options.load.forced_bases = *bases;
  options.load.allow_missing = true;  // what is missing is a trap: calling it stops the program with its name
  options.library = opts.call;
  options.sandbox = opts.sandbox;
  options.on_event = [&](const ldr::Event& e) { events.push_back(e); };
  std::cout.flush();
  auto child = run::Child::create(opts.file, std::move(options));
  if (opts.trace) std::cerr << narrate(events);
  if (!child)
    return report.refuse(fmt::format("{}: {}", printable(opts.file), child.error().to_string()), exit_unusable);
  interrupt.watch(child->pid());
  const auto& loaded = child->report();
  report.loaded(loaded);
  if (!loaded.cannot_run.empty())
    return report.refuse(fmt::format("{}: {}", printable(opts.file), loaded.cannot_run), exit_unusable);

  // TLS callbacks, then DllMain, module by module, dependencies first.
  auto init = child->initialize();
  if (!init) return report.refuse(init.error().to_string() + ": the process cannot start", exit_findings);
  if (init->kind != run::Outcome::Kind::returned) return report.ended(*init, loaded.module);

  std::vector<run::Argument> args;
  for (const auto& a : opts.args) args.push_back(argument(a));
  auto result = opts.call ? child->call(loaded.module, opts.function, args) : child->run_entry();
  if (!result) return report.refuse(result.error().to_string(), exit_unusable);
  if (!opts.call || result->kind != run::Outcome::Kind::returned) return report.ended(*result, loaded.module);
  // The process that loaded the DLL ends as any does, with ExitProcess: DLL_PROCESS_DETACH in reverse order.
  report.returned(*result, loaded.module);
  auto exit = child->exit_process(0);
  if (!exit) return report.refuse(exit.error().to_string(), exit_findings);
  return report.exited_after_call(*exit);
}

}  // namespace pemap::inspect
