// Helpers shared by the parser unit tests: parsing a BuiltPe, finding warnings, byte patterns, gtest printers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pe/bytes.hpp"
#include "pe/error.hpp"
#include "pe/image.hpp"
#include "support/pe_builder.hpp"

namespace pemap {

// gtest would print these enums as raw bytes.
inline void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }
inline void PrintTo(Location::Kind k, std::ostream* os) {
  *os << (k == Location::Kind::file_offset ? "file_offset" : k == Location::Kind::rva ? "rva" : "none");
}

namespace unit {

/// The builder's bytes as the parser takes them; the BuiltPe must outlive every view.
inline Bytes bytes_of(const test::BuiltPe& pe) { return {pe.bytes.data(), pe.bytes.size()}; }
inline Result<pe::Image> parse(const test::BuiltPe& pe) { return pe::Image::parse(bytes_of(pe)); }

/// Deterministic, never-zero filler, so file bytes and zero fill cannot be confused.
inline uint8_t pattern_at(size_t i, uint8_t seed = 1) { return static_cast<uint8_t>(1 + (seed + i * 13) % 251); }
inline std::vector<std::byte> pattern(size_t n, uint8_t seed = 1) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(pattern_at(i, seed));
  return v;
}

/// The first warning whose structure and message contain the given substrings.
inline const Error* find_warning(const std::vector<Error>& ws, std::string_view structure, std::string_view message) {
  for (const auto& w : ws)
    if (w.structure.find(structure) != std::string::npos && w.message.find(message) != std::string::npos) return &w;
  return nullptr;
}

inline std::string describe(const std::vector<Error>& ws) {
  if (ws.empty()) return "(no warnings)";
  std::string out;
  for (const auto& w : ws) out += "\n  " + w.to_string();
  return out;
}

/// File offset of an RVA as the builder laid it out (the helpers' sections are 0x200-aligned, so this is exact).
inline uint32_t file_off(const test::BuiltPe& pe, uint32_t rva) {
  const auto off = pe.rva_to_offset(rva);
  if (!off) throw std::out_of_range("rva not in the built file: " + std::to_string(rva));
  return *off;
}

inline std::string format_param_name(const testing::TestParamInfo<bool>& info) {
  return info.param ? "PE32plus" : "PE32";
}

inline uint64_t default_image_base(bool pe32plus) { return pe32plus ? 0x140000000ull : 0x400000ull; }

inline uint64_t ordinal_flag(bool pe32plus) { return pe32plus ? 0x8000000000000000ull : 0x80000000ull; }
inline unsigned ptr_size(bool pe32plus) { return pe32plus ? 8 : 4; }

/// Little-endian `n`-byte value / NUL-terminated string into a section's data.
inline void put_le(std::vector<std::byte>& b, size_t off, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) b.at(off + i) = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}
inline void put_str(std::vector<std::byte>& b, size_t off, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) b.at(off + i) = static_cast<std::byte>(s[i]);
  b.at(off + s.size()) = std::byte{0};
}

}  // namespace unit
}  // namespace pemap
