// Looking up an export as LdrGetProcedureAddress does: by name through the hint then a binary search of the name
// table, by ordinal relative to the export Base.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

#include "pe/exports.hpp"

namespace pemap::ldr {

/// Import names reach the lookup as an ANSI_STRING, whose 16-bit length keeps at most this many bytes
/// (RtlInitAnsiString): longer names are compared cut there.
inline constexpr size_t kMaxAnsiName = 65534;

/// How an IAT slot got its value: the export lookup's three ways, and the loader's own.
enum class How : uint8_t { hint, binary_search, ordinal, bound, host, trap };
/// "hint", "binary search", "ordinal", "bound" (kept), "host", "trap".
std::string_view how_name(How how);
inline std::ostream& operator<<(std::ostream& out, How how) { return out << how_name(how); }

class ExportLookup {
 public:
  explicit ExportLookup(pe::Exports exports);

  struct Found {
    const pe::ExportEntry* entry = nullptr;
    How how = How::hint;  ///< hint, binary_search or ordinal
  };
  /// `hint` indexes the name pointer table; when that name is not `name`, a binary search of the table (which
  /// the loader trusts to be sorted: an unsorted table can miss a name that is there).
  Found by_name(std::string_view name, uint16_t hint) const;
  /// `ordinal` is biased: the slot is ordinal - Base. An empty slot (RVA 0) is not found.
  Found by_ordinal(uint32_t ordinal) const;

  const pe::Exports& exports() const { return exports_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  pe::Exports exports_;
  std::vector<uint32_t> names_;  // indices into exports_.entries, in name pointer table order
};

}  // namespace pemap::ldr
