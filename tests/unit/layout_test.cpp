// The Windows image layout (docs/parser.md, "Reading by RVA") and the one RVA resolver: 512-byte raw rounding, zero
// fill, gaps, flat images, the header region, and the read/contiguous/copy helpers built on it.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pe/error.hpp"
#include "pe/image.hpp"
#include "pe/spec.hpp"
#include "support/pe_builder.hpp"
#include "unit_helpers.hpp"

namespace pemap::pe {
namespace {

using test::BuiltPe;
using test::PeBuilder;
using unit::describe;
using unit::find_warning;
using unit::parse;
using unit::pattern;
using unit::pattern_at;

constexpr uint32_t kData = 0xC0000040;  // initialized data, RW

template <class T>
T read_ok(const Image& img, uint64_t rva) {
  auto v = img.read_rva<T>(rva, "probe");
  EXPECT_TRUE(v.has_value()) << "read at RVA " << std::hex << rva << ": " << v.error().to_string();
  return v.has_value() ? *v : T{};
}
uint8_t byte_at(const Image& img, uint64_t rva) { return read_ok<uint8_t>(img, rva); }

class Layout : public testing::TestWithParam<bool> {};

// PointerToRawData 0x210: Windows maps from 0x200, so the section's first byte in the file appears at RVA+0x10.
TEST_P(Layout, RawPointerRoundsDownTo512) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".data", .data = pattern(0x200, 7), .characteristics = kData, .raw_pointer = 0x210});
  BuiltPe pe = b.build();
  ASSERT_EQ(pe.bytes.size(), 0x410u);
  pe.put32(0x200, 0xCAFEBABE);  // the slack between 0x200 and PointerToRawData
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_TRUE(img.warnings().empty()) << describe(img.warnings());
  const Section& s = img.sections()[0];
  EXPECT_EQ(s.header.PointerToRawData, 0x210u);
  EXPECT_EQ(s.file_offset, 0x200u);
  EXPECT_EQ(s.file_size, 0x400u);  // 0x200 + 0x10 slack, rounded up to 512
  EXPECT_EQ(img.rva_to_offset(0x1000), 0x200u);
  EXPECT_EQ(img.rva_to_offset(0x1010), 0x210u);
  EXPECT_EQ(read_ok<uint32_t>(img, 0x1000), 0xCAFEBABEu);
  EXPECT_EQ(byte_at(img, 0x1010), pattern_at(0, 7));
  EXPECT_EQ(byte_at(img, 0x120f), pattern_at(0x1ff, 7));
  EXPECT_EQ(img.rva_to_offset(0x120f), 0x40fu);
  // Inside the rounded raw size but past the end of the file: zero, and no file offset.
  EXPECT_FALSE(img.rva_to_offset(0x1210).has_value());
  EXPECT_EQ(byte_at(img, 0x1210), 0u);
  // The builder's naive resolver follows the spec text, not the memory manager.
  EXPECT_EQ(pe.rva_to_offset(0x1000), 0x210u);
}

// SizeOfRawData 0x10 is rounded up to 512: the overlay bytes after it are mapped, up to 0x200.
TEST_P(Layout, RawSizeRoundsUpTo512) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text",
                 .virtual_size = 0x1000,
                 .data = std::vector<std::byte>(0x10, std::byte{0xAA}),
                 .raw_size = 0x10});
  b.overlay(std::vector<std::byte>(0x300, std::byte{0xBB}));
  const BuiltPe pe = b.build();
  ASSERT_EQ(pe.overlay_offset, 0x210u);
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_TRUE(img.warnings().empty()) << describe(img.warnings());
  EXPECT_EQ(img.sections()[0].header.SizeOfRawData, 0x10u);
  EXPECT_EQ(img.sections()[0].file_size, 0x200u);
  EXPECT_EQ(byte_at(img, 0x100f), 0xAAu);
  EXPECT_EQ(byte_at(img, 0x1010), 0xBBu);  // overlay byte, mapped as Windows does
  EXPECT_EQ(byte_at(img, 0x11ff), 0xBBu);
  EXPECT_EQ(byte_at(img, 0x1200), 0u);  // the file still holds 0xBB at 0x400, but it is not mapped
  EXPECT_EQ(img.rva_to_offset(0x1010), 0x210u);
  EXPECT_FALSE(img.rva_to_offset(0x1200).has_value());
  EXPECT_EQ(img.overlay_offset(), 0x210u);
  EXPECT_EQ(img.offset_to_rva(0x210), 0x1010u);
  EXPECT_FALSE(img.offset_to_rva(0x400).has_value());
}

