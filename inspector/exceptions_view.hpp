// `pemap exceptions`: the exception directory's functions, and with --unwind their unwind information decoded.
#pragma once

#include "commands.hpp"

namespace pemap::inspect {

int run_exceptions(const CommonOptions& opts, bool unwind);

}  // namespace pemap::inspect
