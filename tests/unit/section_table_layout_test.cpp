// The section table's layout (pe::Layout::section_table): chosen when Windows refuses an image, said in
// layout_note(), and read byte for byte from PointerToRawData; a directory no file byte backs says so.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "pe/image.hpp"
#include "pe/relocs.hpp"
#include "support/pe_builder.hpp"
#include "unit_helpers.hpp"

namespace pemap::pe {
namespace {

using test::BuiltPe;
using test::PeBuilder;
using unit::bytes_of;
using unit::describe;
using unit::find_warning;
using unit::parse;
using unit::pattern;
using unit::pattern_at;

constexpr uint32_t kText = 0x1000;

// The shape of an iPXE EFI application: SectionAlignment and FileAlignment 0x20 (a flat image, which Windows maps
// 1:1), but .text at RVA 0x1000 while its raw data follows the headers, so VirtualAddress != PointerToRawData.
BuiltPe efi_like(uint16_t subsystem = subsystem::efi_application) {
  PeBuilder b(true);
  b.section_alignment(0x20).file_alignment(0x20).subsystem(subsystem);
  b.add_section({.name = ".text", .data = pattern(0x100, 3), .virtual_address = kText});
  b.add_relocs({{kText, {0xA000 | 0x10, 0xA000 | 0x40, 0x0000}}});
  return b.build();
}

TEST(SectionTableLayout, ChosenWhenWindowsRefusesAFlatImage) {
  const BuiltPe pe = efi_like();
  ASSERT_NE(pe.section_raw_offsets[0], kText);
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  ASSERT_TRUE(find_warning(img.warnings(), "section .text", "Windows refuses")) << describe(img.warnings());
  EXPECT_EQ(img.layout(), Layout::section_table);
  ASSERT_TRUE(img.layout_note().has_value());
  EXPECT_NE(img.layout_note()->message.find("Windows refuses to map this image (section .text: a flat image"),
            std::string::npos)
      << img.layout_note()->message;
  EXPECT_NE(img.layout_note()->message.find("as the UEFI loader lays it out"), std::string::npos);
  EXPECT_EQ(img.own_loader(), "UEFI");
  // .text's first byte is at its VirtualAddress, read from PointerToRawData.
  EXPECT_EQ(img.rva_to_offset(kText), pe.section_raw_offsets[0]);
  EXPECT_EQ(img.read_rva<uint8_t>(kText + 5, "probe").value(), pattern_at(5, 3));
  EXPECT_EQ(img.section_at(kText + 0x10)->name, ".text");
  auto relocs = parse_relocations(img);
  ASSERT_TRUE(relocs.has_value()) << relocs.error().to_string();
  EXPECT_EQ(relocs->entry_count(), 3u);
  EXPECT_TRUE(relocs->warnings.empty()) << describe(relocs->warnings);
}

// Asked for Windows' layout, the same file maps 1:1: the relocation directory's RVA is past the end of the file,
// so the table reads as empty, and the reader says why instead of listing 0 entries alone.
TEST(SectionTableLayout, WindowsLayoutSaysWhyTheTableIsEmpty) {
  const BuiltPe pe = efi_like();
  auto r = Image::parse(bytes_of(pe), Layout::memory_manager);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->layout(), Layout::memory_manager);
  EXPECT_FALSE(r->layout_note().has_value());  // asked for: nothing to explain
  auto relocs = parse_relocations(*r);
  ASSERT_TRUE(relocs.has_value()) << relocs.error().to_string();
  EXPECT_EQ(relocs->entry_count(), 0u);
  EXPECT_TRUE(find_warning(relocs->warnings, "base relocation directory", "no file byte backs it"))
      << describe(relocs->warnings);
}

// SectionAlignment 0x20 below FileAlignment 0x200 (Windows refuses it): .text's raw data is padded to 0x200, but
// .data begins 0x20 after .text's VirtualSize. The padding ends where .data begins, as pefile reads it.
TEST(SectionTableLayout, AlignmentPaddingEndsAtTheNextSection) {
  PeBuilder b(true);
  b.section_alignment(0x20).file_alignment(0x200);
  b.add_section({.name = ".text", .virtual_size = 0x10, .data = pattern(0x10, 3), .virtual_address = kText});
  b.add_section({.name = ".data",
                 .virtual_size = 0x40,
                 .data = pattern(0x40, 8),
                 .characteristics = 0xC0000040,
                 .virtual_address = kText + 0x20});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->layout(), Layout::section_table);
  ASSERT_EQ(r->sections()[0].header.SizeOfRawData, 0x200u);
  EXPECT_EQ(r->section_at(kText + 0x20)->name, ".data");
  EXPECT_EQ(r->read_rva<uint8_t>(kText + 0x20, "probe").value(), pattern_at(0, 8));
  EXPECT_EQ(r->rva_to_offset(kText + 0x20), pe.section_raw_offsets[1]);
  EXPECT_EQ(r->read_rva<uint8_t>(kText + 0x1f, "probe").value(), 0u);  // .text's padding, up to .data
}

