// The relocation engine: one walk (pe::Relocations::for_each) and the arithmetic of each type.
#include "relocate.hpp"

#include <array>
#include <cstring>
#include <span>

#include <fmt/format.h>

#include "memory/page_writer.hpp"
#include "memory/win32.hpp"

namespace pemap {

uint64_t relocated_value(uint8_t type, uint64_t old, int64_t delta, uint16_t highadj_param) {
  const auto d = static_cast<uint64_t>(delta);
  switch (type) {
    case pe::reloc_type::high:
      return static_cast<uint16_t>(old + (d >> 16));
    case pe::reloc_type::low:
      return static_cast<uint16_t>(old + d);
    case pe::reloc_type::highlow:
      return static_cast<uint32_t>(old + d);
    case pe::reloc_type::dir64:
      return old + d;
    case pe::reloc_type::highadj: {
      // The 16-bit slot holds the high half; the next slot the (signed) low half of a 32-bit value.
      uint32_t value = (static_cast<uint32_t>(old) << 16) + static_cast<uint32_t>(static_cast<int16_t>(highadj_param));
      value += static_cast<uint32_t>(d);
      value += 0x8000;  // round, so the low half's sign is carried into the high half
      return static_cast<uint16_t>(value >> 16);
    }
    default:
      return old;
  }
}

namespace {

// Memory the image was copied into, all of it writable and its own (as a firmware loader allocates it).
class BufferWriter {
 public:
  explicit BufferWriter(std::span<std::byte> image) : image_(image), pages_(image.size() / pe::kPageSize + 1) {}
  std::byte* open(uint64_t rva, unsigned width) {
    if (rva >= image_.size() || width > image_.size() - rva) return nullptr;
    for (uint64_t p = rva / pe::kPageSize; p <= (rva + width - 1) / pe::kPageSize; ++p)
      if (!pages_[p]) pages_[p] = true, ++written_;
    return image_.data() + rva;
  }
  void restore() {}
  uint64_t pages_written() const { return written_; }

 private:
  std::span<std::byte> image_;
  std::vector<bool> pages_;
  uint64_t written_ = 0;
};

// The one walk over the fixups for both kinds of memory: `writer` opens the bytes of each (PageWriter, BufferWriter).
template <class Writer>
Result<RelocationStats> relocate(Writer& writer, const pe::Image& image, uint64_t at, uint64_t size,
                                 const pe::Relocations& relocs, int64_t delta, bool honour_stripped) {
  RelocationStats stats;
  if (delta != 0 && honour_stripped && (image.file_header().Characteristics & pe::file_flag::relocs_stripped))
    return make_error(Status::conflicting_addresses, "COFF file header", Location::offset(image.nt_offset() + 4 + 18),
                      "relocations are stripped (IMAGE_FILE_RELOCS_STRIPPED): the image cannot leave its preferred "
                      "base");
  if (!image.is_pe32plus() && (at > 0xffffffffu || size > 0x100000000u - at))
    return make_error(Status::conflicting_addresses, "image", Location{},
                      fmt::format("a PE32 image must lie below 4 GiB; {:#x}+{:#x} does not", at, size));
  std::optional<Error> failure;
  std::array<uint64_t, 16> per_type{};  // a map update per fixup would cost more than the fixup
  auto fail = [&](const pe::RelocEntry& e, unsigned width) {
    failure = make_error(Status::invalid_image_format, "base relocation", Location::rva(e.slot_rva),
                         e.rva >= size || width > size - e.rva
                             ? fmt::format("{} fixup at RVA {:#x} runs past SizeOfImage {:#x}",
                                           pe::reloc_type_name(e.type, relocs.machine), e.rva, size)
                             : fmt::format("{} fixup at RVA {:#x} lies between sections, where nothing is mapped",
                                           pe::reloc_type_name(e.type, relocs.machine), e.rva));
  };
  const auto d = static_cast<uint64_t>(delta);
  relocs.for_each([&](const pe::RelocEntry& e) {
    if (failure) return;
    // DIR64 and HIGHLOW are nearly every fixup there is: fixed-width copies the compiler keeps in registers.
    if (e.type == pe::reloc_type::dir64 || e.type == pe::reloc_type::highlow) {
      const bool wide = e.type == pe::reloc_type::dir64;
      std::byte* slot = writer.open(e.rva, wide ? 8 : 4);
      if (!slot) return fail(e, wide ? 8 : 4);
      if (wide) {
        uint64_t v;
        std::memcpy(&v, slot, 8);
        v += d;
        std::memcpy(slot, &v, 8);
      } else {
        uint32_t v;
        std::memcpy(&v, slot, 4);
        v += static_cast<uint32_t>(d);
        std::memcpy(slot, &v, 4);
      }
      ++per_type[e.type];
      return;
    }
    if (e.type == pe::reloc_type::absolute) return;
    const unsigned width = pe::reloc_width(e.type);
    const bool known =
        e.type == pe::reloc_type::high || e.type == pe::reloc_type::low || e.type == pe::reloc_type::highadj;
    if (!known) {
      failure = make_error(Status::invalid_image_format, "base relocation", Location::rva(e.slot_rva),
                           fmt::format("type {} ({}) at RVA {:#x} is not one the loader applies for this machine",
                                       e.type, pe::reloc_type_name(e.type, relocs.machine), e.rva));
      return;
    }
    std::byte* slot = writer.open(e.rva, width);
    if (!slot) return fail(e, width);
    uint64_t old = 0;
    std::memcpy(&old, slot, width);
    const uint64_t now = relocated_value(e.type, old, delta, e.highadj_param.value_or(0));
    std::memcpy(slot, &now, width);
    ++per_type[e.type];
  });
  writer.restore();
  if (failure) return *failure;
  stats.pages_made_private = writer.pages_written();
  for (uint8_t type = 0; type < per_type.size(); ++type)
    if (per_type[type]) stats.per_type[type] = per_type[type];
  return stats;
}

}  // namespace

Result<RelocationStats> apply_relocations(const win::ImageSection& section, std::byte* base,
                                          const pe::Relocations& relocs, int64_t delta, bool honour_stripped) {
  win::PageWriter writer(section, base, win::PageWriter::Shared::write_through);
  return relocate(writer, section.image(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(base)), section.size(),
                  relocs, delta, honour_stripped);
}

Result<RelocationStats> apply_relocations(const pe::Image& image, std::span<std::byte> laid_out, uint64_t base,
                                          const pe::Relocations& relocs, int64_t delta) {
  BufferWriter writer(laid_out);
  return relocate(writer, image, base, laid_out.size(), relocs, delta, true);
}

}  // namespace pemap
