// The API-set schema as Windows 10 stores it: the `.apiset` section of apisetschema.dll, a version 6 namespace
// (docs/loader.md, "API sets"). Read over bounds-checked spans like every other table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pe/bytes.hpp"
#include "pe/error.hpp"
#include "pe/image.hpp"

namespace pemap::pe {

/// One value of a contract: the host DLL, for every importer (`importer` empty) or for that one module only.
struct ApiSetValue {
  std::string importer;
  std::string host;  ///< empty: the contract has no host
};

struct ApiSetContract {
  std::string name;                 ///< the full name, "api-ms-win-core-synch-l1-2-0" (no ".dll")
  std::string hashed;               ///< the part the loader looks names up by: up to the last hyphen
  std::vector<ApiSetValue> values;  ///< the default (empty importer) first, then the exceptions
};

struct ApiSetNamespace {
  uint32_t version = 0, flags = 0;
  std::vector<ApiSetContract> contracts;
};

/// The namespace in `data` (the section's bytes): a version 6 header (Version, Size, Flags, Count, EntryOffset,
/// HashOffset, HashFactor), Count 24-byte entries (Flags, NameOffset, NameLength, HashedLength, ValueOffset,
/// ValueCount) and 20-byte values (Flags, NameOffset, NameLength, ValueOffset, ValueLength), names in UTF-16LE at
/// offsets from the start. Any offset or length outside `data` is an error naming the entry.
Result<ApiSetNamespace> parse_api_set_namespace(Bytes data);

/// The namespace of apisetschema.dll: its `.apiset` section's raw data.
Result<ApiSetNamespace> parse_api_set_schema(const Image& image);

}  // namespace pemap::pe
