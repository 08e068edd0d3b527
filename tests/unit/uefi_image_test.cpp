// An EFI image as the UEFI loader builds it (uefi/uefi_image.hpp): laid out by the section table, relocated in
// memory of its own, and refused where the firmware's loader refuses it.
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "pe/image.hpp"
#include "support/pe_builder.hpp"
#include "uefi/uefi_image.hpp"
#include "unit_helpers.hpp"

namespace pemap::uefi {
namespace {

using test::BuiltPe;
using test::PeBuilder;
using unit::bytes_of;
using unit::pattern;
using unit::pattern_at;

constexpr uint32_t kText = 0x1000;
constexpr uint64_t kImageBase = 0x10000000;
constexpr uint64_t kValue = 0x10001234;  // an address inside the image, at ImageBase

uint64_t at(const std::vector<std::byte>& bytes, uint64_t rva) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + rva, 8);
  return v;
}

// A flat EFI application Windows refuses (VirtualAddress != PointerToRawData) with two DIR64 fixups in .text.
BuiltPe efi_app(uint16_t subsystem = pe::subsystem::efi_application, uint16_t characteristics = 0x0022) {
  auto text = pattern(0x100, 5);
  for (const uint32_t off : {0x10u, 0x40u}) std::memcpy(text.data() + off, &kValue, 8);
  PeBuilder b(true);
  b.section_alignment(0x20).file_alignment(0x20).subsystem(subsystem).image_base(kImageBase);
  b.characteristics(characteristics);
  b.add_section({.name = ".text", .data = text, .virtual_address = kText});
  b.add_relocs({{kText, {0xA000 | 0x10, 0xA000 | 0x40, 0x0000}}});
  return b.build();
}

TEST(UefiLoad, RelocatesTheSectionTableLayout) {
  const BuiltPe pe = efi_app();
  auto image = pe::Image::parse(bytes_of(pe));
  ASSERT_TRUE(image.has_value()) << image.error().to_string();
  auto home = load(*image, kImageBase);
  ASSERT_TRUE(home.has_value()) << home.error().to_string();
  EXPECT_EQ(home->bytes.size(), image->mapped_size());
  EXPECT_TRUE(home->fixups.per_type.empty());  // at ImageBase the firmware does not relocate
  ASSERT_EQ(home->pieces.size(), 3u);          // the headers, .text, .reloc
  EXPECT_EQ(home->pieces[1].rva, kText);
  EXPECT_EQ(home->pieces[1].file_offset, pe.section_raw_offsets[0]);
  EXPECT_EQ(home->pieces[1].file_bytes, 0x100u);
  EXPECT_EQ(at(home->bytes, kText + 0x10), kValue);
  EXPECT_EQ(static_cast<uint8_t>(home->bytes[kText]), pattern_at(0, 5));  // from PointerToRawData

  constexpr uint64_t kMoved = 0x7f000000;
  auto moved = load(*image, kMoved);
  ASSERT_TRUE(moved.has_value()) << moved.error().to_string();
  EXPECT_EQ(moved->base, kMoved);
  EXPECT_EQ(at(moved->bytes, kText + 0x10), kValue + (kMoved - kImageBase));
  EXPECT_EQ(at(moved->bytes, kText + 0x40), kValue + (kMoved - kImageBase));
  EXPECT_EQ(moved->fixups.per_type.at(pe::reloc_type::dir64), 2u);
  EXPECT_EQ(moved->fixups.pages_made_private, 1u);  // the one page both fixups are on
  size_t differing = 0;
  for (size_t i = 0; i < moved->bytes.size(); ++i) differing += moved->bytes[i] != home->bytes[i];
  EXPECT_GE(differing, 2u);
  EXPECT_LE(differing, 16u);  // at most the 16 bytes the two fixups cover
}

