// Hostile layouts a review found to be super-linear or silently wrong, one test each: sections sharing
// file bytes, zero fill behind a header, tables crossing sections, strings with no NUL.
#include <gtest/gtest.h>

#include <string>

#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/relocs.hpp"
#include "pe/scan_budget.hpp"
#include "support/pe_builder.hpp"
#include "unit_helpers.hpp"

namespace pemap::pe {
namespace {

using test::BuiltPe;
using test::PeBuilder;
using unit::describe;
using unit::find_warning;
using unit::parse;
using unit::put_le;
using unit::put_str;

constexpr uint32_t kData = 0x40000040, kCode = 0x60000020;

// A block header in the last raw bytes of a section whose body is 3.5 GB of zero fill: the slots
// there are ABSOLUTE padding, so none is listed (before: 1.9 billion entries from 1.5 KB).
TEST(Hostile, RelocationBlockOverZeroFillListsNothing) {
  std::vector<std::byte> sec(0x200, std::byte{0});
  put_le(sec, 0x1f8, 0x1000, 4);
  put_le(sec, 0x1fc, 0xE0000000u, 4);
  PeBuilder b(false);
  b.add_section({.name = ".reloc", .virtual_size = 0xF0000000u, .data = sec, .characteristics = kData});
  BuiltPe pe = b.build();
  pe.put32(pe.data_dir_entry_offset(kDirBaseReloc), pe.section_rvas[0] + 0x1f8);
  pe.put32(pe.data_dir_entry_offset(kDirBaseReloc) + 4, 0xE0000000u);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->blocks.size(), 1u);
  EXPECT_EQ(r->blocks[0].slot_count, 0u);
  EXPECT_EQ(r->entry_count(), 0u);
  EXPECT_NE(find_warning(r->warnings, "base relocation block", "lie in zero fill (ABSOLUTE padding)"), nullptr)
      << describe(r->warnings);
}

// 1000 sections map the same 64 KiB of file bytes: an export address table claiming 2^32 slots must not
// walk all 64 MB of repeats (before: 16 million exports from a 100 KB file).
TEST(Hostile, SectionsSharingFileBytesKeepTheExportWalkLinear) {
  constexpr uint32_t kShared = 0x10000;  // past the 1000 section headers
  PeBuilder b(false);
  b.add_exports("x.dll", 1, {{.name = "f", .rva = 0x1000}});
  b.add_section({.name = ".a",
                 .virtual_size = 0x10000,
                 .data = std::vector<std::byte>(0x10000, std::byte{0x41}),
                 .characteristics = kData,
                 .virtual_address = 0x10000,
                 .raw_pointer = kShared});
  for (uint32_t i = 1; i < 1000; ++i)
    b.add_section({.name = ".s",
                   .virtual_size = 0x10000,
                   .characteristics = kData,
                   .virtual_address = 0x10000 + i * 0x10000,
                   .raw_pointer = kShared,
                   .raw_size = 0x10000});
  BuiltPe pe = b.build();
  ASSERT_EQ(pe.section_raw_offsets[999], kShared);
  const uint32_t dir = *pe.rva_to_offset(pe.export_rva);
  pe.put32(dir + 20, 0xFFFFFFFFu);  // NumberOfFunctions
  pe.put32(dir + 28, 0x10000);      // AddressOfFunctions: the shared bytes
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto ex = parse_exports(*img);
  ASSERT_TRUE(ex.has_value()) << ex.error().to_string();
  EXPECT_LE(ex->entries.size(), img->file().size() / 2 + 65536);
  EXPECT_NE(find_warning(ex->warnings, "export address table", "more than this file can hold"), nullptr)
      << describe(ex->warnings);
}

// The same 4 KiB of 8-byte relocation blocks mapped by 1000 sections: the walk stops at the budget.
TEST(Hostile, SectionsSharingFileBytesKeepTheRelocationWalkLinear) {
  std::vector<std::byte> blocks(0x1000);
  for (uint32_t i = 0; i < 0x1000; i += 8) {
    put_le(blocks, i, 0x1000, 4);
    put_le(blocks, i + 4, 8, 4);
  }
  PeBuilder b(false);
  b.add_section({.name = ".r",
                 .virtual_size = 0x1000,
                 .data = blocks,
                 .characteristics = kData,
                 .virtual_address = 0x10000,
                 .raw_pointer = 0x10000});
  for (uint32_t i = 1; i < 1000; ++i)
    b.add_section({.name = ".r",
                   .virtual_size = 0x1000,
                   .characteristics = kData,
                   .virtual_address = 0x10000 + i * 0x1000,
                   .raw_pointer = 0x10000,
                   .raw_size = 0x1000});
  b.set_directory(kDirBaseReloc, 0x10000, 1000 * 0x1000);
  BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_LE(r->blocks.size(), img->file().size() / 2 + 65536);
  EXPECT_LT(r->blocks.size(), 1000u * 512u);
  EXPECT_NE(find_warning(r->warnings, "base relocation block", "than this file can hold"), nullptr)
      << describe(r->warnings);
}

// 20,000 sections named "/4" into one 4 MiB string table with no NUL: each name is looked for within
// 1 KiB (before: every name scanned to the end of the file), and one warning covers them all.
TEST(Hostile, ManyLongNamesIntoAnUnterminatedStringTable) {
  PeBuilder b(false);
  for (int i = 0; i < 20000; ++i) b.add_section({.name = "/4", .virtual_size = 0x1000, .characteristics = kData});
  b.overlay(std::vector<std::byte>(4u << 20, std::byte{'A'}));
  BuiltPe pe = b.build();
  ASSERT_NE(pe.overlay_offset, 0u);
  pe.put32(pe.coff_offset + 8, pe.overlay_offset);  // PointerToSymbolTable: the string table is the overlay
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  EXPECT_EQ(img->sections().back().name, "/4");
  const Error* w = find_warning(img->warnings(), "section header #0", "(nor do 19999 more)");
  ASSERT_NE(w, nullptr) << describe(img->warnings());
}

// A CodeView record of 10,000 bytes with no NUL: the PDB path is cut at 4 KiB with a warning.
TEST(Hostile, PdbPathWithoutNulIsCut) {
  PeBuilder b(true);
  b.add_debug_codeview(std::string(10000, 'A'), {}, 1);
  BuiltPe pe = b.build();
  const uint32_t entry = *pe.rva_to_offset(pe.debug_rva);
  const uint32_t record = pe.get32(entry + 24);                   // PointerToRawData
  const uint32_t size = pe.get32(entry + 16);                     // SizeOfData
  for (uint32_t i = 24; i < size; ++i) pe.put8(record + i, 'A');  // no NUL anywhere in the record
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto d = parse_debug(*img);
  ASSERT_TRUE(d.has_value());
  ASSERT_TRUE(d->entries.at(0).codeview.has_value());
  EXPECT_EQ(d->entries[0].codeview->pdb_path.size(), 4096u);
  EXPECT_NE(find_warning(d->warnings, "CodeView record", "no NUL within 4096 bytes"), nullptr) << describe(d->warnings);
}

// A flat image with 20,000 sections: section_at answers from a sorted index.
TEST(Hostile, FlatImageWithManySectionsFindsEachSection) {
  PeBuilder b(false);
  b.section_alignment(0x200).file_alignment(0x200);
  for (uint32_t i = 0; i < 20000; ++i)
    b.add_section({.name = ".s" + std::to_string(i % 10),
                   .virtual_size = 0x100,
                   .characteristics = kData,
                   .virtual_address = 0x200000 + i * 0x200,
                   .raw_size = 0});
  BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  ASSERT_TRUE(img->is_flat());
  for (uint32_t i : {0u, 1u, 9999u, 19999u}) {
    const Section* s = img->section_at(0x200000 + i * 0x200 + 0x10);
    ASSERT_NE(s, nullptr) << i;
    EXPECT_EQ(s->index, i);
    EXPECT_EQ(img->section_at(0x200000 + i * 0x200 + 0x100), nullptr) << "gap after section " << i;
  }
}

// Two unreadable import names must not use up the name budget: the imports after them are all there
// (before: each failed read was charged 1 MiB and the rest of the table was dropped).
TEST(Hostile, UnreadableNamesDoNotEatTheNameBudget) {
  // .idata by hand: a.dll [Bad, Bad, Good1, Good2], b.dll [Good3]; the bad names point into .junk, the
  // last section: a page of 'A' with no NUL and nothing mapped after it.
  constexpr uint32_t kIdata = 0x1000, kJunk = 0x2000;
  std::vector<std::byte> idata(0x400, std::byte{0});
  auto hint_name = [&](uint32_t at, const char* name) {
    put_str(idata, at + 2, name);
    return kIdata + at;
  };
  const uint32_t good1 = hint_name(0x200, "Good1"), good2 = hint_name(0x210, "Good2"),
                 good3 = hint_name(0x220, "Good3");
  put_str(idata, 0x300, "a.dll");
  put_str(idata, 0x310, "b.dll");
  const uint32_t a_ilt = 0x100, b_ilt = 0x180;
  for (uint32_t i = 0; i < 4; ++i) put_le(idata, a_ilt + i * 4, i < 2 ? kJunk + 0x10 : (i == 2 ? good1 : good2), 4);
  put_le(idata, b_ilt, good3, 4);
  put_le(idata, 0, kIdata + a_ilt, 4);   // a.dll OriginalFirstThunk
  put_le(idata, 12, kIdata + 0x300, 4);  // Name
  put_le(idata, 16, kIdata + a_ilt, 4);  // FirstThunk
  put_le(idata, 20, kIdata + b_ilt, 4);
  put_le(idata, 32, kIdata + 0x310, 4);
  put_le(idata, 36, kIdata + b_ilt, 4);
  PeBuilder b(false);
  b.add_section(
      {.name = ".idata", .virtual_size = 0x1000, .data = idata, .characteristics = kData, .virtual_address = kIdata});
  b.add_section({.name = ".junk",
                 .virtual_size = 0x1000,
                 .data = std::vector<std::byte>(0x1000, std::byte{'A'}),
                 .characteristics = kData,
                 .virtual_address = kJunk});
  b.set_directory(kDirImport, kIdata, 60);
  BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->modules.size(), 2u) << describe(r->warnings);
  ASSERT_EQ(r->modules[0].entries.size(), 2u) << describe(r->warnings);
  EXPECT_EQ(r->modules[0].entries[1].name, "Good2");
  ASSERT_EQ(r->modules[1].entries.size(), 1u) << describe(r->warnings);
  EXPECT_EQ(r->modules[1].entries[0].name, "Good3");
  EXPECT_NE(find_warning(r->warnings, "import #0 of a.dll", "runs off the end of the mapped image"), nullptr)
      << describe(r->warnings);
  EXPECT_EQ(find_warning(r->warnings, "", "exceed what this file can hold"), nullptr) << describe(r->warnings);
}

