// pemap map --as efi and relocs --check --as efi: an EFI image as the UEFI firmware's loader lays it out and
// relocates it, where Windows' mapper refuses many of them.
#pragma once

#include <cstdint>
#include <optional>

#include "commands.hpp"

namespace pemap::inspect {

/// Loads each file as the UEFI loader does, at `base` (default: its ImageBase), and shows the layout and the
/// fixups. Exit 2 for an image the UEFI loader refuses.
int run_map_uefi(const CommonOptions& opts, std::optional<uint64_t> base);

/// relocs --check on the UEFI loader's layout: the image loaded at `base` against the same image loaded at its
/// ImageBase, every differing byte a listed fixup. Exit 1 on any violation.
int run_relocs_check_uefi(const CommonOptions& opts, uint64_t base);

}  // namespace pemap::inspect
