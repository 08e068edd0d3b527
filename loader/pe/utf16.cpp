// UTF-16LE to UTF-8.
#include "pe/utf16.hpp"

namespace pemap::pe {
namespace {

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace

std::string utf16_to_utf8(Bytes units, bool to_nul) {
  constexpr uint32_t kReplacement = 0xFFFD;
  std::string out;
  out.reserve(units.size() / 2);
  const size_t n = units.size() / 2;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = load<uint16_t>(units, 2 * i);
    if (c == 0 && to_nul) break;
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < n) {
      const uint32_t low = load<uint16_t>(units, 2 * (i + 1));
      if (low >= 0xDC00 && low < 0xE000) {
        append_utf8(out, 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00));
        ++i;
        continue;
      }
    }
    append_utf8(out, c >= 0xD800 && c < 0xE000 ? kReplacement : c);
  }
  return out;
}

}  // namespace pemap::pe