// A relocation block that starts at the end of one section and continues in the next: the loader
// applies all its entries, so all are listed.
TEST(Hostile, RelocationBlockCrossingIntoTheNextSectionKeepsAllEntries) {
  std::vector<std::byte> a(0x1000, std::byte{0});
  put_le(a, 0xff0, 0x3000, 4);
  put_le(a, 0xff4, 8 + 8 * 2, 4);
  for (uint32_t i = 0; i < 4; ++i) put_le(a, 0xff8 + i * 2, 0x3000u | (i * 4), 2);
  std::vector<std::byte> c(0x200, std::byte{0});
  for (uint32_t i = 4; i < 8; ++i) put_le(c, (i - 4) * 2, 0x3000u | (i * 4), 2);
  PeBuilder b(false);
  b.add_section({.name = ".a", .virtual_size = 0x1000, .data = a, .characteristics = kData, .virtual_address = 0x1000});
  b.add_section({.name = ".c", .data = c, .characteristics = kData, .virtual_address = 0x2000});
  b.add_section({.name = ".text",
                 .data = std::vector<std::byte>(0x100, std::byte{0x90}),
                 .characteristics = kCode,
                 .virtual_address = 0x3000});
  b.set_directory(kDirBaseReloc, 0x1ff0, 24);
  BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  std::vector<uint32_t> rvas;
  r->for_each([&](const RelocEntry& e) { rvas.push_back(e.rva); });
  EXPECT_EQ(rvas, (std::vector<uint32_t>{0x3000, 0x3004, 0x3008, 0x300c, 0x3010, 0x3014, 0x3018, 0x301c}));
}

