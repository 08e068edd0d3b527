// pemap run: CreateProcess for real, for PE32+ x86-64 programs: a child process loads the executable with its
// imports bound to host functions, runs TLS callbacks and DllMains (dependencies first), then the entry point.
#pragma once

#include <string>
#include <vector>

namespace pemap::inspect {

struct RunOptions {
  std::string file;
  std::vector<std::string> path;   ///< --path DIR
  std::vector<std::string> bases;  ///< --base MODULE=ADDR
  bool trace = false;              ///< print the load's narration (stderr) before running
  // pemap call: load `file` as a DLL, initialize it, call `function` with `args` and print what it returns.
  bool call = false;
  std::string function;
  std::vector<std::string> args;  ///< integers (0x.. allowed) or strings (passed as pointers to C strings)
};

/// The program's exit code; 1 when it could not be loaded or run (the reason on stderr); 128+N when it died of
/// signal N (the reason on stderr).
int run_program(const RunOptions& opts);

}  // namespace pemap::inspect
