// pemap run: CreateProcess for real, for PE32+ x86-64 programs: a child process loads the executable with its
// imports bound to host functions, runs TLS callbacks and DllMains (dependencies first), then the entry point.
#pragma once

#include <string>
#include <vector>

#include "commands.hpp"
#include "printer.hpp"
#include "run/child.hpp"

namespace pemap::inspect {

/// pemap stopped the program: it called an import bound to a trap, it faulted, or its process was killed by a
/// signal. Outside 0..2 (pemap's own) and the 128+N a shell gives a process killed by signal N.
inline constexpr int exit_stopped = 125;

struct RunOptions {
  std::string file;
  SearchOptions search;            ///< --path, --system-dir, --syswow64-dir, --known-dlls
  std::vector<std::string> bases;  ///< --base MODULE=ADDR
  bool trace = false;              ///< print the load's narration (stderr) before running
  bool verbose = false;            ///< every import bound to a trap on its own line, not only their count
  bool jsonl = false;              ///< with json: the report on one line
  bool json = false;               ///< the report (modules, traps, outcome) as one JSON document on stdout
  // pemap call: load `file` as a DLL, initialize it, call `function` with `args` and print what it returns.
  bool call = false;
  std::string function;
  std::vector<std::string> args;  ///< integers (0x.. allowed) or strings (passed as pointers to C strings)
  run::Sandbox sandbox;           ///< --allow-dir, --limit-mem, --limit-time, --unsafe-*
};

/// run: the program's exit code. call: 0 when the export returned. Both: 2 when the input cannot be used (not a
/// PE32+ x86-64 program, or DLL with that export; a load that failed; bad arguments), 1 when a DllMain returned
/// FALSE, exit_stopped when pemap stopped the code. The reason is on stderr.
int run_program(const RunOptions& opts);

/// One line (no newline): how many imports the load bound to traps, by DLL, and `how_to_list` them. Not for none.
std::string trap_summary(const std::vector<run::UnresolvedImport>& unresolved, const std::string& how_to_list);
/// A line per import bound to a trap: importer, dll!function and why.
std::vector<std::string> trap_lines(const std::vector<run::UnresolvedImport>& unresolved);

/// Warnings for a sandbox that is off or weaker than by default, and for what the child could not enforce
/// (`weaker`): each a line for stderr, which the commands print before the code runs.
std::vector<std::string> sandbox_warnings(const run::Sandbox& sandbox, const std::vector<std::string>& weaker);
/// "sandbox", as the documents report it: each fence on or off, the limits, the directories.
void print_sandbox(Printer& p, const run::Sandbox& sandbox, const std::vector<std::string>& weaker);

}  // namespace pemap::inspect
