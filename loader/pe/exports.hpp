// Export directory: ordinal base, named and NONAME entries, forwarders ("DLL.Name" and "DLL.#123").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pe/image.hpp"
#include "pe/scan_budget.hpp"

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

/// The export directory as the loader reads it, with nothing kept per export: the address, name pointer and ordinal
/// tables are read at the index asked (a table of millions costs nothing until it is read). ExportReader lists
/// through it and the loader's lookup (by name with hint, by ordinal) searches through it. The image must outlive
/// it; the counts are cut to what the image can hold (export_counts).
class ExportTable {
 public:
  /// An image without an export directory gives an empty table; a directory that cannot be read is the error.
  static Result<ExportTable> open(const Image& image);
  ExportTable() = default;

  bool present() const { return image_ != nullptr; }
  const ExportDirectory& directory() const { return dir_; }
  uint64_t directory_rva() const { return dir_begin_; }
  uint64_t functions() const { return functions_; }  ///< address-table slots read
  uint64_t names() const { return names_; }          ///< name pointer (and ordinal) entries read

  /// Address-table slot `slot`: its RVA (0 for an empty slot).
  Result<uint32_t> function(uint64_t slot) const;
  /// Name pointer `index`: the RVA of its name.
  Result<uint32_t> name_rva(uint64_t index) const;
  /// Ordinal table entry `index`: the address-table slot name `index` exports.
  Result<uint16_t> name_slot(uint64_t index) const;
  /// strcmp of name `index` with `name`, reading no more of it than `name` and its NUL (an export name may run on
  /// for a MiB; a probe costs the name looked for). Empty when the name runs off the image.
  std::optional<int> compare_name(uint64_t index, std::string_view name) const;
  /// An RVA inside the directory is a forwarder string, not code.
  bool forwards(uint32_t rva) const { return rva >= dir_begin_ && rva < dir_end_; }
  /// The export in slot `slot` (named `name` at `name_index` when found by name), or empty for an empty slot.
  std::optional<ExportEntry> entry(uint64_t slot, std::string_view name = {}, uint32_t name_index = 0) const;

 private:
  const Image* image_ = nullptr;
  ExportDirectory dir_{};
  uint64_t dir_begin_ = 0, dir_end_ = 0;
  uint64_t functions_ = 0, names_ = 0;
  // The name pointer and ordinal tables when the file holds each whole in one region (as every linker writes
  // them): read without resolving an RVA per entry. Empty otherwise, and then read through the image.
  Bytes name_table_, ordinal_table_;
};

/// The export directory in listing order, read as asked: each address-table slot in turn, once for each name that
/// exports it (NONAME slots once, empty slots not at all), nothing kept but 8 bytes a name, so a table of millions
/// is listed, and a listing can stop, without holding it. The header's fields and the names' order are read when it
/// opens; header() has them. The image must outlive the reader.
class ExportReader {
 public:
  /// A directory that cannot be read is the error; an image without one gives a reader with nothing to read.
  static Result<ExportReader> open(const Image& image);

  /// The directory's own fields (present, DLL name, counts, whether the names are sorted); `entries` stays empty.
  const Exports& header() const { return out_; }
  std::optional<ExportEntry> next();
  /// Reads what is left and gives the header with every warning of the walk, and frees the names' index. Call once.
  Exports finish();

 private:
  struct Named {  // a named slot: which name pointer names it
    uint32_t slot;
    uint32_t index;
  };
  explicit ExportReader(const Image& image) : image_(&image), names_budget_(image) {}
  void read_header();
  void read_names();
  bool next_run();
  std::optional<ExportEntry> begin_slot(uint64_t slot, uint32_t rva);
  std::string_view name_at(uint32_t index) const;

  const Image* image_;
  ExportTable table_;
  ScanBudget names_budget_;
  EntryWarnings per_entry_;
  Exports out_;
  std::vector<Named> named_;  ///< by slot
  size_t next_named_ = 0;
  uint64_t slot_ = 0, scanned_ = 0;  ///< the next slot; slots read so far, within entry_budget
  Bytes run_;                        ///< file bytes of slots from slot_ on, still to read
  std::optional<uint32_t> single_;   ///< slot_'s value when it straddles the end of the file bytes
  ExportEntry entry_;                ///< the slot whose names are being given
  uint64_t entry_slot_ = 0;
  bool naming_ = false, done_ = false, finished_ = false;
};

/// Splits "DLL.Function" / "DLL.#12" at the last dot; the DLL part gets ".dll" when the caller needs it.
struct ForwarderTarget {
  std::string_view dll;
  std::string_view function;  ///< empty when by ordinal
  uint32_t ordinal = 0;
  bool by_ordinal = false;
};
std::optional<ForwarderTarget> split_forwarder(std::string_view forwarder);

}  // namespace pemap::pe
