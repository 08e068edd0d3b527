// Writing into a mapped image as the loader does: a section that is not writable is made writable while the loader
// writes into it and given its protection back afterwards (one mprotect each way per section, as
// LdrRelocateImage protects whole sections); a page of a MEM_SHARED section is first made this view's own copy, so
// what the loader writes there (an IAT) stays private to the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "memory/image_section.hpp"

namespace pemap::win {

class PageWriter {
 public:
  enum class Shared : uint8_t {
    write_through,  ///< relocation: the fixups belong to the image, shared pages included
    make_private,   ///< import binding: the process's own addresses never reach other processes
  };
  PageWriter(const win::ImageSection& section, std::byte* base, Shared shared)
      : section_(section), base_(base), shared_(shared) {}
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;
  ~PageWriter() { restore(); }

  /// The `width` bytes at `rva`, readable and writable until restore(); null when they do not lie inside the
  /// image's sections and headers (the reserved gaps between sections have no pages to write).
  std::byte* open(uint64_t rva, unsigned width) {
    const uint64_t page = rva & ~(pe::kPageSize - 1);  // the common case: the page of the last write
    if (page == last_page_ && ((rva + width - 1) & ~(pe::kPageSize - 1)) == page && width != 0) return base_ + rva;
    return open_slow(rva, width);
  }
  /// The `width` (at most 8) bytes at `rva` as the view holds them, when every page of them is mapped readable
  /// (or opened); nullopt otherwise, so a hostile RVA never faults.
  std::optional<uint64_t> peek(uint64_t rva, unsigned width) const;
  /// Writes the low `width` (at most 8) bytes of `value` at `rva`; false where open() gives null.
  bool write(uint64_t rva, uint64_t value, unsigned width);
  /// Gives every section written its protection back.
  void restore();

  uint64_t pages_written() const { return written_; }
  uint64_t shared_pages_made_private() const { return privatized_; }

 private:
  size_t region_index(uint64_t rva) const;  // regions().size() when none holds rva
  bool open_page(uint64_t page);
  std::byte* open_slow(uint64_t rva, unsigned width);

  const win::ImageSection& section_;
  std::byte* base_;
  Shared shared_;
  std::vector<bool> opened_;             // per region: made writable, to restore
  std::vector<bool> written_pages_;      // per page of the image
  std::vector<uint64_t> private_pages_;  // shared pages replaced by private copies, to protect as their section
  uint64_t last_page_ = ~uint64_t{0};    // the page opened last: most writes fall on it
  uint64_t written_ = 0, privatized_ = 0;
};

}  // namespace pemap::win