// SizeOfRawData > VirtualSize: the file bytes fill the rest of the last page, and stop at it.
TEST_P(Layout, RawSizeLargerThanVirtualSize) {
  {
    PeBuilder b(GetParam());
    b.add_section({.name = ".text", .virtual_size = 0x10, .data = pattern(0x800)});
    const BuiltPe pe = b.build();
    auto r = parse(pe);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    const Section& s = r->sections()[0];
    EXPECT_EQ(s.memory_size, 0x1000u);
    EXPECT_EQ(s.file_size, 0x800u);
    EXPECT_EQ(byte_at(*r, 0x1010), pattern_at(0x10));  // past VirtualSize, still file bytes
    EXPECT_EQ(byte_at(*r, 0x17ff), pattern_at(0x7ff));
    EXPECT_EQ(byte_at(*r, 0x1800), 0u);
  }
  {
    PeBuilder b(GetParam());
    b.add_section({.name = ".text", .virtual_size = 0x10, .data = pattern(0x1400)});
    b.add_section({.name = ".data", .data = pattern(0x200, 9), .characteristics = kData});
    const BuiltPe pe = b.build();
    ASSERT_EQ(pe.section_rvas[1], 0x2000u);
    auto r = parse(pe);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->warnings().empty()) << describe(r->warnings());
    EXPECT_EQ(r->sections()[0].file_size, 0x1000u);  // clipped to the page-rounded VirtualSize
    EXPECT_EQ(byte_at(*r, 0x1fff), pattern_at(0xfff));
    EXPECT_EQ(byte_at(*r, 0x2000), pattern_at(0, 9));  // .data's own bytes, not .text's extra raw data
    EXPECT_EQ(r->section_at(0x1fff)->name, ".text");
    EXPECT_EQ(r->section_at(0x2000)->name, ".data");
  }
}

TEST_P(Layout, VirtualSizeZeroUsesRawSize) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x1200)});
  BuiltPe pe = b.build();
  pe.put32(pe.section_header_offset(0) + 8, 0);  // VirtualSize
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Section& s = r->sections()[0];
  EXPECT_EQ(s.header.VirtualSize, 0u);
  EXPECT_EQ(s.memory_size, 0x2000u);
  EXPECT_EQ(s.file_size, 0x1200u);
  EXPECT_EQ(byte_at(*r, 0x21ff), pattern_at(0x11ff));
  EXPECT_EQ(byte_at(*r, 0x2200), 0u);
  EXPECT_EQ(r->section_at(0x2fff), &s);
  EXPECT_EQ(r->section_at(0x3000), nullptr);
}

TEST_P(Layout, ZeroFilledTailReadsAsZero) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .virtual_size = 0x3000, .data = pattern(0x200)});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_EQ(img.mapped_size(), 0x4000u);
  EXPECT_EQ(read_ok<uint64_t>(img, 0x1200), 0u);
  EXPECT_EQ(read_ok<uint32_t>(img, 0x3ffc), 0u);
  // A value straddling the end of the file bytes: two file bytes, then two zeros.
  EXPECT_EQ(read_ok<uint32_t>(img, 0x11fe), uint32_t{pattern_at(0x1fe)} | uint32_t{pattern_at(0x1ff)} << 8);
  EXPECT_EQ(img.rva_to_offset(0x11ff), 0x3ffu);
  EXPECT_FALSE(img.rva_to_offset(0x1200).has_value());
  EXPECT_EQ(img.section_at(0x3fff), &img.sections()[0]);
  EXPECT_EQ(img.section_at(0x4000), nullptr);
  auto past = img.read_rva<uint32_t>(0x4000, "past the image");
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().where.value, 0x4000u);
}

