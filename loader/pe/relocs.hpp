// Base relocations: blocks and entries, every type by name; one walker serves listing, checking and applying.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

namespace reloc_type {
inline constexpr uint8_t absolute = 0, high = 1, low = 2, highlow = 3, highadj = 4,
                         machine_5 = 5,  // MIPS_JMPADDR, ARM_MOV32, RISCV_HIGH20
    reserved_6 = 6,
                         machine_7 = 7,  // THUMB_MOV32, RISCV_LOW12I
    machine_8 = 8,                       // RISCV_LOW12S, LOONGARCH32/64_MARK_LA
    machine_9 = 9,                       // MIPS_JMPADDR16, IA64_IMM64
    dir64 = 10;
}

/// The spec's name for a relocation type, which for types 5, 7, 8 and 9 depends on the machine.
std::string_view reloc_type_name(uint8_t type, uint16_t machine);
/// Bytes a fixup of this type patches (0 for ABSOLUTE and types we cannot size).
unsigned reloc_width(uint8_t type);

struct RelocEntry {
  uint32_t rva = 0;  ///< page RVA + offset
  uint8_t type = 0;
  uint16_t raw = 0;                       ///< the 16-bit slot as in the file
  uint32_t slot_rva = 0;                  ///< where the slot itself lies
  std::optional<uint16_t> highadj_param;  ///< HIGHADJ takes the next slot as the low 16 bits
};

struct RelocBlock {
  uint32_t rva = 0;  ///< where the block header lies
  uint32_t page_rva = 0;
  uint32_t size_of_block = 0;
  uint32_t slot_count = 0;       ///< slots read from file bytes (zero-fill slots are ABSOLUTE padding, left out)
  Bytes slots;                   ///< the slots when they lie in one run of file bytes; views the file
  std::vector<uint16_t> joined;  ///< the slots when they run across a section boundary

  uint16_t slot(uint32_t i) const { return joined.empty() ? load<uint16_t>(slots, i * 2ull) : joined[i]; }
};

/// The walked directory. Entries are decoded on demand from the blocks, so a table with
/// hundreds of thousands of fixups costs no more memory than its block list.
struct Relocations {
  std::vector<RelocBlock> blocks;
  std::vector<Error> warnings;
  uint16_t machine = 0;

  /// Calls fn(const RelocEntry&) for every entry in file order, ABSOLUTE padding included.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& b : blocks) {
      for (uint32_t i = 0; i < b.slot_count; ++i) {
        const uint16_t raw = b.slot(i);
        RelocEntry e;
        e.raw = raw;
        e.type = static_cast<uint8_t>(raw >> 12);
        e.rva = b.page_rva + (raw & 0xfff);
        e.slot_rva = b.rva + 8 + i * 2;
        if (e.type == reloc_type::highadj && i + 1 < b.slot_count) {
          e.highadj_param = b.slot(i + 1);
          fn(e);
          ++i;
          continue;
        }
        fn(e);
      }
    }
  }
  /// Number of entries, ABSOLUTE padding included, HIGHADJ counted once.
  uint64_t entry_count() const;
};

/// Walks the base relocation directory: blocks bounded by the directory size, stopping at a block
/// with SizeOfBlock 0 or a page outside the image, as the Windows loader does.
Result<Relocations> parse_relocations(const Image& image);

}  // namespace pemap::pe
