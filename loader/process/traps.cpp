// Trap ranges: PROT_NONE reservations, registered so VirtualQuery shows them as MEM_RESERVE.
#include "process/traps.hpp"

#include <sys/mman.h>

#include "memory/virtual_query.hpp"
#include "process/placement.hpp"

namespace pemap::ldr {

namespace {
constexpr uint64_t kChunk = 0x10000;
}

TrapTable::~TrapTable() {
  for (const auto& [base, size] : chunks_) {
    win::unregister_reservation(reinterpret_cast<void*>(base));
    ::munmap(reinterpret_cast<void*>(base), size);
  }
}

uint64_t TrapTable::address_for(const std::string& what) {
  if (auto it = by_name_.find(what); it != by_name_.end()) return it->second;
  if (next_ == end_) {
    for (int attempt = 0; attempt < 8 && next_ == end_; ++attempt) {
      auto at = Placer::first_free(0x10000, kChunk, 0x1'0000'0000);
      if (!at) return 0;
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
    }
    if (next_ == end_) return 0;
  }
  const uint64_t address = next_;
  next_ += kSpacing;
  const auto named = by_name_.emplace(what, address).first;
  by_address_.emplace(address, &named->first);  // map nodes stay put: the name is held once
  return address;
}

std::string TrapTable::name_at(uint64_t address) const {
  auto it = by_address_.find(address);
  return it == by_address_.end() ? std::string() : *it->second;
}

}  // namespace pemap::ldr