// PointerToRawData 0 or SizeOfRawData 0: the section is zero-filled, even where the file has bytes.
TEST_P(Layout, NoRawDataMeansZeroFill) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x200)});
  b.add_section({.name = ".bss", .virtual_size = 0x800, .characteristics = 0xC0000080});
  BuiltPe pe = b.build();
  pe.put32(pe.section_header_offset(0) + 20, 0);  // .text PointerToRawData = 0, SizeOfRawData stays 0x200
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  const Section& text = img.sections()[0];
  const Section& bss = img.sections()[1];
  EXPECT_EQ(text.file_size, 0u);
  EXPECT_EQ(read_ok<uint16_t>(img, 0x1000), 0u);  // not the "MZ" at file offset 0
  EXPECT_FALSE(img.rva_to_offset(0x1000).has_value());
  EXPECT_EQ(bss.header.SizeOfRawData, 0u);
  EXPECT_EQ(bss.header.PointerToRawData, 0u);
  EXPECT_EQ(bss.rva(), 0x2000u);
  EXPECT_EQ(bss.memory_size, 0x1000u);
  EXPECT_EQ(bss.file_size, 0u);
  EXPECT_EQ(read_ok<uint64_t>(img, 0x2000), 0u);
  EXPECT_EQ(read_ok<uint64_t>(img, 0x2ff8), 0u);
  EXPECT_FALSE(img.rva_to_offset(0x2000).has_value());
}

TEST_P(Layout, GapBetweenSectionsIsNotMapped) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".a", .data = pattern(0x100, 1), .virtual_address = 0x1000});
  b.add_section({.name = ".b", .data = pattern(0x100, 2), .characteristics = kData, .virtual_address = 0x3000});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_EQ(img.mapped_size(), 0x4000u);
  EXPECT_EQ(img.region_at(0x2000), nullptr);
  EXPECT_EQ(img.section_at(0x2000), nullptr);
  EXPECT_FALSE(img.rva_to_offset(0x2800).has_value());
  EXPECT_FALSE(img.contiguous(0x2000, 1).has_value());

  auto gap = img.read_rva<uint32_t>(0x2000, "gap probe");
  ASSERT_FALSE(gap.has_value());
  EXPECT_EQ(gap.error().status, Status::invalid_image_format);
  EXPECT_EQ(gap.error().structure, "gap probe");
  EXPECT_EQ(gap.error().where.kind, Location::Kind::rva);
  EXPECT_EQ(gap.error().where.value, 0x2000u);
  EXPECT_EQ(gap.error().message, "4 bytes at this RVA are not all inside the mapped image");
  EXPECT_EQ(gap.error().to_string(),
            "gap probe at RVA 0x2000: 4 bytes at this RVA are not all inside the mapped image "
            "(STATUS_INVALID_IMAGE_FORMAT)");

  // Straddling from zero fill into the gap fails too, reported at the start of the value.
  auto straddle = img.read_rva<uint32_t>(0x1ffe, "straddle");
  ASSERT_FALSE(straddle.has_value());
  EXPECT_EQ(straddle.error().where.value, 0x1ffeu);

  auto str = img.read_string(0x2000, "gap string");
  ASSERT_FALSE(str.has_value());
  EXPECT_EQ(str.error().message, "string RVA is outside the mapped image");
  EXPECT_EQ(str.error().where.value, 0x2000u);

  EXPECT_EQ(byte_at(img, 0x3000), pattern_at(0, 2));
  EXPECT_FALSE(img.read_rva<uint8_t>(0xffffffffffffull, "far").has_value());
}

