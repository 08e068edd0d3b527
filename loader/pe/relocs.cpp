// Walking the base relocation directory.
#include "pe/relocs.hpp"

#include "pe/scan_budget.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace pemap::pe {

std::string_view reloc_type_name(uint8_t type, uint16_t m) {
  const bool mips = m == machine::r3000 || m == machine::r4000 || m == machine::r10000 || m == machine::wcemipsv2 ||
                    m == machine::mips16 || m == machine::mipsfpu || m == machine::mipsfpu16;
  const bool arm = m == machine::arm || m == machine::thumb || m == machine::armnt;
  const bool riscv = m == machine::riscv32 || m == machine::riscv64 || m == machine::riscv128;
  const bool loong = m == machine::loongarch32 || m == machine::loongarch64;
  switch (type) {
    case reloc_type::absolute:
      return "ABSOLUTE";
    case reloc_type::high:
      return "HIGH";
    case reloc_type::low:
      return "LOW";
    case reloc_type::highlow:
      return "HIGHLOW";
    case reloc_type::highadj:
      return "HIGHADJ";
    case reloc_type::machine_5:
      return mips ? "MIPS_JMPADDR" : arm ? "ARM_MOV32" : riscv ? "RISCV_HIGH20" : "MACHINE_SPECIFIC_5";
    case reloc_type::reserved_6:
      return "RESERVED";
    case reloc_type::machine_7:
      return arm ? "THUMB_MOV32" : riscv ? "RISCV_LOW12I" : "MACHINE_SPECIFIC_7";
    case reloc_type::machine_8:
      return riscv   ? "RISCV_LOW12S"
             : loong ? (m == machine::loongarch32 ? "LOONGARCH32_MARK_LA" : "LOONGARCH64_MARK_LA")
                     : "MACHINE_SPECIFIC_8";
    case reloc_type::machine_9:
      return mips ? "MIPS_JMPADDR16" : m == machine::ia64 ? "IA64_IMM64" : "MACHINE_SPECIFIC_9";
    case reloc_type::dir64:
      return "DIR64";
    default:
      return "UNKNOWN";
  }
}

unsigned reloc_width(uint8_t type) {
  switch (type) {
    case reloc_type::high:
    case reloc_type::low:
    case reloc_type::highadj:
      return 2;
    case reloc_type::highlow:
    case reloc_type::machine_5:
    case reloc_type::machine_7:
      return 4;  // MOV32/HIGH20 patch a 4-byte instruction (ARM MOV32 patches two)
    case reloc_type::dir64:
      return 8;
    default:
      return 0;
  }
}

uint64_t RelocBlock::entry_count() const {
  uint64_t n = 0;
  for_each([&](const RelocEntry&) { ++n; });
  return n;
}

uint64_t Relocations::entry_count() const {
  uint64_t n = 0;
  for (const auto& b : blocks) n += b.entry_count();
  return n;
}

namespace {

// The slots as the loader reads them: from file bytes, across a section boundary if need be. Slots in
// zero fill read as 0, ABSOLUTE padding, and are left out, so a huge SizeOfBlock over zero fill costs
// nothing.
void read_slots(const Image& image, uint64_t at, uint64_t count, RelocBlock& b, std::vector<Error>& warnings) {
  const uint64_t first = at + sizeof(BaseRelocationBlock);
  if (const Bytes span = image.file_span(first); span.size() / 2 >= count) {
    b.slots = span.first(count * 2);
    b.slot_count = static_cast<uint32_t>(count);
    return;
  }
  uint64_t i = 0;
  while (i < count) {
    const uint64_t pos = first + i * 2;
    const Bytes span = image.file_span(pos);
    if (span.size() >= 2) {
      const uint64_t n = std::min<uint64_t>(count - i, span.size() / 2);
      for (uint64_t k = 0; k < n; ++k) b.joined.push_back(load<uint16_t>(span, k * 2));
      i += n;
    } else if (span.size() == 1) {  // a slot that straddles two sections
      auto v = image.read_rva<uint16_t>(pos, "base relocation entry");
      if (!v) break;
      b.joined.push_back(*v);
      ++i;
    } else {
      break;
    }
  }
  b.slot_count = static_cast<uint32_t>(i);
  if (i == count) return;
  const uint64_t stop = first + i * 2;
  if (auto cut = image.cut_short(at, stop - at + (count - i) * 2, "base relocation block")) {
    warnings.push_back(std::move(*cut));
    return;
  }
  warnings.push_back(make_error(
      Status::success, "base relocation block", Location::rva(at),
      image.region_at(stop) ? fmt::format("{} of its {} entries lie in zero fill (ABSOLUTE padding)", count - i, count)
                            : fmt::format("entries from RVA {:#x} on lie outside the mapped image", stop)));
}

}  // namespace

Result<Relocations> parse_relocations(const Image& image) {
  Relocations out;
  uint64_t budget = entry_budget(image);
  out.machine = image.file_header().Machine;
  const auto used = image.used_directory(kDirBaseReloc);
  if (!used) return out;
  const DataDirectory dir = *used;
  if (auto cut = image.directory_unreadable(kDirBaseReloc, "base relocation directory", sizeof(BaseRelocationBlock)))
    out.warnings.push_back(std::move(*cut));

  const uint64_t end = uint64_t{dir.VirtualAddress} + dir.Size;
  uint64_t at = dir.VirtualAddress;
  while (at + sizeof(BaseRelocationBlock) <= end) {
    if (budget == 0) {
      out.warnings.push_back(make_error(Status::success, "base relocation block", Location::rva(at),
                                        "more blocks than this file can hold; the walk stops here"));
      break;
    }
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
      out.warnings.push_back(
          make_error(Status::invalid_image_format, "base relocation block", Location::rva(at),
                     fmt::format("SizeOfBlock {} is smaller than its 8-byte header", hdr->SizeOfBlock)));
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
    // Sections that share file bytes can repeat a table at many RVAs: the walk stays linear in the file.
    const uint64_t count = std::min<uint64_t>(body / 2, budget);
    read_slots(image, at, count, b, out.warnings);
    budget -= std::min<uint64_t>(budget, b.slot_count + 1);
    if (count < body / 2 && b.slot_count == count) {
      out.warnings.push_back(make_error(Status::success, "base relocation block", Location::rva(at),
                                        "more entries than this file can hold; the walk stops here"));
      out.blocks.push_back(std::move(b));
      break;
    }
    out.blocks.push_back(std::move(b));
    at += sizeof(BaseRelocationBlock) + body;
  }
  return out;
}

}  // namespace pemap::pe
