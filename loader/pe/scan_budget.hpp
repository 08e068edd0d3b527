// Budgets that keep every directory walk linear in the file size, whatever the file: sections may
// share file bytes, so the same bytes can appear at thousands of RVAs, and entries can all point at
// one long string.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

/// Entries one walk may produce (imports, export slots, relocation slots, debug entries): more than
/// the file could hold if each took two bytes of it, plus room for small files.
inline uint64_t entry_budget(const Image& image) { return image.file().size() / 2 + 65536; }

/// Name bytes one walk may scan.
class ScanBudget {
 public:
  /// Names are read as the file holds them, up to 1 MiB each (the loader's own 64 KiB ANSI_STRING
  /// limit is applied when binding, not here: corkami dllweirdexp-ld.exe imports a 128 KiB name).
  static constexpr uint64_t kMaxName = uint64_t{1} << 20;

  explicit ScanBudget(const Image& image) : left_(8 * image.file().size() + kMaxName) {}

  bool exhausted() const { return left_ == 0; }

  /// Charges `n` bytes of a counted name (no NUL to scan for); false, charging nothing, when they exceed the budget.
  bool charge(uint64_t n) {
    if (n > left_) return false;
    left_ -= n;
    return true;
  }

  Result<std::string_view> read_name(const Image& image, uint64_t rva, std::string_view structure,
                                     uint64_t longest = kMaxName) {
    const uint64_t max = std::min(longest, left_);
    auto name = image.read_string(rva, structure, static_cast<size_t>(max));
    // Charge what was scanned: the name, or at most the file bytes there were to scan.
    const uint64_t scanned = name ? name->size() + 1 : std::min<uint64_t>(max + 1, image.file_span(rva).size() + 1);
    left_ -= std::min(left_, scanned);
    return name;
  }

 private:
  uint64_t left_;
};

/// Per-entry warnings of one walk: the first kMax are kept, the rest counted, so a table whose every
/// entry is broken gives a readable list and not one warning per entry (a fuzz input had 86,000). It holds only its
/// counts, so a reader that keeps one can be moved; the warnings go to the list the walk names at each call.
class EntryWarnings {
 public:
  static constexpr size_t kMax = 100;
  void add(std::vector<Error>& out, Error e) {
    if (kept_ < kMax) {
      out.push_back(std::move(e));
      ++kept_;
    } else {
      ++dropped_;
    }
  }
  /// Appends the count of what was not kept; call once when the walk is done.
  void finish(std::vector<Error>& out, std::string_view structure) {
    if (dropped_)
      out.push_back(make_error(Status::success, std::string(structure), Location{},
                               std::to_string(dropped_) + " more warnings like the ones above were not listed"));
    dropped_ = 0;
  }

 private:
  size_t kept_ = 0, dropped_ = 0;
};

}  // namespace pemap::pe
