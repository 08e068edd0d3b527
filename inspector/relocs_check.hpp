// pemap relocs --check: relocate an image for real and prove every changed byte is a listed fixup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "commands.hpp"
#include "model.hpp"
#include "pe/relocs.hpp"

namespace pemap::inspect {

/// Every byte of `after` (the image relocated by `delta`) against `before` (the same image at its preferred base)
/// and the listed fixups: bytes_compared, violations (a byte changed outside every fixup, or not to the value its
/// fixups give) and the first 20 of them, as `relocs --check --json` reports them.
json compare_relocated(const std::vector<std::byte>& before, const std::vector<std::byte>& after,
                       const pe::Relocations& relocs, int64_t delta);

/// Maps each file at `base` and, as a reference, wherever is free; relocates the first and checks every byte.
/// Exit 1 on any violation.
int run_relocs_check(const CommonOptions& opts, uint64_t base);

}  // namespace pemap::inspect
