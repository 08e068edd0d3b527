// API sets: contract names (api-ms-*, ext-ms-*) that are not files; the loader maps each to a host DLL through the
// ApiSetSchema. Ours is a built-in table modelled on Windows 10's, which users extend or override.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pe/error.hpp"

namespace pemap::ldr {

/// The contract as the schema keys it: lower case, ".dll" dropped, and the last "-N" (the patch number) dropped,
/// so api-ms-win-core-synch-l1-2-0.dll and api-ms-win-core-synch-l1-2-1 both find api-ms-win-core-synch-l1-2.
std::string api_set_key(std::string_view name);

class ApiSetSchema {
 public:
  /// The built-in contracts (docs/loader.md lists them).
  static ApiSetSchema builtin();

  /// Adds or replaces a contract: `contract` in any form api_set_key accepts; an empty host means the
  /// contract exists but has no host here (the import then fails like a missing DLL).
  void set(std::string_view contract, std::string host);
  /// Reads "contract host" lines ('#' starts a comment) from `path`, each overriding the table.
  Result<bool> load_file(const std::string& path);
  /// The host DLL for an API-set `name`; nullopt when the schema has no such contract.
  std::optional<std::string> resolve(std::string_view name) const;
  size_t size() const { return hosts_.size(); }

 private:
  std::map<std::string, std::string> hosts_;  // api_set_key -> host
};

}  // namespace pemap::ldr
