// Export directory: ordinal base, named and NONAME entries, forwarders ("DLL.Name" and "DLL.#123").
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

struct ExportEntry {
  uint32_t ordinal = 0;        ///< biased: Base + index into the address table
  uint32_t rva = 0;            ///< the address table value
  std::string_view name;       ///< empty for NONAME exports; views the file
  uint32_t name_index = 0;     ///< position in the (sorted) name table, when named
  std::string_view forwarder;  ///< "DLL.Name" or "DLL.#123" when rva lies inside the export directory
  bool is_forwarder() const { return !forwarder.empty(); }
};

struct Exports {
  ExportDirectory directory{};
  std::string_view dll_name;
  std::vector<ExportEntry> entries;  ///< by ordinal; address-table slots that are 0 are left out
  std::vector<Error> warnings;
  bool names_sorted = true;  ///< the loader binary-searches the names: unsorted tables misbehave
  bool present = false;
};

Result<Exports> parse_exports(const Image& image);

/// NumberOfFunctions and NumberOfNames cut to what the image can hold: a slot per 4 bytes of image, and names
/// within the file's entry budget. The walk and the loader's lookup read no further.
struct ExportCounts {
  uint64_t functions = 0, names = 0;
};
ExportCounts export_counts(const Image& image, const ExportDirectory& d);

/// Where walk_exports sends the entries, in parse_exports' order, one at a time.
struct ExportSink {
  virtual ~ExportSink() = default;
  virtual void entry(const ExportEntry& e) = 0;
};
/// parse_exports without keeping the entries (its `entries` stay empty): a table of millions is listed in the
/// memory of 8 bytes a name.
Result<Exports> walk_exports(const Image& image, ExportSink& sink);

/// Splits "DLL.Function" / "DLL.#12" at the last dot; the DLL part gets ".dll" when the caller needs it.
struct ForwarderTarget {
  std::string_view dll;
  std::string_view function;  ///< empty when by ordinal
  uint32_t ordinal = 0;
  bool by_ordinal = false;
};
std::optional<ForwarderTarget> split_forwarder(std::string_view forwarder);

}  // namespace pemap::pe
