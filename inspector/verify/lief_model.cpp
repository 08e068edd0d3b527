// LIEF 0.9's RVA mapping, restated from its Binary.cpp so differences can be explained, not hidden.
#include "verify/lief_model.hpp"

#include <algorithm>

namespace pemap::inspect {

uint64_t lief09_rva_to_offset(const pe::Image& image, uint64_t rva) {
  const auto& oh = image.optional_header();
  for (const auto& s : image.sections()) {
    const uint64_t va = s.header.VirtualAddress;
    if (rva >= va && rva < va + s.header.VirtualSize) {
      const uint64_t sa = oh.section_alignment < pe::kPageSize ? oh.file_alignment : oh.section_alignment;
      return rva - align_up(va, sa) + align_up(s.header.PointerToRawData, oh.file_alignment);
    }
  }
  return static_cast<uint32_t>(rva);
}

bool lief_reads_same(const pe::Image& image, uint64_t rva, uint64_t len) {
  return lief_reads_same_in_array(image, rva, 0, len);
}

bool lief_reads_same_in_array(const pe::Image& image, uint64_t base_rva, uint64_t delta, uint64_t len) {
  const uint64_t base = lief09_rva_to_offset(image, base_rva);
  for (uint64_t i = 0; i < std::max<uint64_t>(len, 1); ++i) {
    const auto ours = image.rva_to_offset(base_rva + delta + i);
    const uint64_t theirs = base + delta + i;
    if (!ours) {
      // Zero fill in the image: LIEF agrees only if it reads a zero byte too.
      if (theirs < image.file().size() && image.file()[theirs] == std::byte{0}) continue;
      return false;
    }
    if (*ours != theirs) return false;
  }
  return true;
}

bool lief_finds_section_for(const pe::Image& image, uint32_t directory_index) {
  const uint64_t off = lief09_rva_to_offset(image, image.directory(directory_index).VirtualAddress);
  return std::any_of(image.sections().begin(), image.sections().end(), [&](const pe::Section& s) {
    return off >= s.header.PointerToRawData && off - s.header.PointerToRawData < s.header.SizeOfRawData;
  });
}

bool lief_skips_dll_name(std::string_view name) {
  return name.size() < 4 || !std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace pemap::inspect
