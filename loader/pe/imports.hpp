// Import directory, delay-load imports and bound imports: modules, entries by name (with hint) or ordinal.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

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

/// Where a walk of an import directory sends what it finds: module() as each descriptor is read (its entries
/// empty), then entry() for each of that module's entries. Nothing is kept unless the sink keeps it, so a
/// table of 590,000 entries can be listed in the memory of one.
template <class Module>
struct ImportSink {
  virtual ~ImportSink() = default;
  virtual void module(const Module& m) = 0;
  virtual void entry(const ImportEntry& e) = 0;
};

/// The walks parse_imports and parse_delay_imports make, through a sink; they return the same warnings.
Result<std::vector<Error>> walk_imports(const Image& image, ImportSink<ImportModule>& sink);
Result<std::vector<Error>> walk_delay_imports(const Image& image, ImportSink<DelayImportModule>& sink);

/// Descriptors until one whose Name or FirstThunk is 0 (the directory Size is ignored, as by the loader);
/// names come from OriginalFirstThunk, or FirstThunk when that is 0.
Result<Imports> parse_imports(const Image& image);
Result<DelayImports> parse_delay_imports(const Image& image);
/// The bound import directory's address is a file offset into the headers, not an RVA.
Result<BoundImports> parse_bound_imports(const Image& image);

}  // namespace pemap::pe
