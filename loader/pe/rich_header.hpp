// The Rich header: the list of tools (product ID, build, count) Microsoft's linker writes into the DOS stub,
// XOR-masked with a key that is also its checksum.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

struct RichEntry {
  uint16_t product = 0;  ///< high word of the decoded comp.id
  uint16_t build = 0;    ///< low word
  uint32_t count = 0;    ///< objects (or, for product 1, imported functions) this tool contributed
};

struct RichHeader {
  uint64_t offset = 0;    ///< of "DanS" in the file
  uint64_t end = 0;       ///< just past the key that follows "Rich"
  uint32_t key = 0;       ///< the XOR mask, which is also the checksum the linker wrote
  uint32_t checksum = 0;  ///< recomputed from the DOS header, the stub before "DanS" and the entries
  std::vector<RichEntry> entries;
  bool valid() const { return key == checksum; }
};

/// The Rich header between the DOS header and e_lfanew, or none when the stub has no "Rich" marker or no "DanS"
/// before it under the key.
std::optional<RichHeader> parse_rich_header(const Image& image);

/// The tool a product ID stands for, where known ("Utc1900_CPP": the C++ compiler of Visual Studio 2015 to 2022),
/// else empty.
std::string_view rich_product_name(uint16_t product);

}  // namespace pemap::pe
