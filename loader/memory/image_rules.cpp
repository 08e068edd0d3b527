// Image validation in the order the memory manager applies it (docs/parser.md, "Header checks"; docs/mapping.md).
#include "memory/image_rules.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "memory/win32.hpp"

namespace pemap::win {
namespace {

Error refuse(std::string structure, Location where, std::string message) {
  return make_error(Status::invalid_image_format, std::move(structure), where, message + " (ERROR_BAD_EXE_FORMAT)",
                    Win32Error::bad_exe_format);
}

}  // namespace

std::optional<Error> check_image_for_mapping(const pe::Image& image) {
  const auto& oh = image.optional_header();
  const Location opt = Location::offset(image.optional_header_offset());
  const uint32_t sa = oh.section_alignment, fa = oh.file_alignment;
  if (!is_pow2(sa) || !is_pow2(fa))
    return refuse("optional header", opt,
                  fmt::format("SectionAlignment {:#x} and FileAlignment {:#x} must be powers of two", sa, fa));
  if (sa < fa)
    return refuse("optional header", opt, fmt::format("SectionAlignment {:#x} is below FileAlignment {:#x}", sa, fa));
  if (oh.image_base % kAllocationGranularity != 0)
    return refuse("optional header", opt, fmt::format("ImageBase {:#x} is not a multiple of 64 KiB", oh.image_base));
  if (oh.size_of_image == 0) return refuse("optional header", opt, "SizeOfImage is 0");
  const uint64_t table_end = image.section_table_offset() + image.sections().size() * sizeof(pe::SectionHeader);
  if (table_end > image.mapped_size())
    return refuse("section table", Location::offset(image.section_table_offset()),
                  fmt::format("ends at {:#x}, past SizeOfImage {:#x}", table_end, image.mapped_size()));

  if (image.is_flat()) {
    // Flat images are mapped 1:1 from the file.
    for (const auto& s : image.sections())
      if (s.header.SizeOfRawData != 0 && s.header.VirtualAddress != s.header.PointerToRawData)
        return refuse(fmt::format("section {}", s.name), Location::offset(s.header_offset),
                      fmt::format("in a flat image VirtualAddress {:#x} must equal PointerToRawData {:#x}", s.rva(),
                                  s.header.PointerToRawData));
    return std::nullopt;
  }

  // Sections in table order: aligned, above the header page, ascending without overlap, inside the image.
  uint64_t prev_end = pe::kPageSize;
  for (const auto& s : image.sections()) {
    const Location where = Location::offset(s.header_offset);
    const std::string what = fmt::format("section {}", s.name);
    if (s.rva() % sa != 0)
      return refuse(what, where,
                    fmt::format("VirtualAddress {:#x} is not a multiple of SectionAlignment {:#x}", s.rva(), sa));
    if (s.memory_size == 0) continue;
    if (s.rva() < prev_end)
      return refuse(what, where,
                    fmt::format("VirtualAddress {:#x} overlaps the headers or the section before it (which end at "
                                "{:#x})",
                                s.rva(), prev_end));
    const uint64_t end = uint64_t{s.rva()} + s.memory_size;
    if (end > image.mapped_size())
      return refuse(what, where, fmt::format("ends at {:#x}, past SizeOfImage {:#x}", end, image.mapped_size()));
    prev_end = end;
  }
  // The memory manager compares the raw data of the last section header (none when its SizeOfRawData is 0) with
  // the end of the file; an earlier section's raw data may run past it and reads as zero (corkami bigSoRD.exe).
  if (!image.sections().empty()) {
    const pe::Section& last = image.sections().back();
    const uint64_t raw_end = uint64_t{last.header.PointerToRawData} + last.header.SizeOfRawData;
    if (last.header.SizeOfRawData != 0 && raw_end > image.file().size())
      return refuse(fmt::format("section {}", last.name), Location::offset(last.header_offset),
                    fmt::format("raw data {:#x}+{:#x} ends past the end of the file ({:#x} bytes): the file is cut "
                                "short",
                                last.header.PointerToRawData, last.header.SizeOfRawData, image.file().size()));
  }
  return std::nullopt;
}

}  // namespace pemap::win