TEST(SectionTableLayout, NamesTheDotNetLoader) {
  PeBuilder b(true);
  b.section_alignment(0x20).file_alignment(0x20);
  b.add_section({.name = ".text", .data = pattern(0x100, 3), .virtual_address = kText});
  b.set_directory(kDirClr, kText, 0x48);
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->own_loader(), ".NET");
  ASSERT_TRUE(r->layout_note().has_value());
  EXPECT_NE(r->layout_note()->message.find("as the .NET loader lays it out"), std::string::npos);
}

// A flat image whose sections sit at their file offsets is one Windows maps: its layout stays the memory manager's.
TEST(SectionTableLayout, NotChosenWhenWindowsMapsTheImage) {
  PeBuilder b(true);
  b.section_alignment(0x200).file_alignment(0x200).subsystem(subsystem::efi_application);
  b.add_section({.name = ".text", .data = pattern(0x300, 1)});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings().empty()) << describe(r->warnings());
  EXPECT_EQ(r->layout(), Layout::memory_manager);
  EXPECT_FALSE(r->layout_note().has_value());
}

// Byte for byte: PointerToRawData is not rounded down to 512 and SizeOfRawData not up, as Windows does.
TEST(SectionTableLayout, ReadsRawDataUnrounded) {
  PeBuilder b(true);
  b.add_section({.name = ".data",
                 .virtual_size = 0x300,
                 .data = pattern(0x100, 7),
                 .characteristics = 0xC0000040,
                 .raw_pointer = 0x210,
                 .raw_size = 0x100});
  b.overlay(std::vector<std::byte>(0x200, std::byte{0xBB}));
  BuiltPe pe = b.build();
  pe.put32(0x200, 0xCAFEBABE);  // the slack Windows maps before PointerToRawData
  auto windows = parse(pe);
  auto linker = Image::parse(bytes_of(pe), Layout::section_table);
  ASSERT_TRUE(windows.has_value() && linker.has_value());
  EXPECT_EQ(windows->read_rva<uint32_t>(0x1000, "probe").value(), 0xCAFEBABEu);
  EXPECT_EQ(linker->read_rva<uint8_t>(0x1000, "probe").value(), pattern_at(0, 7));
  EXPECT_EQ(linker->rva_to_offset(0x1000), 0x210u);
  // Past SizeOfRawData: the overlay in Windows' layout (512-byte rounding), zero fill in the section table's.
  // Windows maps file offset 0x200 at RVA 0x1000, so the raw data ends at RVA 0x1110 there and 0x1100 here.
  EXPECT_EQ(windows->read_rva<uint8_t>(0x1120, "probe").value(), 0xBBu);
  EXPECT_EQ(linker->read_rva<uint8_t>(0x1120, "probe").value(), 0u);
  EXPECT_FALSE(linker->rva_to_offset(0x1100).has_value());
}

// A used directory in a section's zero fill (past its raw data) reads as zeros: the reader says so.
TEST(SectionTableLayout, DirectoryInZeroFillIsSaid) {
  PeBuilder b(true);
  b.add_section({.name = ".bss", .virtual_size = 0x1000, .characteristics = 0xC0000080});
  b.set_directory(kDirBaseReloc, 0x1100, 0x20);
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  auto relocs = parse_relocations(*r);
  ASSERT_TRUE(relocs.has_value()) << relocs.error().to_string();
  EXPECT_EQ(relocs->entry_count(), 0u);
  const Error* w = find_warning(relocs->warnings, "base relocation directory", "no file byte backs it");
  ASSERT_TRUE(w) << describe(relocs->warnings);
  EXPECT_NE(w->message.find("section .bss's zero fill"), std::string::npos) << w->message;
  // The same in the section table's layout, where .bss spans its VirtualSize unrounded.
  auto by_table = Image::parse(bytes_of(pe), Layout::section_table);
  ASSERT_TRUE(by_table.has_value());
  auto again = parse_relocations(*by_table);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(find_warning(again->warnings, "base relocation directory", "section .bss's zero fill"))
      << describe(again->warnings);
}

// A first record partly backed by the file is read, not called empty (corkami imports_virtdesc.exe starts its
// first import descriptor in the headers' zero fill; its Name and FirstThunk come from the next section).
TEST(SectionTableLayout, PartlyBackedFirstRecordIsNotCalledEmpty) {
  PeBuilder b(true);
  b.add_section({.name = ".bss", .virtual_size = 0x1000, .characteristics = 0xC0000080});
  b.add_section({.name = ".data", .data = pattern(0x200, 2), .characteristics = 0xC0000040});
  b.set_directory(kDirBaseReloc, 0x1ffc, 0x20);  // 4 bytes of .bss's zero fill, then .data's file bytes
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  auto relocs = parse_relocations(*r);
  ASSERT_TRUE(relocs.has_value()) << relocs.error().to_string();
  EXPECT_FALSE(find_warning(relocs->warnings, "base relocation directory", "no file byte backs it"))
      << describe(relocs->warnings);
}

}  // namespace
}  // namespace pemap::pe