// fuzz_parse: 78,864 export names all on one slot whose "forwarder" was an 18 KB string, scanned once
// per name by every consumer. Forwarders are read up to 1 KiB, and per-entry warnings stop at 100.
TEST(Hostile, OneLongForwarderSharedByThousandsOfNames) {
  PeBuilder b(false);
  std::vector<test::Export> exports{{.name = "fwd", .forwarder = std::string(10000, 'F') + ".x"}};
  for (int i = 0; i < 5000; ++i) exports.push_back({.name = "n" + std::to_string(100000 + i), .rva = 0x1000});
  b.add_exports("x.dll", 1, exports);
  BuiltPe pe = b.build();
  const uint32_t dir = *pe.rva_to_offset(pe.export_rva);
  const uint32_t ordinals = *pe.rva_to_offset(pe.get32(dir + 36));                  // AddressOfNameOrdinals
  for (uint32_t i = 0; i < pe.get32(dir + 24); ++i) pe.put16(ordinals + 2 * i, 0);  // every name on slot 0
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto ex = parse_exports(*img);
  ASSERT_TRUE(ex.has_value()) << ex.error().to_string();
  ASSERT_FALSE(ex->entries.empty());
  for (const auto& e : ex->entries) EXPECT_LE(e.forwarder.size(), 1024u);
  EXPECT_LE(ex->warnings.size(), EntryWarnings::kMax + 2) << describe(ex->warnings);
}

