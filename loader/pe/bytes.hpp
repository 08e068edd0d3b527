// The one bounds primitive: overflow-safe reads and slices of file bytes, 64-bit arithmetic throughout.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "pe/error.hpp"

namespace pemap {

static_assert(std::endian::native == std::endian::little,
              "PE is little-endian; a big-endian host needs byte swaps here");

using Bytes = std::span<const std::byte>;

/// True when [offset, offset+len) lies inside a buffer of `size` bytes; never overflows.
constexpr bool in_bounds(uint64_t size, uint64_t offset, uint64_t len) {
  return offset <= size && len <= size - offset;
}

/// Decode a trivially copyable spec struct at `offset`, or say which structure did not fit.
template <class T>
Result<T> read(Bytes bytes, uint64_t offset, std::string_view structure) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (!in_bounds(bytes.size(), offset, sizeof(T)))
    return make_error(
        Status::invalid_image_format, std::string(structure), Location::offset(offset),
        "needs " + std::to_string(sizeof(T)) + " bytes but the file ends at " + std::to_string(bytes.size()));
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

/// Decode without a check; the caller has proved the bounds (used in hot loops after one slice()).
template <class T>
T load(Bytes bytes, uint64_t offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

/// A sub-span, or an error naming the structure that did not fit.
inline Result<Bytes> slice(Bytes bytes, uint64_t offset, uint64_t len, std::string_view structure) {
  if (!in_bounds(bytes.size(), offset, len))
    return make_error(Status::invalid_image_format, std::string(structure), Location::offset(offset),
                      "needs " + std::to_string(len) + " bytes but the file ends at " + std::to_string(bytes.size()));
  return bytes.subspan(offset, len);
}

inline std::string_view as_chars(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

constexpr uint64_t align_up(uint64_t v, uint64_t a) { return a == 0 ? v : (v + a - 1) / a * a; }
constexpr uint64_t align_down(uint64_t v, uint64_t a) { return a == 0 ? v : v / a * a; }
constexpr bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace pemap
