// Import directory, delay-load imports and bound imports: modules, entries by name (with hint) or ordinal.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pe/image.hpp"
#include "pe/scan_budget.hpp"

namespace pemap::pe {

struct ImportEntry {
  bool by_ordinal = false;
  uint16_t ordinal = 0;   ///< when by_ordinal
  uint16_t hint = 0;      ///< when by name
  std::string_view name;  ///< when by name; views the file
  uint32_t name_rva = 0;  ///< the hint/name entry
  uint64_t thunk = 0;     ///< the lookup-table value as in the file
  uint32_t iat_rva = 0;   ///< the IAT slot the loader writes
};

struct ImportModule {
  std::string_view dll;  ///< as in the file; views it
  uint32_t descriptor_rva = 0;
  ImportDescriptor descriptor{};
  std::vector<ImportEntry> entries;
};

struct Imports {
  std::vector<ImportModule> modules;
  std::vector<Error> warnings;
  uint64_t entry_count() const;
};

struct DelayImportModule {
  std::string_view dll;
  uint32_t descriptor_rva = 0;
  DelayImportDescriptor descriptor{};
  bool rva_based = true;             ///< Attributes bit 0; the old form stores VAs
  std::vector<ImportEntry> entries;  ///< iat_rva is the delay IAT slot
};

struct DelayImports {
  std::vector<DelayImportModule> modules;
  std::vector<Error> warnings;
};

struct BoundForwarderRef {
  std::string_view dll;
  uint32_t time_date_stamp = 0;
};

struct BoundImport {
  std::string_view dll;
  uint32_t time_date_stamp = 0;
  std::vector<BoundForwarderRef> forwarders;
};

struct BoundImports {
  std::vector<BoundImport> modules;
  std::vector<Error> warnings;
};

/// The import directory, or the delay import directory, read as the loader reads it: one descriptor, then one
/// lookup-table entry, at a time, each read from the image when asked for and nothing kept, so a caller can stop
/// anywhere and a table of 590,000 entries (corkami manyimportsW7.exe) is listed in the memory of one. The lists
/// end at a terminator, not at a count, so the reader goes forward only.
///
///   ImportReader<ImportModule> imports(image);
///   while (auto m = imports.next_module())
///     while (auto e = imports.next_entry()) ...
///   auto warnings = imports.finish();
///
/// next_module() passes over what is left of the previous module's entries, so the warnings and the budgets are
/// the same however much of each module a caller reads. The image must outlive the reader.
template <class Module>
class ImportReader {
 public:
  explicit ImportReader(const Image& image);

  /// The next module, its `entries` empty; none at the end of the descriptor list.
  std::optional<Module> next_module();
  /// The next entry of the module next_module() gave last; none at the end of its lookup table.
  std::optional<ImportEntry> next_entry();
  /// Reads what is left and gives the walk's warnings, or the error when not even the first descriptor could be
  /// read (then next_module() gave nothing). Call once.
  Result<std::vector<Error>> finish();

 private:
  struct Thunks {
    uint64_t table = 0, iat = 0, index = 0;
    bool va_form = false;  ///< the old delay-load form, which holds VAs
    std::string_view dll;
  };
  std::optional<ImportEntry> read_entry(Thunks& t);

  const Image* image_;
  std::optional<uint64_t> next_descriptor_;  ///< none once the list has ended
  std::optional<Thunks> thunks_;             ///< the current module's lookup table, while it has entries left
  std::optional<uint64_t> index_write_;      ///< where the loader writes the executable's TLS index (see the .cpp)
  uint64_t budget_ = 0;                      ///< entries and descriptors left to this file
  ScanBudget names_;
  EntryWarnings per_entry_;
  std::vector<Error> warnings_;
  std::optional<Error> unreadable_;  ///< the first descriptor, when it could not be read
  size_t modules_ = 0;
  bool after_module_ = false;  ///< the last call to next_module() gave a module
  bool finished_ = false;
};

extern template class ImportReader<ImportModule>;
extern template class ImportReader<DelayImportModule>;

/// Descriptors until one whose Name or FirstThunk is 0 (the directory Size is ignored, as by the loader);
/// names come from OriginalFirstThunk, or FirstThunk when that is 0.
Result<Imports> parse_imports(const Image& image);
Result<DelayImports> parse_delay_imports(const Image& image);
/// The bound import directory's address is a file offset into the headers, not an RVA.
Result<BoundImports> parse_bound_imports(const Image& image);

}  // namespace pemap::pe
