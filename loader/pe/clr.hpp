// The CLR runtime header (IMAGE_COR20_HEADER) of a .NET image and the metadata root it points to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

struct ClrStream {
  std::string name;               ///< "#~", "#Strings", "#US", "#GUID", "#Blob"
  uint32_t offset = 0, size = 0;  ///< from the metadata root
};

struct ClrMetadata {
  uint32_t rva = 0;
  uint16_t major_version = 0, minor_version = 0;
  std::string version;  ///< the runtime the assembly was built for: "v4.0.30319"
  uint16_t flags = 0;
  std::vector<ClrStream> streams;
};

struct ClrHeader {
  bool present = false;
  uint32_t cb = 0;
  uint16_t major_runtime_version = 0, minor_runtime_version = 0;
  DataDirectory metadata{}, resources{}, strong_name_signature{}, code_manager_table{}, vtable_fixups{},
      export_address_table_jumps{}, managed_native_header{};
  uint32_t flags = 0;
  uint32_t entry_point = 0;  ///< a MethodDef token, or with NATIVE_ENTRYPOINT an RVA
  std::optional<ClrMetadata> metadata_root;
  std::vector<Error> warnings;
};

/// "ILONLY", "32BITREQUIRED", "IL_LIBRARY", "STRONGNAMESIGNED", "NATIVE_ENTRYPOINT", "TRACKDEBUGDATA",
/// "32BITPREFERRED", and any other bit in hexadecimal.
std::vector<std::string> clr_flag_names(uint32_t flags);
inline constexpr uint32_t kClrIlOnly = 0x1, kClr32BitRequired = 0x2, kClrNativeEntryPoint = 0x10;

/// The header the CLR directory (14) names, and the metadata root ("BSJB") with its stream headers. A stream
/// list is bounded by the metadata's Size; a root that is not there is a warning, not an error.
Result<ClrHeader> parse_clr(const Image& image);

}  // namespace pemap::pe
