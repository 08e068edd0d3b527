// The memory manager's rules for SEC_IMAGE, checked in its order.
#include "pe/mapping_rules.hpp"

#include <fmt/format.h>

namespace pemap::pe {

std::vector<MappingRuleBreak> mapping_rule_breaks(const Image& image) {
  std::vector<MappingRuleBreak> out;
  uint32_t seen = 0;  // a bit per rule already broken
  auto broken = [&](MappingRule rule, std::string structure, Location where, std::string message) {
    const uint32_t bit = 1u << static_cast<unsigned>(rule);
    if (seen & bit) return;
    seen |= bit;
    out.push_back({rule, std::move(structure), where, std::move(message)});
  };
  const auto& oh = image.optional_header();
  const Location opt = Location::offset(image.optional_header_offset());
  const uint32_t sa = oh.section_alignment, fa = oh.file_alignment;
  const bool alignments_valid = is_pow2(sa) && is_pow2(fa);
  if (!alignments_valid)
    broken(MappingRule::alignments_pow2, "optional header", opt,
           fmt::format("SectionAlignment {:#x} and FileAlignment {:#x} must be powers of two", sa, fa));
  else if (sa < fa)
    broken(MappingRule::file_alignment, "optional header", opt,
           fmt::format("SectionAlignment {:#x} is below FileAlignment {:#x}", sa, fa));
  if (oh.image_base % kAllocationGranularity != 0)
    broken(MappingRule::image_base_granularity, "optional header", opt,
           fmt::format("ImageBase {:#x} is not a multiple of 64 KiB", oh.image_base));
  if (oh.size_of_image == 0) broken(MappingRule::size_of_image, "optional header", opt, "SizeOfImage is 0");
  const uint64_t table_end = image.section_table_offset() + image.sections().size() * sizeof(SectionHeader);
  if (table_end > image.mapped_size())
    broken(MappingRule::section_table_in_image, "section table", Location::offset(image.section_table_offset()),
           fmt::format("ends at {:#x}, past SizeOfImage {:#x}", table_end, image.mapped_size()));

  uint64_t prev_end = kPageSize;  // the header page, then the end of the section before
  const Section* before = nullptr;
  for (const auto& s : image.sections()) {
    const Location where = Location::offset(s.header_offset);
    auto section = [&] { return s.label(); };
    if (image.is_flat()) {  // mapped 1:1 from the file: only this rule applies to its sections
      if (s.header.SizeOfRawData != 0 && s.header.VirtualAddress != s.header.PointerToRawData)
        broken(MappingRule::flat_one_to_one, section(), where,
               fmt::format("a flat image maps the file 1:1, but VirtualAddress {:#x} differs from PointerToRawData "
                           "{:#x}",
                           s.rva(), s.header.PointerToRawData));
      continue;
    }
    if (alignments_valid && s.rva() % sa != 0)
      broken(MappingRule::section_alignment, section(), where,
             fmt::format("VirtualAddress {:#x} is not a multiple of SectionAlignment {:#x}", s.rva(), sa));
    if (s.memory_size == 0) continue;
    if (s.rva() < prev_end)
      broken(MappingRule::section_order, section(), where,
             !before || s.rva() < kPageSize
                 ? fmt::format("VirtualAddress {:#x} overlaps the headers (the header page ends at {:#x})", s.rva(),
                               kPageSize)
                 : fmt::format("VirtualAddress {:#x} is below the end of {} before it in the table "
                               "({:#x}): sections must ascend without overlapping",
                               s.rva(), before->label(), prev_end));
    const uint64_t end = uint64_t{s.rva()} + s.memory_size;
    if (end > image.mapped_size())
      broken(MappingRule::section_in_image, section(), where,
             fmt::format("ends at RVA {:#x}, past SizeOfImage {:#x}", end, image.mapped_size()));
    if (end > prev_end) prev_end = end, before = &s;
  }
  // The memory manager compares the raw data of the last section header (none when its SizeOfRawData is 0) with
  // the end of the file; an earlier section's raw data may run past it and reads as zero (corkami bigSoRD.exe).
  if (!image.is_flat() && !image.sections().empty()) {
    const Section& last = image.sections().back();
    const uint64_t raw_end = uint64_t{last.header.PointerToRawData} + last.header.SizeOfRawData;
    if (last.header.SizeOfRawData != 0 && raw_end > image.file().size())
      broken(MappingRule::last_raw_in_file, last.label(), Location::offset(last.header_offset),
             fmt::format("raw data {:#x}+{:#x} ends past the end of the file ({:#x} bytes): the file is cut short",
                         last.header.PointerToRawData, last.header.SizeOfRawData, image.file().size()));
  }
  return out;
}

}  // namespace pemap::pe
