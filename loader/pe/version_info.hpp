// The version resource (RT_VERSION): VS_FIXEDFILEINFO and the StringFileInfo and VarFileInfo blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pe/bytes.hpp"
#include "pe/error.hpp"

namespace pemap::pe {

struct FixedFileInfo {
  uint32_t signature = 0, struc_version = 0;
  uint32_t file_version_ms = 0, file_version_ls = 0, product_version_ms = 0, product_version_ls = 0;
  uint32_t file_flags_mask = 0, file_flags = 0, file_os = 0, file_type = 0, file_subtype = 0;
  uint32_t file_date_ms = 0, file_date_ls = 0;
  /// "1.2.3.4" from a version's two DWORDs.
  static std::string version_text(uint32_t ms, uint32_t ls);
};

/// One StringTable of StringFileInfo: its key (language and code page, "040904b0") and its strings in order.
struct VersionStrings {
  std::string key;
  std::vector<std::pair<std::string, std::string>> strings;
};

struct VersionInfo {
  std::optional<FixedFileInfo> fixed;  ///< none when the Value is missing or its signature is not 0xFEEF04BD
  std::vector<VersionStrings> string_tables;
  std::vector<uint32_t> translations;  ///< VarFileInfo's "Translation": LANGID in the low word, code page high
  std::vector<Error> warnings;
};

/// VS_FIXEDFILEINFO's FileFlags, FileOS and FileType as names: "DEBUG PRERELEASE", "VOS_NT_WINDOWS32", "VFT_DLL".
std::vector<std::string> version_file_flag_names(uint32_t flags);
std::string version_file_os_name(uint32_t os);
std::string version_file_type_name(uint32_t type);

/// A VS_VERSIONINFO block (the bytes of an RT_VERSION resource at `rva`, for the warnings' locations). Each node is
/// read within its parent's wLength; a node of length 0 or past its parent ends that list with a warning.
Result<VersionInfo> parse_version_info(Bytes data, uint64_t rva);

}  // namespace pemap::pe
