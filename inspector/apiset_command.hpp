// pemap apiset: the contracts of an API-set schema and the hosts they lead to, exceptions included.
#pragma once

#include <string>

#include "commands.hpp"

namespace pemap::inspect {

struct ApiSetOptions {
  std::string file;  ///< an apisetschema.dll; "" for the schema a load would use
  SearchOptions search;
  bool json = false, jsonl = false;
};

/// Lists the schema of `file`, or, without one, the system directory's apisetschema.dll (else the built-in
/// table). Exit 2 when the file is not a schema pemap can read.
int run_apiset(const ApiSetOptions& opts);

}  // namespace pemap::inspect
