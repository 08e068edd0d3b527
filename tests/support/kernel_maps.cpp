// The kernel's own view of this process's mappings (/proc/self/maps).
#include "support/kernel_maps.hpp"

#include <cstdint>
#include <fstream>

namespace pemap::test {

std::string kernel_perms(const void* addr) {
  std::ifstream maps("/proc/self/maps");
  const auto a = reinterpret_cast<uint64_t>(addr);
  for (std::string line; std::getline(maps, line);) {
    const auto dash = line.find('-'), space = line.find(' ');
    const uint64_t lo = std::stoull(line.substr(0, dash), nullptr, 16);
    const uint64_t hi = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    if (a >= lo && a < hi) return line.substr(space + 1, 4);
  }
  return "free";
}

}  // namespace pemap::test