// SectionAlignment == FileAlignment == 0x200: the file is mapped 1:1, file offset == RVA.
TEST_P(Layout, FlatImageMapsFileOneToOne) {
  PeBuilder b(GetParam());
  b.section_alignment(0x200).file_alignment(0x200);
  b.add_section({.name = ".text", .data = pattern(0x300, 1)});
  b.add_section({.name = ".data", .data = pattern(0x200, 9), .characteristics = kData});
  const BuiltPe pe = b.build();
  ASSERT_EQ(pe.section_rvas[0], pe.section_raw_offsets[0]);
  ASSERT_EQ(pe.section_rvas[1], 0x600u);
  ASSERT_EQ(pe.bytes.size(), 0x800u);
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_TRUE(img.warnings().empty()) << describe(img.warnings());
  EXPECT_TRUE(img.is_flat());
  EXPECT_EQ(img.mapped_size(), 0x1000u);  // SizeOfImage 0x800 rounded up to a page
  ASSERT_EQ(img.regions().size(), 1u);
  EXPECT_EQ(img.regions()[0].rva, 0u);
  EXPECT_EQ(img.regions()[0].size, 0x1000u);
  EXPECT_EQ(img.regions()[0].file_offset, 0u);
  EXPECT_EQ(img.regions()[0].file_size, 0x800u);
  EXPECT_EQ(img.regions()[0].section, -1);
  for (uint64_t off = 0; off < pe.bytes.size(); off += 0x20) {
    EXPECT_EQ(img.rva_to_offset(off), off);
    EXPECT_EQ(img.offset_to_rva(off), off);
  }
  EXPECT_EQ(byte_at(img, 0x200), pattern_at(0, 1));
  EXPECT_EQ(byte_at(img, 0x600), pattern_at(0, 9));
  EXPECT_EQ(img.section_at(0x100), nullptr);  // headers
  EXPECT_EQ(img.section_at(0x200)->name, ".text");
  EXPECT_EQ(img.section_at(0x4ff)->name, ".text");
  EXPECT_EQ(img.section_at(0x600)->name, ".data");
  EXPECT_EQ(byte_at(img, 0x900), 0u);  // mapped, past the end of the file
  EXPECT_FALSE(img.rva_to_offset(0x900).has_value());
  EXPECT_FALSE(img.read_rva<uint8_t>(0x1000, "probe").has_value());
}

TEST_P(Layout, HeadersMapAtRvaZero) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x400)});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_EQ(img.header_size(), 0x200u);
  const Region& h = img.regions()[0];
  EXPECT_EQ(h.rva, 0u);
  EXPECT_EQ(h.size, 0x1000u);
  EXPECT_EQ(h.file_offset, 0u);
  EXPECT_EQ(h.file_size, 0x200u);
  EXPECT_EQ(h.section, -1);
  EXPECT_EQ(img.region_at(0), &h);
  EXPECT_EQ(img.section_at(0), nullptr);
  EXPECT_EQ(read_ok<uint16_t>(img, 0), kMzMagic);
  EXPECT_EQ(read_ok<uint32_t>(img, pe.nt_offset), kPeSignature);
  EXPECT_EQ(img.rva_to_offset(0x1ff), 0x1ffu);
  // Past SizeOfHeaders the header page is zero, though the file holds .text there.
  EXPECT_EQ(read_ok<uint32_t>(img, 0x200), 0u);
  EXPECT_FALSE(img.rva_to_offset(0x200).has_value());
  EXPECT_EQ(img.regions()[1].rva, 0x1000u);
  EXPECT_EQ(img.regions()[1].section, 0);
}

TEST_P(Layout, ReadUintAndPointerWidths) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = test::to_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9})});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r->read_uint(0x1000, 1, "u"), 0x01u);
  EXPECT_EQ(*r->read_uint(0x1000, 3, "u"), 0x030201u);
  EXPECT_EQ(*r->read_uint(0x1001, 8, "u"), 0x0908070605040302ull);
  EXPECT_EQ(*r->read_pointer(0x1000, "p"), GetParam() ? 0x0807060504030201ull : 0x04030201ull);
  EXPECT_EQ(*r->read_uint(0x1006, 4, "u"), 0x00090807u);  // runs into the zero padding
}

