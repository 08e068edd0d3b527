// `pemap signature`: the certificate table, and each Authenticode signature with its image digest recomputed.
#pragma once

#include <string>

#include "commands.hpp"

namespace pemap::inspect {

/// Exit 1 when a signature's digest does not match the file or the signature itself does not verify (or, with
/// `trust_store`, its chain does not lead to the store); 0 for a good signature and for an unsigned file.
int run_signature(const CommonOptions& opts, const std::string& trust_store);

}  // namespace pemap::inspect
