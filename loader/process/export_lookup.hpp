// Looking up an export as LdrGetProcedureAddress does: by name through the hint then a binary search of the name
// table, by ordinal relative to the export Base.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "pe/bytes.hpp"
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

/// Looks exports up in the image's export table (pe::ExportTable, read at each lookup as the loader reads it):
/// nothing is kept per export (a table of millions costs a lookup log2 of it, not a record each). The image must
/// outlive it.
class ExportLookup {
 public:
  /// An image without an export directory exports nothing; one whose directory cannot be read is an error.
  static Result<ExportLookup> create(const pe::Image& image);
  /// Exports nothing.
  ExportLookup() = default;

  struct Found {
    std::optional<pe::ExportEntry> entry;  ///< views the image; empty when not found
    How how = How::hint;                   ///< hint, binary_search or ordinal
  };
  /// `hint` indexes the name pointer table; when that name is not `name`, a binary search of the table (which
  /// the loader trusts to be sorted: an unsorted table can miss a name that is there).
  Found by_name(std::string_view name, uint16_t hint) const;
  /// `ordinal` is biased: the slot is ordinal - Base. An empty slot (RVA 0) is not found.
  Found by_ordinal(uint32_t ordinal) const;

 private:
  /// The name at `index`, at most kShownName bytes of it, to say which export an ordinal reached.
  std::string_view shown_name(uint64_t index) const;
  /// The slot name `index` exports, known readable (the lookup by ordinal sorts only those).
  uint16_t slot_of(uint64_t index) const { return *table_.name_slot(index); }

  const pe::Image* image_ = nullptr;
  pe::ExportTable table_;
  // By ordinal, the first name of each named slot: name indices sorted by their slot, one a slot, made at the
  // first ordinal lookup (4 bytes a name while it is made, each name taking 2 bytes of ordinal table in the file).
  mutable std::vector<uint32_t> slot_names_;
  mutable bool slot_names_made_ = false;
};

}  // namespace pemap::ldr