// Windows copies section bytes per page from the file: reads that cross from a section into the next one see
// both, and offsets map back to the same RVAs.
TEST_P(Layout, OffsetToRvaRoundTrip) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x200, 1)});
  b.add_section({.name = ".data", .data = pattern(0x200, 2), .characteristics = kData, .raw_pointer = 0x410});
  b.overlay(pattern(0x200, 3));
  const BuiltPe pe = b.build();
  ASSERT_EQ(pe.overlay_offset, 0x610u);
  ASSERT_EQ(pe.bytes.size(), 0x810u);
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_TRUE(img.warnings().empty()) << describe(img.warnings());

  EXPECT_EQ(img.offset_to_rva(0x40), 0x40u);
  EXPECT_EQ(img.offset_to_rva(0x1ff), 0x1ffu);
  EXPECT_EQ(img.offset_to_rva(0x200), 0x1000u);
  EXPECT_EQ(img.offset_to_rva(0x3ff), 0x11ffu);
  EXPECT_EQ(img.offset_to_rva(0x400), 0x2000u);  // .data maps from 0x400, its PointerToRawData rounded down
  EXPECT_EQ(img.offset_to_rva(0x410), 0x2010u);
  EXPECT_EQ(img.offset_to_rva(0x610), 0x2210u);  // overlay bytes inside the 512-rounded raw size are mapped
  EXPECT_EQ(img.offset_to_rva(0x7ff), 0x23ffu);
  EXPECT_FALSE(img.offset_to_rva(0x800).has_value());
  EXPECT_EQ(img.overlay_offset(), 0x610u);

  uint64_t mapped = 0;
  for (uint64_t off = 0; off < pe.bytes.size(); ++off) {
    const auto rva = img.offset_to_rva(off);
    if (!rva) continue;
    ++mapped;
    ASSERT_EQ(img.rva_to_offset(*rva), off) << "offset " << off;
    ASSERT_EQ(byte_at(img, *rva), std::to_integer<uint8_t>(pe.bytes[off])) << "offset " << off;
  }
  EXPECT_EQ(mapped, 0x800u);
  for (const Region& reg : img.regions()) {
    for (uint64_t rva = reg.rva; rva < reg.rva + reg.size; rva += 0x10) {
      if (const auto off = img.rva_to_offset(rva)) {
        ASSERT_EQ(img.offset_to_rva(*off), rva) << "rva " << rva;
      }
    }
  }
}

// Regression (found while writing these tests, fixed in the parser): offset_to_rva() maps file offsets past the end of
// the file. A section's mapped file range is rounded up to 512 bytes and may run past EOF (those bytes read as zero);
// offset_to_rva() returns an RVA for such an offset although no file byte is there, and rva_to_offset() of that RVA
// says nullopt: the round trip breaks.
TEST_P(Layout, OffsetToRvaPastEndOfFile) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x50), .raw_size = 0x50});
  const BuiltPe pe = b.build();
  ASSERT_EQ(pe.bytes.size(), 0x250u);
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->offset_to_rva(0x24f), 0x104fu);
  EXPECT_FALSE(r->rva_to_offset(0x1100).has_value());
  const auto rva = r->offset_to_rva(0x300);
  EXPECT_FALSE(rva.has_value());
}

