// UTF-8 validation for names read from files.
#include "json_text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pemap::inspect {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (overlongs, surrogates and > U+10FFFF are invalid).
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return b0 >= 0x20 && b0 != 0x7f ? 1 : 0;  // control characters are escaped too
  size_t n = 0;
  uint32_t cp = 0;
  if ((b0 & 0xe0) == 0xc0)
    n = 2, cp = b0 & 0x1f;
  else if ((b0 & 0xf0) == 0xe0)
    n = 3, cp = b0 & 0x0f;
  else if ((b0 & 0xf8) == 0xf0)
    n = 4, cp = b0 & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  static constexpr uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string_view printable_view(std::string_view raw, std::string& scratch) {
  if (std::all_of(raw.begin(), raw.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '\\'; })) return raw;
  scratch = printable(raw);
  return scratch;
}

std::string printable(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == 'x') {
      out += "\\x5c";  // a literal backslash before 'x' would read as one of our escapes
      ++i;
    } else if (const size_t n = utf8_sequence(raw, i)) {
      out.append(raw.substr(i, n));
      i += n;
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(raw[i]));
      ++i;
    }
  }
  return out;
}

}  // namespace pemap::inspect
