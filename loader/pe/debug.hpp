// Debug directory entries and the CodeView record that names the PDB.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

struct CodeView {
  std::string_view signature;      ///< "RSDS" (PDB 7) or "NB10" (PDB 2)
  std::array<uint8_t, 16> guid{};  ///< RSDS only
  uint32_t age = 0;
  std::string_view pdb_path;  ///< views the file
};

struct DebugEntry {
  DebugDirectory raw{};
  std::optional<CodeView> codeview;
};

struct DebugInfo {
  std::vector<DebugEntry> entries;
  std::vector<Error> warnings;
};

std::string_view debug_type_name(uint32_t type);
/// The directory's Size is a multiple of 28; the CodeView data is read at its PointerToRawData.
Result<DebugInfo> parse_debug(const Image& image);

}  // namespace pemap::pe
