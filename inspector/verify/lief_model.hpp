// A model of how LIEF 0.9 turns an RVA into a file offset (Binary::rva_to_offset), so `verify` can tell
// a LIEF gap from our error: where LIEF reads other bytes than Windows maps, a difference is explained.
#pragma once

#include <cstdint>
#include <string_view>

#include "pe/image.hpp"

namespace pemap::inspect {

/// LIEF 0.9: the first section in table order with VA <= rva < VA + VirtualSize (a VirtualSize of 0
/// never matches), offset = rva - align_up(VA, SectionAlignment or FileAlignment when below a page)
/// + align_up(PointerToRawData, FileAlignment); no section: offset = rva.
uint64_t lief09_rva_to_offset(const pe::Image& image, uint64_t rva);

/// True when LIEF reads the same `len` file bytes for `rva` as the Windows layout maps there.
bool lief_reads_same(const pe::Image& image, uint64_t rva, uint64_t len);

/// The same for element bytes LIEF reaches by stepping a pointer through an array it located once
/// (descriptors, thunks): it reads `base_rva`'s offset + `delta`, wherever Windows maps base + delta.
bool lief_reads_same_in_array(const pe::Image& image, uint64_t base_rva, uint64_t delta, uint64_t len);

/// LIEF 0.9 parses the relocation, TLS, load config and debug directories only when the file offset it
/// computes for the directory lies in some section's raw data (Parser.tcc: section_from_offset).
bool lief_finds_section_for(const pe::Image& image, uint32_t directory_index);

/// LIEF 0.9 skips import modules whose name is shorter than 4 characters or not printable.
bool lief_skips_dll_name(std::string_view name);

}  // namespace pemap::inspect
