// The rules the memory manager applies before it maps a file as an image (SEC_IMAGE), as one table: the parser
// reports each broken rule as a warning, the mapper refuses the image at the first (docs/mapping.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

enum class MappingRule : uint8_t {
  alignments_pow2,         ///< SectionAlignment and FileAlignment are powers of two
  file_alignment,          ///< SectionAlignment is not below FileAlignment
  image_base_granularity,  ///< ImageBase is a multiple of 64 KiB
  size_of_image,           ///< SizeOfImage is not 0
  section_table_in_image,  ///< the section table ends within SizeOfImage
  flat_one_to_one,         ///< in a flat image, VirtualAddress == PointerToRawData
  section_alignment,       ///< a section's VirtualAddress is a multiple of SectionAlignment
  section_order,           ///< sections, in table order, ascend above the header page without overlapping
  section_in_image,        ///< a section ends within SizeOfImage
  last_raw_in_file,        ///< the last section's raw data ends within the file
};

struct MappingRuleBreak {
  MappingRule rule;
  std::string structure;  ///< "optional header", "section .text"
  Location where;
  std::string message;  ///< what breaks it, without the status
};

/// The rules `image` breaks, in the order the memory manager checks them (the sections in table order), each rule
/// once, for the first that breaks it: the first break is the one Windows refuses the image for. Rules the corkami
/// corpus shows Windows does not apply are left out (docs/parser.md lists them).
std::vector<MappingRuleBreak> mapping_rule_breaks(const Image& image);

}  // namespace pemap::pe
