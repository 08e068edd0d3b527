// pemap load: CreateProcess / LoadLibrary on Linux, reported module by module, binding by binding.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"

namespace pemap::inspect {

struct LoadCommandOptions {
  std::string file;
  SearchOptions search;                     ///< --path, --system-dir, --syswow64-dir, --known-dlls
  std::vector<std::string> bases;           ///< --base MODULE=ADDR
  std::vector<std::string> dumps;           ///< --dump-image MODULE=FILE
  std::vector<std::string> api_set_files;   ///< --apiset FILE
  std::vector<std::string> preload;         ///< --preload DLL: LoadLibrary'd first
  std::optional<uint64_t> aslr_seed;        ///< --aslr SEED
  std::optional<uint64_t> bottom_up_start;  ///< --bottom-up ADDR
  bool allow_missing = false, bind_delay = false, trace = false, no_imports = false, json = false;
  bool jsonl = false;  ///< with json: the report on one line
  std::string html;    ///< --html FILE: the address space and the load's steps, as a self-contained page
  std::string svg;     ///< --svg FILE: the picture alone
};

/// Exit 0 when loaded, 1 when the load fails (the reason on stderr, and in the report), 2 on bad arguments: a file
/// that is not a PE image or is one the memory manager refuses to map, a malformed option, a --base for a module the
/// load did not load.
int run_load(const LoadCommandOptions& opts);

}  // namespace pemap::inspect
