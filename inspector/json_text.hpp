// Strings from hostile files into JSON: valid UTF-8 passes, any other byte becomes a visible \xNN escape.
#pragma once

#include <string>
#include <string_view>

namespace pemap::inspect {

/// Always valid UTF-8: bytes that are not part of a valid sequence, and control characters, are
/// written as "\xNN"; a backslash that would be read as such an escape is written "\x5c".
std::string printable(std::string_view raw);
/// printable(raw) without a copy for the common text it leaves as it is (printable ASCII, no backslash): `raw`
/// itself, else printable(raw) kept in `scratch`. For the rows of long tables.
std::string_view printable_view(std::string_view raw, std::string& scratch);

}  // namespace pemap::inspect
