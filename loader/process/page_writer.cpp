// Temporary write access to an image view, page by page.
#include "process/page_writer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "memory/win32.hpp"

namespace pemap::ldr {

const win::ImageRegion* PageWriter::region_of(uint64_t rva) const {
  const auto& regions = section_.regions();  // in RVA order
  auto it = std::upper_bound(regions.begin(), regions.end(), rva,
                             [](uint64_t v, const win::ImageRegion& r) { return v < r.rva; });
  if (it == regions.begin() || rva - std::prev(it)->rva >= std::prev(it)->size) return nullptr;
  return &*std::prev(it);
}

bool PageWriter::open_page(uint64_t page) {
  if (page == last_page_) return true;
  const win::ImageRegion* r = region_of(page);
  if (!r) return false;
  last_page_ = page;
  if (!touched_.insert(page).second) return true;
  ++written_;
  std::byte* at = base_ + page;
  if (r->backing == win::ImageRegion::Backing::shared && shared_ == Shared::make_private) {
    // Replace the shared page by a private copy of it: other processes keep seeing the shared one.
    std::vector<std::byte> copy(pe::kPageSize);
    std::memcpy(copy.data(), at, copy.size());
    if (::mmap(at, pe::kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
        MAP_FAILED) {
      std::memcpy(at, copy.data(), copy.size());
      ++privatized_;
      return true;
    }
  }
  ::mprotect(at, pe::kPageSize, PROT_READ | PROT_WRITE);
  return true;
}

std::byte* PageWriter::open(uint64_t rva, unsigned width) {
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
  for (uint64_t page = align_down(rva, pe::kPageSize); page < rva + width; page += pe::kPageSize) {
    const win::ImageRegion* r = region_of(page);
    if (!r) return std::nullopt;
    if (!touched_.count(page) && !(win::linux_protection(r->protect) & PROT_READ)) return std::nullopt;
  }
  uint64_t value = 0;
  std::memcpy(&value, base_ + rva, width);
  return value;
}

void PageWriter::restore() {
  for (uint64_t page : touched_) {
    const win::ImageRegion* r = region_of(page);
    ::mprotect(base_ + page, pe::kPageSize, r ? win::linux_protection(r->protect) : PROT_NONE);
  }
  touched_.clear();
  last_page_ = ~uint64_t{0};
}

}  // namespace pemap::ldr