TEST_P(Layout, ReadStringStopsAtNulOrZeroFill) {
  std::vector<std::byte> data(0x200, std::byte{0});
  auto put = [&](size_t at, std::string_view s) { std::memcpy(data.data() + at, s.data(), s.size()); };
  put(0x00, "hello");
  put(0x10, "0123456789abcdefghij");
  put(0x1f0, std::string(16, 'Z'));  // no NUL before the end of the raw data
  PeBuilder b(GetParam());
  b.add_section({.name = ".rdata", .virtual_size = 0x1000, .data = data, .characteristics = 0x40000040});
  b.add_section({.name = ".data", .data = pattern(0x200, 5), .characteristics = kData});  // non-zero file bytes next
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;

  auto hello = img.read_string(0x1000, "s");
  ASSERT_TRUE(hello.has_value()) << hello.error().to_string();
  EXPECT_EQ(*hello, "hello");
  EXPECT_EQ(reinterpret_cast<const std::byte*>(hello->data()), pe.bytes.data() + 0x200);  // views the file
  EXPECT_EQ(*img.read_string(0x1005, "s"), "");
  EXPECT_EQ(*img.read_string(0x1010, "s", 20), "0123456789abcdefghij");  // exactly max bytes
  auto too_long = img.read_string(0x1010, "long name", 10);
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().structure, "long name");
  EXPECT_EQ(too_long.error().where.value, 0x1010u);
  EXPECT_EQ(too_long.error().message, "string is not NUL-terminated within 10 bytes");
  // The file continues with .data's bytes at 0x400, but the mapped section turns to zeros at 0x1200.
  EXPECT_EQ(*img.read_string(0x11f0, "s"), std::string(16, 'Z'));
  EXPECT_EQ(*img.read_string(0x1300, "s"), "");  // zero fill
}

TEST_P(Layout, ReadStringEndingAtEndOfFile) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".rdata", .virtual_size = 0x100, .data = test::to_bytes("hello"), .raw_size = 5});
  const BuiltPe pe = b.build();
  ASSERT_EQ(pe.bytes.size(), 0x205u);  // no NUL in the file after "hello"
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  auto s = r->read_string(0x1000, "s");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(*s, "hello");
}

// Regression (found while writing these tests, fixed in the parser): read_string() stops at a region boundary. A string
// that starts at the end of one section and ends in the next, adjacent one (contiguous in memory and here also in the
// file) is what the loader reads as one string; read_string() fails with "string is not NUL-terminated within 2 bytes"
// although the NUL is 2 bytes further.
TEST_P(Layout, ReadStringAcrossAdjacentSections) {
  std::vector<std::byte> a(0x1000, std::byte{0});
  a[0xffe] = std::byte{'a'};
  a[0xfff] = std::byte{'b'};
  PeBuilder b(GetParam());
  b.add_section({.name = ".a", .data = a, .characteristics = 0x40000040});
  b.add_section({.name = ".b", .data = test::to_bytes({'c', 'd', 0}), .characteristics = 0x40000040});
  const BuiltPe pe = b.build();
  ASSERT_EQ(pe.section_rvas[1], 0x2000u);
  ASSERT_EQ(pe.section_raw_offsets[1], pe.section_raw_offsets[0] + 0x1000);
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  auto copy = r->copy_range(0x1ffe, 5, "probe");
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(copy->data()), 4), "abcd");  // what the loader sees
  auto s = r->read_string(0x1ffe, "import name");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(*s, "abcd");
}

