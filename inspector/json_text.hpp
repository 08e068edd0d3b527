// Strings from hostile files into JSON: valid UTF-8 passes, any other byte becomes a visible \xNN escape.
#pragma once

#include <string>
#include <string_view>

namespace pemap::inspect {

/// Always valid UTF-8: bytes that are not part of a valid sequence are written as "\xNN".
std::string printable(std::string_view raw);

}  // namespace pemap::inspect
