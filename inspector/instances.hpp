// pemap instances: several real processes load one DLL at once and run its DllMain, the classic demonstration of
// copy-on-write data versus a MEM_SHARED section, with the kernel's page counts for each instance.
#pragma once

#include <string>
#include <vector>

#include "commands.hpp"
#include "run/sandbox.hpp"

namespace pemap::inspect {

struct InstancesOptions {
  std::string dll;
  int count = 3;
  SearchOptions search;            ///< --path, --system-dir, --syswow64-dir, --known-dlls
  std::vector<std::string> calls;  ///< exported functions (no arguments) each instance calls after DllMain
  bool allow_missing = false;      ///< missing DLLs and functions bound to traps, as `pemap load --allow-missing`
  bool json = false;
  bool jsonl = false;    ///< with json: the report on one line
  std::string html;      ///< --html FILE: the pages of every instance pictured, as a self-contained page
  std::string svg;       ///< --svg FILE: the picture alone
  run::Sandbox sandbox;  ///< --allow-dir, --limit-mem, --limit-time, --unsafe-*
};

/// Exit 0 when every instance loaded and ran DllMain, 1 when some did and one failed, 2 when none did or on bad
/// arguments; each failure's reason is printed.
int run_instances(const InstancesOptions& opts);

}  // namespace pemap::inspect
