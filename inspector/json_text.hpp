// Strings from hostile files into JSON: valid UTF-8 passes, any other byte becomes a visible \xNN escape.
#pragma once

#include <string>
#include <string_view>

namespace pemap::inspect {

/// Always valid UTF-8: bytes that are not part of a valid sequence, and control characters, are
/// written as "\xNN"; a backslash that would be read as such an escape is written "\x5c".
std::string printable(std::string_view raw);

}  // namespace pemap::inspect
