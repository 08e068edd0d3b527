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
  /// Slot `i`'s type: its top 4 bits.
  uint8_t type(uint32_t i) const { return static_cast<uint8_t>(slot(i) >> 12); }
  /// Slot `i`'s offset in the page: its low 12 bits.
  uint16_t offset(uint32_t i) const { return slot(i) & 0xfff; }
  /// The types its slots hold, a bit per type.
  uint16_t types() const {
    uint16_t mask = 0;
    for (uint32_t i = 0; i < slot_count; ++i) mask |= static_cast<uint16_t>(1u << type(i));
    return mask;
  }

  /// Calls fn(const RelocEntry&) for every entry in slot order, ABSOLUTE padding included; HIGHADJ takes the slot
  /// after it as its parameter.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t i = 0; i < slot_count; ++i) {
      RelocEntry e;
      e.raw = slot(i);
      e.type = type(i);
      e.rva = page_rva + offset(i);
      e.slot_rva = rva + 8 + i * 2;
      if (e.type == reloc_type::highadj && i + 1 < slot_count) e.highadj_param = slot(++i);
      fn(e);
    }
  }
  /// Number of entries, ABSOLUTE padding included, HIGHADJ counted once.
  uint64_t entry_count() const;
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
    for (const auto& b : blocks) b.for_each(fn);
  }
  /// Number of entries, ABSOLUTE padding included, HIGHADJ counted once.
  uint64_t entry_count() const;
};

/// Walks the base relocation directory: blocks bounded by the directory size, stopping at a block
/// with SizeOfBlock 0 or a page outside the image, as the Windows loader does.
Result<Relocations> parse_relocations(const Image& image);

}  // namespace pemap::pe