// The firmware copies by the section table even when Windows would map the image: no 512-byte rounding.
TEST(UefiLoad, LaysOutByTheSectionTableWhateverTheParse) {
  PeBuilder b(true);
  b.subsystem(pe::subsystem::efi_boot_service_driver).image_base(kImageBase);
  b.add_section(
      {.name = ".text", .virtual_size = 0x80, .data = pattern(0x100, 9), .raw_pointer = 0x210, .raw_size = 0x100});
  BuiltPe pe = b.build();
  auto image = pe::Image::parse(bytes_of(pe));
  ASSERT_TRUE(image.has_value()) << image.error().to_string();
  ASSERT_EQ(image->layout(), pe::Layout::memory_manager);
  auto loaded = load(*image, kImageBase);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().to_string();
  EXPECT_EQ(static_cast<uint8_t>(loaded->bytes[0x1000]), pattern_at(0, 9));
  EXPECT_EQ(static_cast<uint8_t>(loaded->bytes[0x107f]), pattern_at(0x7f, 9));
  // Past VirtualSize the firmware copies nothing, though the section table's layout holds the raw data there.
  auto by_table = pe::Image::parse(bytes_of(pe), pe::Layout::section_table);
  ASSERT_TRUE(by_table.has_value());
  EXPECT_EQ(by_table->read_rva<uint8_t>(0x1080, "probe").value(), pattern_at(0x80, 9));
  EXPECT_EQ(static_cast<uint8_t>(loaded->bytes[0x1080]), 0u);
  EXPECT_EQ(static_cast<uint8_t>(loaded->bytes[0x1100]), 0u);  // zero fill, not the file's next bytes
}

TEST(UefiLoad, RefusesASectionPastSizeOfImage) {
  PeBuilder b(true);
  b.section_alignment(0x20).file_alignment(0x20).subsystem(pe::subsystem::efi_application).size_of_image(0x1040);
  b.add_section({.name = ".text", .data = pattern(0x100, 3), .virtual_address = kText});
  const BuiltPe pe = b.build();
  auto image = pe::Image::parse(bytes_of(pe));
  ASSERT_TRUE(image.has_value()) << image.error().to_string();
  auto loaded = lay_out(*image);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message.find("past SizeOfImage"), std::string::npos) << loaded.error().to_string();
}

TEST(UefiLoad, RefusesHighAdjAsTheFirmwareDoes) {
  PeBuilder b(false);
  b.section_alignment(0x20).file_alignment(0x20).subsystem(pe::subsystem::efi_application).image_base(kImageBase);
  b.add_section({.name = ".text", .data = pattern(0x100, 3), .virtual_address = kText});
  b.add_relocs({{kText, {0x4000 | 0x10, 0x0000}}});
  const BuiltPe pe = b.build();
  auto image = pe::Image::parse(bytes_of(pe));
  ASSERT_TRUE(image.has_value()) << image.error().to_string();
  EXPECT_TRUE(load(*image, kImageBase).has_value());  // not relocated: nothing to refuse
  auto moved = load(*image, kImageBase + 0x10000);
  ASSERT_FALSE(moved.has_value());
  EXPECT_NE(moved.error().message.find("HIGHADJ"), std::string::npos) << moved.error().to_string();
}

TEST(UefiLoad, RefusesWhatTheFirmwareRefuses) {
  const BuiltPe windows_app = efi_app(3);
  auto app = pe::Image::parse(bytes_of(windows_app));
  ASSERT_TRUE(app.has_value());
  auto refused = load(*app, kImageBase);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("not an EFI subsystem"), std::string::npos) << refused.error().to_string();

  const BuiltPe pe = efi_app();
  auto image = pe::Image::parse(bytes_of(pe));
  ASSERT_TRUE(image.has_value());
  auto unaligned = load(*image, kImageBase + 0x800);
  ASSERT_FALSE(unaligned.has_value());
  EXPECT_EQ(unaligned.error().status, Status::conflicting_addresses);
  auto wraps = load(*image, 0xfffffffffffff000);
  ASSERT_FALSE(wraps.has_value());
  EXPECT_NE(wraps.error().message.find("top of the address space"), std::string::npos) << wraps.error().to_string();

  const BuiltPe stripped_pe = efi_app(pe::subsystem::efi_application, 0x0023);  // + IMAGE_FILE_RELOCS_STRIPPED
  auto stripped = pe::Image::parse(bytes_of(stripped_pe));
  ASSERT_TRUE(stripped.has_value());
  EXPECT_TRUE(load(*stripped, kImageBase).has_value());
  auto moved = load(*stripped, kImageBase + 0x10000);
  ASSERT_FALSE(moved.has_value());
  EXPECT_NE(moved.error().message.find("stripped"), std::string::npos) << moved.error().to_string();
}

}  // namespace
}  // namespace pemap::uefi
