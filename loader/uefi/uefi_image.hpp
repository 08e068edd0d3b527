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

/// What the loader copied to one stretch of the image.
struct Piece {
  int32_t section = -1;      ///< index into the section table; -1 for the headers
  uint64_t rva = 0;          ///< where it starts
  uint64_t size = 0;         ///< the bytes it covers: VirtualSize, or what was copied when that is larger
  uint64_t file_offset = 0;  ///< where its bytes come from: PointerToRawData
  uint64_t file_bytes = 0;   ///< how many were copied; zeros follow up to `size`
};

struct LoadedImage {
  uint64_t base = 0;             ///< the address the firmware gave the pages
  std::vector<std::byte> bytes;  ///< the image as it stands there: SizeOfImage rounded up to whole pages
  std::vector<Piece> pieces;     ///< the headers, then the sections in table order
  RelocationStats fixups;        ///< what the relocation wrote (pages_made_private: the pages it wrote); none at
                                 ///< ImageBase, where the firmware does not relocate
};

/// Whether a firmware loads `image` at all: its Subsystem is one of the four EFI subsystems.
bool is_efi(const pe::Image& image);

/// The image copied as the firmware copies it, not yet relocated (as it stands at ImageBase). Refused where the
/// firmware's loader refuses it: another subsystem; a section that ends past SizeOfImage or whose raw data runs
/// past the end of the file. An image whose zero fill is far larger than its file is refused by pemap's own
/// limit: 16 times the file plus 256 MiB.
Result<LoadedImage> lay_out(const pe::Image& image);

/// lay_out(), then relocated for `base`. Also refused: a base that is not on a page (or, above a page, a
/// SectionAlignment) boundary or where the image would not fit below 2^64; a base other than ImageBase when
/// relocations are stripped; a fixup outside the image, HIGHADJ (which the firmware does not apply), or a type
/// the machine does not have.
Result<LoadedImage> load(const pe::Image& image, uint64_t base);

}  // namespace pemap::uefi
