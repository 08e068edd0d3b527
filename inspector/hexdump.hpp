// Hex and ASCII dump of bytes with their addresses.
#pragma once

#include <cstdint>
#include <string>

#include "pe/bytes.hpp"

namespace pemap::inspect {

/// 16 bytes a line: address (RVA or file offset, as the caller says), hex, ASCII.
std::string hexdump(Bytes bytes, uint64_t first_address);
/// Lower-case hex without separators, for JSON.
std::string hex_string(Bytes bytes);

}  // namespace pemap::inspect
