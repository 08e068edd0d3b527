// An EFI image as the UEFI firmware's loader builds it: pages allocated for SizeOfImage, the headers and each
// section's raw data copied where the section table puts them, zeros elsewhere, and the base relocations applied
// for the address the pages have (docs/mapping.md, "EFI images"). Built in pemap's own memory; nothing of it runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pe/image.hpp"
#include "relocate.hpp"

namespace pemap::uefi {

struct LoadedImage {
  uint64_t base = 0;             ///< the address the firmware gave the pages
  std::vector<std::byte> bytes;  ///< the image as it stands there: SizeOfImage rounded up to whole pages
  RelocationStats fixups;        ///< what the relocation wrote (pages_made_private: the pages it wrote)
};

/// Whether a firmware loads `image` at all: its Subsystem is one of the four EFI subsystems.
bool is_efi(const pe::Image& image);

/// Loads `image` at `base`, laid out by its section table whichever layout it was parsed with. Refused, as the firmware's loader refuses
/// it: an image of another subsystem; a base that is not on a page (or, above a page, a SectionAlignment)
/// boundary; a base other than ImageBase when relocations are stripped; a fixup outside the image or of a type
/// the machine does not have. An image whose zero fill is far larger than its file is refused by pemap's own
/// limit: 16 times the file plus 256 MiB.
Result<LoadedImage> load(const pe::Image& image, uint64_t base);

}  // namespace pemap::uefi
