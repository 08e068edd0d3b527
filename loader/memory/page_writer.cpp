// Temporary write access to an image view, section by section.
#include "memory/page_writer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "memory/win32.hpp"

namespace pemap::win {

size_t PageWriter::region_index(uint64_t rva) const {
  const auto& regions = section_.regions();  // in RVA order
  auto it = std::upper_bound(regions.begin(), regions.end(), rva,
                             [](uint64_t v, const win::ImageRegion& r) { return v < r.rva; });
  if (it == regions.begin() || rva - std::prev(it)->rva >= std::prev(it)->size) return regions.size();
  return static_cast<size_t>(std::prev(it) - regions.begin());
}

bool PageWriter::open_page(uint64_t page) {
  if (page == last_page_) return true;
  const auto& regions = section_.regions();
  const size_t index = region_index(page);
  if (index == regions.size()) return false;
  const win::ImageRegion& r = regions[index];
  last_page_ = page;
  if (written_pages_.empty()) {
    written_pages_.resize(section_.size() / pe::kPageSize + 1);
    opened_.resize(regions.size());
  }
  const uint64_t number = page / pe::kPageSize;
  if (written_pages_[number]) return true;
  written_pages_[number] = true;
  ++written_;
  std::byte* at = base_ + page;
  if (r.shared() && shared_ == Shared::make_private) {
    // Replace the shared page by a private copy of it: other processes keep seeing the shared one.
    std::vector<std::byte> copy(pe::kPageSize);
    std::memcpy(copy.data(), at, copy.size());
    if (::mmap(at, pe::kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
        MAP_FAILED) {
      std::memcpy(at, copy.data(), copy.size());
      ++privatized_;
      private_pages_.push_back(page);  // restore() gives it the section's protection (execute included)
      return true;
    }
  }
  const int prot = win::linux_protection(r.protect);
  if (!opened_[index] && (prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE)) {
    ::mprotect(base_ + r.rva, r.size, prot | PROT_READ | PROT_WRITE);
    opened_[index] = true;
  }
#ifdef MADV_POPULATE_WRITE
  // One copy-on-write in a call, instead of a read fault and then a write fault (Linux 5.14+; older kernels
  // refuse the advice and the faults happen as before).
  ::madvise(at, pe::kPageSize, MADV_POPULATE_WRITE);
#endif
  return true;
}

std::byte* PageWriter::open_slow(uint64_t rva, unsigned width) {
  const uint64_t size = section_.size();
  if (width == 0 || rva >= size || width > size - rva) return nullptr;
  for (uint64_t page = align_down(rva, pe::kPageSize); page < rva + width; page += pe::kPageSize)
    if (!open_page(page)) return nullptr;
  return base_ + rva;
}

bool PageWriter::write(uint64_t rva, uint64_t value, unsigned width) {
  std::byte* at = width <= 8 ? open(rva, width) : nullptr;
  if (at) std::memcpy(at, &value, width);
  return at != nullptr;
}

std::optional<uint64_t> PageWriter::peek(uint64_t rva, unsigned width) const {
  const uint64_t size = section_.size();
  if (width == 0 || width > 8 || rva >= size || width > size - rva) return std::nullopt;
  const auto& regions = section_.regions();
  for (uint64_t page = align_down(rva, pe::kPageSize); page < rva + width; page += pe::kPageSize) {
    const size_t index = region_index(page);
    if (index == regions.size()) return std::nullopt;
    const bool opened = !opened_.empty() && (opened_[index] || written_pages_[page / pe::kPageSize]);
    if (!opened && !(win::linux_protection(regions[index].protect) & PROT_READ)) return std::nullopt;
  }
  uint64_t value = 0;
  std::memcpy(&value, base_ + rva, width);
  return value;
}

void PageWriter::restore() {
  const auto& regions = section_.regions();
  for (size_t i = 0; i < opened_.size(); ++i)
    if (opened_[i]) {
      ::mprotect(base_ + regions[i].rva, regions[i].size, win::linux_protection(regions[i].protect));
      opened_[i] = false;
    }
  for (uint64_t page : private_pages_) {
    const size_t index = region_index(page);
    if (index < regions.size()) ::mprotect(base_ + page, pe::kPageSize, win::linux_protection(regions[index].protect));
  }
  private_pages_.clear();
  last_page_ = ~uint64_t{0};
}

}  // namespace pemap::win
