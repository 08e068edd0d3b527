// Hex dump formatting.
#include "hexdump.hpp"

#include <fmt/format.h>

namespace pemap::inspect {

std::string hexdump(Bytes bytes, uint64_t first_address) {
  std::string out;
  out.reserve(bytes.size() * 5);
  for (uint64_t line = 0; line < bytes.size(); line += 16) {
    out += fmt::format("  {:08x}  ", first_address + line);
    std::string ascii;
    for (uint64_t i = 0; i < 16; ++i) {
      if (line + i < bytes.size()) {
        const auto b = static_cast<unsigned char>(bytes[line + i]);
        out += fmt::format("{:02x} ", b);
        ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
      } else {
        out += "   ";
      }
      if (i == 7) out += ' ';
    }
    out += " |" + ascii + "|\n";
  }
  return out;
}

std::string hex_string(Bytes bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = digits[b >> 4];
    out[2 * i + 1] = digits[b & 15];
  }
  return out;
}

}  // namespace pemap::inspect
