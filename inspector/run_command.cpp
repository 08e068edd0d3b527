// pemap run and pemap call: a run::Child loads the program (or DLL) in its own process, the parent prints what
// the load left unresolved, has the child initialize the modules, then run the entry point or call the export (and
// end the process), and turns each outcome into a message and an exit code.
#include "run_command.hpp"

#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_text.hpp"
#include "narrate.hpp"
#include "run/child.hpp"

namespace pemap::inspect {

namespace {

// The exit code for an outcome that ended the child (0 and the message on stderr otherwise).
std::optional<int> ended(const run::Outcome& o, const char* command) {
  if (o.kind == run::Outcome::Kind::returned) return std::nullopt;
  if (o.kind == run::Outcome::Kind::fault) std::cerr << fmt::format("pemap {}: {}\n", command, o.message);
  return static_cast<int>(o.value);
}

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

}  // namespace

int run_program(const RunOptions& opts) {
  const char* command = opts.call ? "call" : "run";
  auto bases = forced_bases(opts.bases);
  if (!bases) {
    std::cerr << "pemap: --base " << bases.error().message << "\n";
    return exit_unusable;
  }
  std::vector<ldr::Event> events;
  run::ChildOptions options;
  options.load.search_dirs = opts.path;
  options.load.forced_bases = *bases;
  options.load.allow_missing = true;  // what is missing is a trap: calling it stops the program with its name
  options.library = opts.call;
  options.on_event = [&](const ldr::Event& e) { events.push_back(e); };
  std::cout.flush();
  auto child = run::Child::create(opts.file, std::move(options));
  if (opts.trace) std::cerr << narrate(events);
  if (!child) {
    std::cerr << fmt::format("pemap {}: {}: {}\n", command, opts.file, child.error().to_string());
    return exit_findings;
  }
  const auto& report = child->report();
  if (!report.cannot_run.empty()) {
    std::cerr << fmt::format("pemap {}: {}: {}\n", command, printable(opts.file), report.cannot_run);
    return exit_findings;
  }
  for (const auto& u : report.unresolved)
    std::cerr << fmt::format("pemap {}: {} imports {}!{}: {} (a trap)\n", command, u.importer, u.dll, u.function,
                             u.reason);

  // TLS callbacks, then DllMain, module by module, dependencies first.
  auto init = child->initialize();
  if (!init) {
    std::cerr << fmt::format("pemap {}: {}: the process cannot start\n", command, init.error().to_string());
    return exit_findings;
  }
  if (auto code = ended(*init, command)) return *code;

  if (!opts.call) {
    auto result = child->run_entry();
    if (!result) {
      std::cerr << fmt::format("pemap run: {}\n", result.error().to_string());
      return exit_findings;
    }
    return ended(*result, command).value_or(exit_ok);
  }
  std::vector<run::Argument> args;
  for (const auto& a : opts.args) args.push_back(argument(a));
  auto result = child->call(report.module, opts.function, args);
  if (!result) {
    std::cerr << fmt::format("pemap call: {}: {}\n", printable(opts.file), result.error().to_string());
    return exit_findings;
  }
  if (auto code = ended(*result, command)) return *code;
  std::cout << fmt::format("{}!{} returned {} ({:#x}; as a 32-bit int {})\n", report.module, opts.function,
                           result->value, result->value, static_cast<int32_t>(static_cast<uint32_t>(result->value)))
            << std::flush;
  // The process that loaded the DLL ends as any does, with ExitProcess: DLL_PROCESS_DETACH in reverse order.
  auto exit = child->exit_process(0);
  if (!exit) {
    std::cerr << fmt::format("pemap call: {}: {}\n", printable(opts.file), exit.error().to_string());
    return exit_findings;
  }
  return ended(*exit, command).value_or(exit_ok);
}

}  // namespace pemap::inspect
