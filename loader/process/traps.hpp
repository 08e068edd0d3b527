// Trap addresses for imports that could not be resolved (pemap load --allow-missing): each missing function gets
// its own address in a reserved, inaccessible range below 4 GiB (so PE32 IATs can hold it), and the address says
// which function it stands for.
#pragma once

#include <cstdint>
#include <map>
#include <string>
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
  uint64_t address_for(const std::string& what);
  /// The function a trap address stands for, or empty.
  std::string name_at(uint64_t address) const;
  size_t size() const { return by_name_.size(); }

  static constexpr uint64_t kSpacing = 16;

 private:
  std::vector<std::pair<uint64_t, uint64_t>> chunks_;  // reserved [base, base + size)
  uint64_t next_ = 0, end_ = 0;
  std::map<std::string, uint64_t> by_name_;
  std::map<uint64_t, const std::string*> by_address_;  // the key in by_name_
};

}  // namespace pemap::ldr
