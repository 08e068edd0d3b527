// pemap relocs --check: relocate an image for real and prove every changed byte is a listed fixup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "model.hpp"
#include "pe/relocs.hpp"

namespace pemap::inspect {

/// A byte of the relocated image that its fixups do not account for.
struct Violation {
  uint64_t rva;
  std::byte before, after, expected;
  std::string_view reason;  ///< "changed outside every fixup" or "not the value its fixups give"
};

struct RelocComparison {
  uint64_t bytes_compared = 0;
  uint64_t violations = 0;
  std::vector<Violation> first;  ///< the first 20
};

/// Every byte of `after` (the image relocated by `delta`) against `before` (the same image at its preferred base)
/// and the listed fixups.
RelocComparison compare_relocated(const std::vector<std::byte>& before, const std::vector<std::byte>& after,
                                  const pe::Relocations& relocs, int64_t delta);

/// Whose loader lays the image out and relocates it.
enum class Loader : uint8_t {
  windows,  ///< the memory manager's image view, relocated as the Windows loader does
  uefi,     ///< the UEFI firmware's loader (uefi/uefi_image.hpp)
};

/// Maps each file at `base` and, as a reference, wherever is free (with the UEFI loader: at its ImageBase);
/// relocates the first and checks every byte. Exit 1 on any violation.
/// `picture` names the files of --html and --svg (empty when not asked for): the relocated view drawn with the
/// pages its fixups made private and any byte that broke the rule; one file, the Windows loader's view only.
struct PictureFiles {
  std::string html, svg;
};
int run_relocs_check(const CommonOptions& opts, uint64_t base, Loader loader, const PictureFiles& picture = {});

}  // namespace pemap::inspect
