// Load configuration directory: the fields present in the file's Size, with the full 64-bit security cookie.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

struct LoadConfigField {
  std::string_view name;  ///< the winnt.h field name
  uint32_t offset = 0;    ///< in the structure of this image's format
  unsigned width = 0;     ///< bytes
  uint64_t value = 0;
};

struct LoadConfig {
  bool present = false;
  uint32_t size = 0;                    ///< the structure's own Size field
  std::vector<LoadConfigField> fields;  ///< those that fit in Size, in layout order
  std::vector<Error> warnings;

  std::optional<uint64_t> get(std::string_view name) const;
  std::optional<uint64_t> security_cookie() const { return get("SecurityCookie"); }
};

/// The structure grew with every Windows release; a field exists when it fits in Size.
Result<LoadConfig> parse_load_config(const Image& image);

}  // namespace pemap::pe