// The mapping checks (docs/parser.md, "Header checks") come back as warnings naming the status.
struct RuleCase {
  const char* name;
  std::function<void(PeBuilder&)> configure;
  std::function<void(BuiltPe&)> mutate;
  const char* structure;
  const char* message;
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

class MappingRules : public testing::TestWithParam<RuleCase> {};

TEST_P(MappingRules, AreReportedWithTheStatusWindowsGives) {
  const RuleCase& c = GetParam();
  PeBuilder b(false);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x100, std::byte{0x90}), .characteristics = kCode});
  if (c.configure) c.configure(b);
  BuiltPe pe = b.build();
  if (c.mutate) c.mutate(pe);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  const Error* w = find_warning(img->warnings(), c.structure, c.message);
  ASSERT_NE(w, nullptr) << describe(img->warnings());
  EXPECT_NE(w->message.find("STATUS_INVALID_IMAGE_FORMAT"), std::string::npos) << w->message;
}

INSTANTIATE_TEST_SUITE_P(Validation, MappingRules,
                         testing::Values(RuleCase{"file_alignment_not_pow2",
                                                  [](PeBuilder& b) { b.file_alignment(0x300); },
                                                  {},
                                                  "optional header",
                                                  "must be powers of two"},
                                         RuleCase{"section_below_file_alignment",
                                                  [](PeBuilder& b) { b.file_alignment(0x2000); },
                                                  {},
                                                  "optional header",
                                                  "SectionAlignment 0x1000 is below FileAlignment 0x2000"},
                                         RuleCase{"image_base_not_64k",
                                                  [](PeBuilder& b) { b.image_base(0x401000); },
                                                  {},
                                                  "optional header",
                                                  "ImageBase 0x401000 is not a multiple of 64 KiB"},
                                         RuleCase{"section_va_unaligned",
                                                  [](PeBuilder& b) {
                                                    b.add_section({.name = ".odd",
                                                                   .data = std::vector<std::byte>(16, std::byte{1}),
                                                                   .characteristics = kData,
                                                                   .virtual_address = 0x3800});
                                                  },
                                                  {},
                                                  "section .odd",
                                                  "VirtualAddress 0x3800 is not a multiple of SectionAlignment 0x1000"},
                                         RuleCase{"section_past_size_of_image",
                                                  {},
                                                  [](BuiltPe& pe) { pe.put32(pe.optional_offset + 56, 0x1000); },
                                                  "section .text",
                                                  "past SizeOfImage 0x1000"},
                                         RuleCase{"flat_section_not_one_to_one",
                                                  [](PeBuilder& b) {
                                                    b.section_alignment(0x200).file_alignment(0x200);
                                                    b.add_section({.name = ".moved",
                                                                   .data = std::vector<std::byte>(0x200, std::byte{2}),
                                                                   .characteristics = kData,
                                                                   .virtual_address = 0x4000});
                                                  },
                                                  {},
                                                  "section .moved",
                                                  "differs from PointerToRawData"}),
                         [](const testing::TestParamInfo<RuleCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace pemap::pe