TEST_P(Layout, ContiguousRefusesZeroFillAndRegionBoundaries) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .virtual_size = 0x1000, .data = pattern(0x200)});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  auto four = img.contiguous(0x11fc, 4);
  ASSERT_TRUE(four.has_value());
  EXPECT_EQ(four->size(), 4u);
  EXPECT_EQ(four->data(), pe.bytes.data() + 0x3fc);  // a view of the file, not a copy
  auto whole = img.contiguous(0x1000, 0x200);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->data(), pe.bytes.data() + 0x200);
  EXPECT_FALSE(img.contiguous(0x11fc, 8).has_value());  // crosses into zero fill
  EXPECT_FALSE(img.contiguous(0x1200, 1).has_value());  // zero fill
  EXPECT_FALSE(img.contiguous(0x1ff, 2).has_value());   // past SizeOfHeaders
  EXPECT_FALSE(img.contiguous(0xfff, 2).has_value());   // header page into .text
  EXPECT_FALSE(img.contiguous(0x1000, ~0ull).has_value());
  auto empty = img.contiguous(0x1000, 0);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST_P(Layout, CopyRangeIncludesZeroFillAndGaps) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".a", .data = pattern(0x100, 1), .virtual_address = 0x1000});
  b.add_section({.name = ".b", .data = pattern(0x200, 2), .characteristics = kData, .virtual_address = 0x3000});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  ASSERT_EQ(img.mapped_size(), 0x4000u);

  auto c = img.copy_range(0x10f0, 0x2020, "dump");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  ASSERT_EQ(c->size(), 0x2020u);
  for (size_t i = 0; i < c->size(); ++i) {
    const uint64_t rva = 0x10f0 + i;
    uint8_t want = 0;
    // .a's raw size is 0x200 (0x100 of data, then the builder's zero padding).
    if (rva < 0x1100)
      want = pattern_at(rva - 0x1000, 1);
    else if (rva >= 0x3000)
      want = pattern_at(rva - 0x3000, 2);
    ASSERT_EQ(std::to_integer<uint8_t>((*c)[i]), want) << "rva 0x" << std::hex << rva;
  }

  auto fast = img.copy_range(0x3000, 0x10, "dump");
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(std::to_integer<uint8_t>((*fast)[0xf]), pattern_at(0xf, 2));

  auto last = img.copy_range(0x3ffc, 4, "dump");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->size(), 4u);

  auto past = img.copy_range(0x3ffc, 8, "dump");
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().structure, "dump");
  EXPECT_EQ(past.error().where.value, 0x3ffcu);
  EXPECT_EQ(past.error().message, "0x8 bytes from here run past SizeOfImage 0x4000");
  EXPECT_FALSE(img.copy_range(0, 0x4001, "dump").has_value());
  EXPECT_FALSE(img.copy_range(~0ull - 1, 4, "dump").has_value());  // no wrap-around
}

TEST_P(Layout, OverlappingSectionFirstInMemoryKeepsTheRange) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".a", .virtual_size = 0x2000, .data = pattern(0x200, 1), .virtual_address = 0x1000});
  b.add_section({.name = ".b",
                 .virtual_size = 0x2000,
                 .data = pattern(0x200, 2),
                 .characteristics = kData,
                 .virtual_address = 0x2000});
  const BuiltPe pe = b.build();
  auto r = Image::parse(unit::bytes_of(pe), pe::Layout::memory_manager);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  const Error* w = find_warning(img.warnings(), "section .b", "is below the end of section .a");
  ASSERT_NE(w, nullptr) << describe(img.warnings());
  EXPECT_EQ(w->where.kind, Location::Kind::file_offset);
  EXPECT_EQ(w->where.value, pe.section_header_offset(1));
  EXPECT_EQ(img.section_at(0x2000)->name, ".a");
  EXPECT_EQ(byte_at(img, 0x2000), 0u);  // .a's zero fill, not .b's first byte
  EXPECT_EQ(img.section_at(0x3000)->name, ".b");
  EXPECT_EQ(img.regions().size(), 3u);
  EXPECT_EQ(img.regions()[2].rva, 0x3000u);
  EXPECT_EQ(img.regions()[2].size, 0x1000u);
  EXPECT_EQ(img.regions()[2].file_size, 0u);
  // Windows refuses the image; by default its tables are read by the section table, where .a ends at .b.
  auto by_table = parse(pe);
  ASSERT_TRUE(by_table.has_value());
  EXPECT_EQ(by_table->layout(), pe::Layout::section_table);
  EXPECT_EQ(by_table->section_at(0x2000)->name, ".b");
  EXPECT_EQ(byte_at(*by_table, 0x2000), pattern_at(0, 2));
}

