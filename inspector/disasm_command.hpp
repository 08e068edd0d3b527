// `pemap disasm`: instructions from the entry point, an export or an address, with imports and fixups named; and
// the instruction each fixup of `pemap relocs --disasm` lands in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "commands.hpp"

namespace pemap::inspect {

struct DisasmOptions {
  bool entry = false;
  std::string export_name;
  std::optional<uint64_t> address;  ///< an RVA, or a VA of the image at its preferred base
  uint64_t count = 20;
};

int run_disasm(const CommonOptions& opts, const DisasmOptions& d);
/// Each base relocation with the instruction it patches (a linear sweep of its executable section), or "data".
int run_relocs_disasm(const CommonOptions& opts);

}  // namespace pemap::inspect
