// The resource directory: a tree of type, name and language directories over data entries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

/// A key at one level of the tree: an ID, or a name read from UTF-16.
struct ResourceKey {
  bool named = false;
  uint32_t id = 0;   ///< when not named
  std::string name;  ///< when named: UTF-8
  /// How a path names it: the name, or "#ID".
  std::string text() const;
};

/// One leaf of the tree: the data entry reached through a type, a name and a language.
struct ResourceEntry {
  ResourceKey type, name, language;
  uint32_t entry_rva = 0;  ///< of the IMAGE_RESOURCE_DATA_ENTRY
  uint32_t rva = 0;        ///< OffsetToData: an RVA, unlike every other offset in the tree
  uint32_t size = 0;
  uint32_t code_page = 0;
  /// "RT_VERSION/#1/#1033", "WEVT_TEMPLATE/#1/#0": as --extract takes it.
  std::string path() const;
};

struct Resources {
  bool present = false;
  uint32_t time_date_stamp = 0;  ///< of the root directory
  uint16_t major_version = 0, minor_version = 0;
  std::vector<ResourceEntry> entries;  ///< in the tree's order
  std::vector<Error> warnings;
};

/// "RT_ICON", "RT_VERSION", ...: the standard name of a type ID, or empty.
std::string_view resource_type_name(uint32_t id);

/// The tree as FindResource walks it: three levels (type, name, language), each directory's named entries first.
/// A subdirectory met a second time (a loop, or a subtree shared), one deeper than the language, or a data entry
/// above it is skipped with a warning; entries are bounded by the file's size, and the names they hold (each entry
/// its own copy) by the names budget.
Result<Resources> parse_resources(const Image& image);

/// An entry's bytes as the mapped image holds them (LoadResource returns a pointer into the image).
Result<std::vector<std::byte>> resource_bytes(const Image& image, const ResourceEntry& entry);

}  // namespace pemap::pe