// Regression (found while writing these tests, fixed in the parser): a section mapped over the header page is not
// reported. The parser warns about a section overlapping another section ("Windows refuses such images"), but a section
// at RVA 0 silently vanishes under the headers; ReactOS PeFmtCreateSection and Windows reject a section below the end
// of the headers (STATUS_INVALID_IMAGE_FORMAT), so there should at least be the same warning.
TEST_P(Layout, SectionOverlappingHeadersIsReported) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".hdr", .data = pattern(0x200, 1), .virtual_address = 0});
  const BuiltPe pe = b.build();
  auto r = Image::parse(unit::bytes_of(pe), pe::Layout::memory_manager);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(read_ok<uint16_t>(*r, 0), kMzMagic);  // in Windows' layout the headers win
  EXPECT_EQ(r->section_at(0), nullptr);
  const Error* w = find_warning(r->warnings(), "section .hdr", "overlaps the headers");
  ASSERT_NE(w, nullptr) << describe(r->warnings());
  EXPECT_EQ(w->where.value, pe.section_header_offset(0));
  // Windows refuses the image, so its tables are read as the section table places them: there the section wins.
  auto by_table = parse(pe);
  ASSERT_TRUE(by_table.has_value());
  EXPECT_EQ(by_table->layout(), pe::Layout::section_table);
  EXPECT_EQ(by_table->section_at(0)->name, ".hdr");
  EXPECT_EQ(byte_at(*by_table, 0), pattern_at(0, 1));
}

// Regression (found while writing these tests, fixed in the parser): SizeOfHeaders past the first section is not
// reported either. With SizeOfHeaders 0x1400 the header region covers [0, 0x2000) and silently replaces the first page
// of .text (RVA 0x1000): read_rva(0x1000) returns the file byte at offset 0x1000 instead of .text's first byte (file
// offset 0x200). Windows (and ReactOS, which checks each section against the end of the header segment) refuses such an
// image.
TEST_P(Layout, SizeOfHeadersPastFirstSectionIsReported) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x1400)});
  BuiltPe pe = b.build();
  pe.put32(pe.optional_offset + 60, 0x1400);  // SizeOfHeaders
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->header_size(), 0x1400u);
  const Error* w = find_warning(r->warnings(), "", "overlap");
  EXPECT_NE(w, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Formats, Layout, testing::Bool(), unit::format_param_name);

// SizeOfImage is rounded up to max(SectionAlignment, page); va_to_rva is bounded by it.
struct MappedSizeCase {
  uint32_t section_alignment, size_of_image;
  uint64_t mapped;
};

class MappedSize : public testing::TestWithParam<MappedSizeCase> {};

TEST_P(MappedSize, RoundsSizeOfImage) {
  const auto c = GetParam();
  PeBuilder b(false);
  b.section_alignment(c.section_alignment).file_alignment(0x200).size_of_image(c.size_of_image);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->optional_header().size_of_image, c.size_of_image);
  EXPECT_EQ(r->mapped_size(), c.mapped);
  const uint64_t base = r->image_base();
  EXPECT_EQ(r->va_to_rva(base), 0u);
  EXPECT_EQ(r->va_to_rva(base + c.mapped - 1), c.mapped - 1);
  EXPECT_FALSE(r->va_to_rva(base + c.mapped).has_value());
  EXPECT_FALSE(r->va_to_rva(base - 1).has_value());
}

INSTANTIATE_TEST_SUITE_P(Layout, MappedSize,
                         testing::Values(MappedSizeCase{0x1000, 0x1234, 0x2000}, MappedSizeCase{0x1000, 0x2000, 0x2000},
                                         MappedSizeCase{0x2000, 0x3000, 0x4000},
                                         MappedSizeCase{0x200, 0xa00, 0x1000},  // flat: a page at least
                                         MappedSizeCase{0x10000, 0x11000, 0x20000},
                                         MappedSizeCase{0x1000, 0xFFFFF001u, 0x100000000ull}));  // no 32-bit wrap

}  // namespace
}  // namespace pemap::pe
