// Walking the base relocation directory.
#include "pe/relocs.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace pemap::pe {

std::string_view reloc_type_name(uint8_t type, uint16_t m) {
  const bool mips = m == machine::r3000 || m == machine::r4000 || m == machine::r10000 ||
                    m == machine::wcemipsv2 || m == machine::mips16 || m == machine::mipsfpu ||
                    m == machine::mipsfpu16;
  const bool arm = m == machine::arm || m == machine::thumb || m == machine::armnt;
  const bool riscv = m == machine::riscv32 || m == machine::riscv64 || m == machine::riscv128;
  const bool loong = m == machine::loongarch32 || m == machine::loongarch64;
  switch (type) {
    case reloc_type::absolute: return "ABSOLUTE";
    case reloc_type::high: return "HIGH";
    case reloc_type::low: return "LOW";
    case reloc_type::highlow: return "HIGHLOW";
    case reloc_type::highadj: return "HIGHADJ";
    case reloc_type::machine_5:
      return mips ? "MIPS_JMPADDR" : arm ? "ARM_MOV32" : riscv ? "RISCV_HIGH20" : "MACHINE_SPECIFIC_5";
    case reloc_type::reserved_6: return "RESERVED";
    case reloc_type::machine_7: return arm ? "THUMB_MOV32" : riscv ? "RISCV_LOW12I" : "MACHINE_SPECIFIC_7";
    case reloc_type::machine_8:
      return riscv ? "RISCV_LOW12S" : loong ? (m == machine::loongarch32 ? "LOONGARCH32_MARK_LA" : "LOONGARCH64_MARK_LA")
                                            : "MACHINE_SPECIFIC_8";
    case reloc_type::machine_9:
      return mips ? "MIPS_JMPADDR16" : m == machine::ia64 ? "IA64_IMM64" : "MACHINE_SPECIFIC_9";
    case reloc_type::dir64: return "DIR64";
    default: return "UNKNOWN";
  }
}

unsigned reloc_width(uint8_t type) {
  switch (type) {
    case reloc_type::high:
    case reloc_type::low:
    case reloc_type::highadj: return 2;
    case reloc_type::highlow:
    case reloc_type::machine_5:
    case reloc_type::machine_7: return 4;  // MOV32/HIGH20 patch a 4-byte instruction (ARM MOV32 patches two)
    case reloc_type::dir64: return 8;
    default: return 0;
  }
}

uint64_t Relocations::entry_count() const {
  uint64_t n = 0;
  for_each([&](const RelocEntry&) { ++n; });
  return n;
}

Result<Relocations> parse_relocations(const Image& image) {
  Relocations out;
  out.machine = image.file_header().Machine;
  const auto used = image.used_directory(kDirBaseReloc);
  if (!used) return out;
  const DataDirectory dir = *used;

  const uint64_t end = uint64_t{dir.VirtualAddress} + dir.Size;
  uint64_t at = dir.VirtualAddress;
  while (at + sizeof(BaseRelocationBlock) <= end) {
    auto hdr = image.read_rva<BaseRelocationBlock>(at, "base relocation block");
    if (!hdr) {
      if (out.blocks.empty()) return hdr.take_error();
      out.warnings.push_back(hdr.take_error());
      break;
    }
    if (hdr->SizeOfBlock == 0) break;  // the loader's terminator
    if (hdr->VirtualAddress >= image.mapped_size()) {
      out.warnings.push_back(make_error(Status::success, "base relocation block", Location::rva(at),
                                        fmt::format("page RVA {:#x} is outside the image (SizeOfImage {:#x}); "
                                                    "the loader stops here",
                                                    hdr->VirtualAddress, image.mapped_size())));
      break;
    }
    if (hdr->SizeOfBlock < sizeof(BaseRelocationBlock)) {
      out.warnings.push_back(make_error(Status::invalid_image_format, "base relocation block", Location::rva(at),
                                        fmt::format("SizeOfBlock {} is smaller than its 8-byte header",
                                                    hdr->SizeOfBlock)));
      break;
    }
    RelocBlock b;
    b.rva = static_cast<uint32_t>(at);
    b.page_rva = hdr->VirtualAddress;
    b.size_of_block = hdr->SizeOfBlock;
    uint64_t body = (uint64_t{hdr->SizeOfBlock} - sizeof(BaseRelocationBlock));
    if (at + 8 + body > end) {
      out.warnings.push_back(make_error(Status::success, "base relocation block", Location::rva(at),
                                        fmt::format("SizeOfBlock {:#x} runs past the end of the directory; "
                                                    "clipped to it",
                                                    hdr->SizeOfBlock)));
      body = end - at - 8;
    }
    b.slot_count = static_cast<uint32_t>(body / 2);
    if (auto slots = image.contiguous(at + 8, b.slot_count * 2ull)) {
      b.slots = *slots;
    } else if (!image.region_at(at + 8 + (b.slot_count ? b.slot_count * 2ull - 1 : 0))) {
      out.warnings.push_back(make_error(Status::invalid_image_format, "base relocation block", Location::rva(at),
                                        "its entries run outside the mapped image"));
      break;
    } else if (image.contiguous(at + 8, 1)) {
      // Entries begin in file bytes and run into zero fill: keep the file part, the rest are ABSOLUTE.
      const uint32_t have = static_cast<uint32_t>(std::min<uint64_t>(b.slot_count, image.file_span(at + 8).size() / 2));
      b.slots = image.file_span(at + 8).first(have * 2ull);
      out.warnings.push_back(make_error(Status::success, "base relocation block", Location::rva(at),
                                        fmt::format("{} of its {} entries lie in zero fill and read as ABSOLUTE",
                                                    b.slot_count - have, b.slot_count)));
      b.slot_count = have;
    }
    out.blocks.push_back(b);
    at += sizeof(BaseRelocationBlock) + body;
  }
  return out;
}

}  // namespace pemap::pe
