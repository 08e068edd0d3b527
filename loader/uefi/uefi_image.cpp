// The UEFI loader's steps: check the image, allocate, copy by the section table, relocate.
#include "uefi/uefi_image.hpp"

#include <algorithm>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "pe/names.hpp"
#include "pe/relocs.hpp"

namespace pemap::uefi {

bool is_efi(const pe::Image& image) {
  const uint16_t s = image.optional_header().subsystem;
  return s >= pe::subsystem::efi_application && s <= pe::subsystem::efi_rom;
}

Result<LoadedImage> load(const pe::Image& parsed, uint64_t base) {
  std::optional<pe::Image> reparsed;  // the firmware copies by the section table, whatever Windows would do
  if (parsed.layout() != pe::Layout::section_table) {
    auto again = pe::Image::parse(parsed.file(), pe::Layout::section_table);
    if (!again) return again.take_error();
    reparsed.emplace(std::move(*again));
  }
  const pe::Image& image = reparsed ? *reparsed : parsed;
  const auto& oh = image.optional_header();
  const Location subsystem = Location::offset(image.optional_header_offset() + 68);
  if (!is_efi(image))
    return make_error(Status::invalid_image_format, "optional header", subsystem,
                      fmt::format("Subsystem {} ({}) is not an EFI subsystem (10 to 13): the UEFI loader loads only "
                                  "EFI applications and drivers",
                                  oh.subsystem, pe::subsystem_name(oh.subsystem)));
  const uint64_t alignment = std::max<uint64_t>(oh.section_alignment, pe::kPageSize);
  if (base % alignment != 0)
    return make_error(Status::conflicting_addresses, "image", Location{},
                      fmt::format("base {:#x} is not a multiple of {:#x}: the firmware allocates whole pages, aligned "
                                  "to SectionAlignment when that is larger",
                                  base, alignment));
  const uint64_t size = image.mapped_size();
  if (size > 16 * image.file().size() + (uint64_t{256} << 20))
    return make_error(Status::section_too_big, "optional header", Location::offset(image.optional_header_offset() + 56),
                      fmt::format("SizeOfImage {:#x} is past pemap's limit for a {:#x}-byte file (16 times the file "
                                  "+ 256 MiB)",
                                  oh.size_of_image, image.file().size()));
  auto bytes = image.copy_range(0, size, "image");
  if (!bytes) return bytes.take_error();
  // The firmware copies min(VirtualSize, SizeOfRawData) bytes of a section (all of SizeOfRawData when VirtualSize
  // is 0); the section table's layout holds the file's alignment padding past VirtualSize, which it does not copy.
  for (const auto& s : image.sections()) {
    const auto& h = s.header;
    if (h.VirtualSize == 0 || h.VirtualSize >= h.SizeOfRawData || s.rva() >= size) continue;
    const uint64_t from = uint64_t{s.rva()} + h.VirtualSize;
    const pe::Region* r = image.region_at(from);  // the section's own bytes only, never the next section's
    if (!r || r->section != static_cast<int32_t>(s.index)) continue;
    const uint64_t to = std::min({uint64_t{s.rva()} + h.SizeOfRawData, r->rva + r->size, size});
    if (from < to)
      std::fill(bytes->begin() + static_cast<std::ptrdiff_t>(from), bytes->begin() + static_cast<std::ptrdiff_t>(to),
                std::byte{0});
  }
  auto relocs = pe::parse_relocations(image);
  if (!relocs) return relocs.take_error();
  const auto delta = static_cast<int64_t>(base - oh.image_base);
  auto fixups = apply_relocations(image, std::span<std::byte>(*bytes), base, *relocs, delta);
  if (!fixups) return fixups.take_error();
  return LoadedImage{base, std::move(*bytes), std::move(*fixups)};
}

}  // namespace pemap::uefi
