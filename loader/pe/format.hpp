// PE32 and PE32+ differ here and only here: the structure types and pointer width of each format.
#pragma once

#include <cstdint>

#include "pe/spec.hpp"

namespace pemap::pe {

enum class Format : uint8_t { pe32, pe32plus };

struct Pe32Traits {
  static constexpr Format format = Format::pe32;
  using OptionalHeader = OptionalHeader32;
  using TlsDirectory = TlsDirectory32;
  using Pointer = uint32_t;
  static constexpr uint64_t ordinal_flag = 0x80000000ull;
  static constexpr const char* name = "PE32";
};

struct Pe64Traits {
  static constexpr Format format = Format::pe32plus;
  using OptionalHeader = OptionalHeader64;
  using TlsDirectory = TlsDirectory64;
  using Pointer = uint64_t;
  static constexpr uint64_t ordinal_flag = 0x8000000000000000ull;
  static constexpr const char* name = "PE32+";
};

/// Calls fn with the traits of `f`; every format-dependent decode goes through here.
template <class Fn>
decltype(auto) with_format(Format f, Fn&& fn) {
  if (f == Format::pe32plus) return fn(Pe64Traits{});
  return fn(Pe32Traits{});
}

}  // namespace pemap::pe
