// The UEFI loader's steps, as EDK II's PE/COFF loader library takes them: check the image, allocate, copy by the
// section table, relocate.
#include "uefi/uefi_image.hpp"

#include <algorithm>
#include <cstring>
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

Result<LoadedImage> lay_out(const pe::Image& image) {
  const auto& oh = image.optional_header();
  if (!is_efi(image))
    return make_error(Status::invalid_image_format, "optional header",
                      Location::offset(image.optional_header_offset() + 68),
                      fmt::format("Subsystem {} ({}) is not an EFI subsystem (10 to 13): the UEFI loader loads only "
                                  "EFI applications and drivers",
                                  oh.subsystem, pe::subsystem_name(oh.subsystem)));
  const uint64_t size = image.mapped_size();
  const Bytes file = image.file();
  if (size > 16 * file.size() + (uint64_t{256} << 20))
    return make_error(Status::section_too_big, "optional header", Location::offset(image.optional_header_offset() + 56),
                      fmt::format("SizeOfImage {:#x} is past pemap's limit for a {:#x}-byte file (16 times the file "
                                  "+ 256 MiB)",
                                  oh.size_of_image, file.size()));
  LoadedImage out;
  out.base = oh.image_base;
  out.bytes.resize(size);
  const uint64_t headers = std::min<uint64_t>({oh.size_of_headers, file.size(), size});
  std::memcpy(out.bytes.data(), file.data(), headers);
  out.pieces.push_back({-1, 0, headers, 0, headers});
  // Each section in table order (a later one overwrites an earlier where they overlap): min(VirtualSize,
  // SizeOfRawData) bytes from PointerToRawData (all of SizeOfRawData when VirtualSize is 0), zeros to VirtualSize.
  for (const auto& s : image.sections()) {
    const auto& h = s.header;
    const uint64_t copied = h.VirtualSize == 0 || h.VirtualSize > h.SizeOfRawData ? h.SizeOfRawData : h.VirtualSize;
    const uint64_t span = std::max<uint64_t>(h.VirtualSize, copied);
    const Location where = Location::offset(s.header_offset);
    if (span != 0 && (s.rva() >= oh.size_of_image || span > oh.size_of_image - s.rva()))
      return make_error(Status::invalid_image_format, s.label(), where,
                        fmt::format("ends at RVA {:#x}, past SizeOfImage {:#x}: the UEFI loader does not load it",
                                    uint64_t{s.rva()} + span, oh.size_of_image));
    if (copied != 0 && (h.PointerToRawData > file.size() || copied > file.size() - h.PointerToRawData))
      return make_error(Status::invalid_image_format, s.label(), where,
                        fmt::format("raw data {:#x}+{:#x} runs past the end of the file ({:#x} bytes): the UEFI "
                                    "loader cannot read it",
                                    h.PointerToRawData, copied, file.size()));
    if (copied != 0) std::memcpy(out.bytes.data() + s.rva(), file.data() + h.PointerToRawData, copied);
    std::fill_n(out.bytes.begin() + static_cast<std::ptrdiff_t>(s.rva() + copied), span - copied, std::byte{0});
    out.pieces.push_back({static_cast<int32_t>(s.index), s.rva(), span, h.PointerToRawData, copied});
  }
  return out;
}

Result<LoadedImage> load(const pe::Image& parsed, uint64_t base) {
  auto out = lay_out(parsed);
  if (!out) return out;
  const auto& oh = parsed.optional_header();
  const uint64_t alignment = std::max<uint64_t>(oh.section_alignment, pe::kPageSize);
  const uint64_t size = out->bytes.size();
  const std::string which = base == oh.image_base ? fmt::format("ImageBase {:#x}", base) : fmt::format("{:#x}", base);
  if (base % alignment != 0)
    return make_error(Status::conflicting_addresses, "image", Location{},
                      fmt::format("base {} is not a multiple of {:#x}: the firmware allocates whole pages, aligned to "
                                  "SectionAlignment when that is larger",
                                  which, alignment));
  if (base > UINT64_MAX - size)
    return make_error(Status::conflicting_addresses, "image", Location{},
                      fmt::format("{:#x} bytes at base {} run past the top of the address space", size, which));
  out->base = base;
  if (base == oh.image_base) return out;  // the firmware relocates only an image that moved
  // The relocations are read as the firmware reads them: through the section table's layout.
  std::optional<pe::Image> reparsed;
  if (parsed.layout() != pe::Layout::section_table) {
    auto again = pe::Image::parse(parsed.file(), pe::Layout::section_table);
    if (!again) return again.take_error();
    reparsed.emplace(std::move(*again));
  }
  const pe::Image& image = reparsed ? *reparsed : parsed;
  auto relocs = pe::parse_relocations(image);
  if (!relocs) return relocs.take_error();
  std::optional<Error> highadj;
  relocs->for_each([&](const pe::RelocEntry& e) {
    if (e.type == pe::reloc_type::highadj && !highadj)
      highadj = make_error(Status::invalid_image_format, "base relocation", Location::rva(e.slot_rva),
                           fmt::format("HIGHADJ fixup at RVA {:#x}: the UEFI loader does not apply the type", e.rva));
  });
  if (highadj) return *highadj;
  auto fixups = apply_relocations(image, std::span<std::byte>(out->bytes), base, *relocs,
                                  static_cast<int64_t>(base - oh.image_base));
  if (!fixups) return fixups.take_error();
  out->fixups = std::move(*fixups);
  return out;
}

}  // namespace pemap::uefi
