// Trap ranges: PROT_NONE reservations, registered so VirtualQuery shows them as MEM_RESERVE.
#include "process/traps.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <functional>

#include "memory/virtual_query.hpp"
#include "process/placement.hpp"

namespace pemap::ldr {

namespace {
constexpr uint64_t kChunk = 0x10000;
constexpr uint64_t kPerChunk = kChunk / TrapTable::kSpacing;
constexpr size_t kFirstBlock = 0x1000, kBlock = 0x10000;  // names are copied into blocks of up to this size
}  // namespace

TrapTable::~TrapTable() {
  for (const auto& [base, size] : chunks_) {
    win::unregister_reservation(reinterpret_cast<void*>(base));
    ::munmap(reinterpret_cast<void*>(base), size);
  }
}

bool TrapTable::reserve_chunk() {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto at = Placer::first_free(0x10000, kChunk, 0x1'0000'0000);
    if (!at) return false;
    void* p = ::mmap(reinterpret_cast<void*>(*at), kChunk, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) continue;
    if (p != reinterpret_cast<void*>(*at)) {
      ::munmap(p, kChunk);
      continue;
    }
    chunks_.emplace_back(*at, kChunk);
    win::register_reservation(p, kChunk);
    next_ = *at;
    end_ = *at + kChunk;
    return true;
  }
  return false;
}

const char* TrapTable::keep(std::string_view name) {
  if (name.size() + 1 > left_) {
    // Blocks double from 4 KiB to 64 KiB: a load with one missing import does not pay for thousands.
    block_ = std::min(block_ == 0 ? kFirstBlock : 2 * block_, kBlock);
    const size_t size = std::max(name.size() + 1, block_);
    blocks_.push_back(std::make_unique<char[]>(size));
    free_ = blocks_.back().get();
    left_ = size;
  }
  char* kept = free_;
  *std::copy(name.begin(), name.end(), kept) = '\0';
  free_ += name.size() + 1;
  left_ -= name.size() + 1;
  return kept;
}

void TrapTable::index(uint32_t trap) {
  const size_t mask = slots_.size() - 1;
  for (size_t i = std::hash<std::string_view>{}(name(trap)) & mask;; i = (i + 1) & mask)
    if (slots_[i] == 0) {
      slots_[i] = trap + 1;
      return;
    }
}

uint64_t TrapTable::address_for(std::string_view what) {
  what = what.substr(0, what.find('\0'));  // as it is held
  if (!slots_.empty()) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = std::hash<std::string_view>{}(what)&mask; slots_[i] != 0; i = (i + 1) & mask)
      if (const uint32_t trap = slots_[i] - 1; name(trap) == what)
        return chunks_[trap / kPerChunk].first + trap % kPerChunk * kSpacing;
  }
  if (next_ == end_ && !reserve_chunk()) return 0;
  const uint64_t address = next_;
  next_ += kSpacing;
  names_.push_back(keep(what));
  if (2 * names_.size() > slots_.size()) {
    slots_.assign(std::max<size_t>(64, 2 * slots_.size()), 0);  // doubled: between a quarter and half full
    for (uint32_t k = 0; k < names_.size(); ++k) index(k);
  } else {
    index(static_cast<uint32_t>(names_.size() - 1));
  }
  return address;
}

std::string TrapTable::name_at(uint64_t address) const {
  for (size_t c = 0; c < chunks_.size(); ++c) {
    const auto [base, size] = chunks_[c];
    if (address < base || address - base >= size || (address - base) % kSpacing != 0) continue;
    const uint64_t trap = c * kPerChunk + (address - base) / kSpacing;
    return trap < names_.size() ? std::string(name(static_cast<uint32_t>(trap))) : std::string();
  }
  return {};
}

}  // namespace pemap::ldr
