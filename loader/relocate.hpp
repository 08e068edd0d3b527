// Applying base relocations to a mapped image, as the loader does when an image is not at its preferred base.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "memory/image_section.hpp"
#include "pe/relocs.hpp"

namespace pemap {

struct RelocationStats {
  std::map<uint8_t, uint64_t> per_type;  ///< fixups applied, by type (ABSOLUTE padding not counted)
  uint64_t pages_made_private = 0;       ///< distinct pages written: each is now this view's own copy
};

/// The value a fixup of `type` leaves at a location holding `old` (little-endian, `reloc_width(type)`
/// bytes), for `delta` = actual base - preferred base; HIGHADJ takes its parameter slot. Types other than
/// HIGH, LOW, HIGHLOW, HIGHADJ and DIR64 are not applied (the caller refuses them).
uint64_t relocated_value(uint8_t type, uint64_t old, int64_t delta, uint16_t highadj_param);

/// Applies every fixup of `relocs` to the view at `base` (of the image object `section`) for `delta`.
/// Fixups on read-only pages are written through a temporary writable protection, restored afterwards.
/// A type the machine has no meaning for stops with STATUS_INVALID_IMAGE_FORMAT naming the type and RVA;
/// so does a fixup outside the image. A displaced image whose relocations were stripped, or a PE32 image
/// above 4 GiB, is STATUS_CONFLICTING_ADDRESSES.
/// `honour_stripped` false applies the fixups of a stripped image anyway: Windows does so when the preferred
/// base could never be had (corkami relocsstripped.exe, ImageBase in kernel space).
Result<RelocationStats> apply_relocations(const win::ImageSection& section, std::byte* base,
                                          const pe::Relocations& relocs, int64_t delta, bool honour_stripped = true);

/// The same for `laid_out`, the whole of `image` laid out in ordinary memory that is to run at `base` (a firmware
/// loader relocates the pages it allocated and copied the image into this way). Every page is writable and the
/// memory's own: `pages_made_private` counts the pages written.
Result<RelocationStats> apply_relocations(const pe::Image& image, std::span<std::byte> laid_out, uint64_t base,
                                          const pe::Relocations& relocs, int64_t delta);

}  // namespace pemap
