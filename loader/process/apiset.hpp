// API sets: contract names (api-ms-*, ext-ms-*) that are not files; the loader maps each to a host DLL through the
// ApiSetSchema: the system directory's apisetschema.dll when there is one, else a built-in table modelled on
// Windows 10's, which users extend or override.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pe/apiset_schema.hpp"
#include "pe/error.hpp"

namespace pemap::ldr {

/// The contract as the schema keys it: lower case, ".dll" dropped, and the last "-N" (the patch number) dropped,
/// so api-ms-win-core-synch-l1-2-0.dll and api-ms-win-core-synch-l1-2-1 both find api-ms-win-core-synch-l1-2.
std::string api_set_key(std::string_view name);

/// Where a contract leads, and which entry of the schema said so.
struct ApiSetHost {
  std::string host;        ///< empty: the contract exists but has no host
  std::string entry;       ///< the schema's name for the contract ("api-ms-win-core-synch-l1-2-0")
  bool exception = false;  ///< the host is the importer's own exception, not the contract's default
};

class ApiSetSchema {
 public:
  /// The built-in contracts (docs/loader.md lists them).
  static ApiSetSchema builtin();
  /// The contracts of a real schema (apisetschema.dll's namespace), with their per-importer exceptions.
  static ApiSetSchema from_namespace(const pe::ApiSetNamespace& ns, std::string source);
  /// from_namespace() of the file `path` (an apisetschema.dll).
  static Result<ApiSetSchema> read_dll(const std::string& path);

  /// Adds or replaces a contract: `contract` in any form api_set_key accepts; an empty host means the
  /// contract exists but has no host here (the import then fails like a missing DLL).
  void set(std::string_view contract, std::string host);
  /// Reads "contract host" lines ('#' starts a comment) from `path`, each overriding the table.
  Result<bool> load_file(const std::string& path);
  /// The host DLL for an API-set `name` imported by `importer` (its exception when the schema has one for it);
  /// nullopt when the schema has no such contract.
  std::optional<ApiSetHost> resolve(std::string_view name, std::string_view importer = {}) const;
  size_t size() const { return contracts_.size(); }
  /// "built-in", or the file the contracts were read from.
  const std::string& source() const { return source_; }

  struct Contract {
    std::string entry;                                        ///< the schema's full name
    std::string host;                                         ///< the default host
    std::vector<std::pair<std::string, std::string>> except;  ///< importer key -> host
  };
  /// Every contract, by key.
  const std::map<std::string, Contract>& contracts() const { return contracts_; }

 private:
  std::map<std::string, Contract> contracts_;  // api_set_key -> the contract
  std::string source_ = "built-in";
};

}  // namespace pemap::ldr
