// pemap relocs --check: relocate an image for real and prove every changed byte is a listed fixup.
#pragma once

#include <cstdint>

#include "commands.hpp"

namespace pemap::inspect {

/// Maps each file at `base` and, as a reference, wherever is free; relocates the first and checks every byte.
/// Exit 1 on any violation.
int run_relocs_check(const CommonOptions& opts, uint64_t base);

}  // namespace pemap::inspect
