// UTF-16LE text from a file (resource names, version strings) as UTF-8.
#pragma once

#include <string>

#include "pe/bytes.hpp"

namespace pemap::pe {

/// The UTF-16LE code units in `units` (an odd last byte is ignored) as UTF-8; an unpaired surrogate becomes U+FFFD,
/// so the result is always valid UTF-8. Stops at the first NUL when `to_nul`.
std::string utf16_to_utf8(Bytes units, bool to_nul = false);

}  // namespace pemap::pe
