// Trap addresses for imports that could not be resolved (pemap load --allow-missing): each missing function gets
// its own address in a reserved, inaccessible range below 4 GiB (so PE32 IATs can hold it), and the address says
// which function it stands for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pemap::ldr {

class TrapTable {
 public:
  TrapTable() = default;
  TrapTable(const TrapTable&) = delete;
  TrapTable& operator=(const TrapTable&) = delete;
  ~TrapTable();

  /// The trap for `what` ("nosuch.dll!nosuch_function"): the same address each time it is asked for; 0 when no
  /// range below 4 GiB can be reserved.
  uint64_t address_for(std::string_view what);
  /// The function a trap address stands for, or empty.
  std::string name_at(uint64_t address) const;
  size_t size() const { return names_.size(); }

  static constexpr uint64_t kSpacing = 16;

 private:
  bool reserve_chunk();
  const char* keep(std::string_view name);
  void index(uint32_t trap);
  std::string_view name(uint32_t trap) const { return names_[trap]; }

  std::vector<std::pair<uint64_t, uint64_t>> chunks_;  // reserved [base, base + size), filled in order
  uint64_t next_ = 0, end_ = 0;
  // Trap k is the k-th address handed out, so its name is names_[k]; a name is held once, NUL-terminated (import
  // names are C strings), in blocks_.
  std::vector<const char*> names_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* free_ = nullptr;
  size_t left_ = 0, block_ = 0;
  std::vector<uint32_t> slots_;  // open addressing by name: trap + 1, 0 for empty; a power of two, at most half full
};

}  // namespace pemap::ldr
