// pemap instances: several real processes load one DLL at once and run its DllMain, the classic demonstration of
// copy-on-write data versus a MEM_SHARED section, with the kernel's page counts for each instance.
#pragma once

#include <string>
#include <vector>

namespace pemap::inspect {

struct InstancesOptions {
  std::string dll;
  int count = 3;
  std::vector<std::string> path;   ///< --path DIR
  std::vector<std::string> calls;  ///< exported functions (no arguments) each instance calls after DllMain
  bool json = false;
};

/// Exit 0 when every instance loaded and ran, 1 when one failed (its reason printed), 2 on bad arguments.
int run_instances(const InstancesOptions& opts);

}  // namespace pemap::inspect
