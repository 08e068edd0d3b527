// How many name bytes a directory walk may scan, so tables that point every entry at one long string
// stay linear in the file size instead of entries x length.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "pe/image.hpp"

namespace pemap::pe {

class ScanBudget {
 public:
  /// Names are read as the file holds them, up to 1 MiB each (the loader's own 64 KiB ANSI_STRING
  /// limit is applied when binding, not here: corkami dllweirdexp-ld.exe imports a 128 KiB name).
  static constexpr uint64_t kMaxName = uint64_t{1} << 20;

  explicit ScanBudget(const Image& image) : left_(8 * image.file().size() + kMaxName) {}

  bool exhausted() const { return left_ == 0; }

  Result<std::string_view> read_name(const Image& image, uint64_t rva, std::string_view structure) {
    const uint64_t max = std::min(kMaxName, left_);
    auto name = image.read_string(rva, structure, static_cast<size_t>(max));
    left_ -= std::min(left_, name ? name->size() + 1 : max + 1);
    return name;
  }

 private:
  uint64_t left_;
};

}  // namespace pemap::pe
