// Header rules Image::parse enforces: each rejection with its NTSTATUS, structure and location, and the odd
// but loadable headers with the warning they earn; table-driven over synthetic PE32 and PE32+ images.
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
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

uint32_t fixed_optional_size(bool pe32plus) { return pe32plus ? 112 : 96; }
std::string format_name(bool pe32plus) { return pe32plus ? "PE32+" : "PE32"; }

// One code section of 0x400 bytes: headers end at 0x200, .text is raw 0x200..0x600 at RVA 0x1000.
PeBuilder base_image(bool pe32plus) {
  PeBuilder b(pe32plus);
  b.add_section({.name = ".text", .data = pattern(0x400)});
  return b;
}

// "$F" in an expected structure name stands for the format ("PE32 optional header").
std::string expand(std::string s, bool pe32plus) {
  if (auto at = s.find("$F"); at != std::string::npos) s.replace(at, 2, format_name(pe32plus));
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------------------------------------------

struct RejectCase {
  std::string name;
  std::function<void(PeBuilder&, bool pe32plus)> configure;  // may be empty
  std::function<void(BuiltPe&, bool pe32plus)> mutate;       // may be empty
  Status status;
  std::string structure;
  Location::Kind kind;
  std::function<uint64_t(const BuiltPe&)> where;
};

const std::vector<RejectCase>& reject_cases() {
  using K = Location::Kind;
  static const std::vector<RejectCase> cases = {
      {"empty_file",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.clear(); },
       Status::invalid_file_for_section,
       "file",
       K::none,
       [](const BuiltPe&) { return 0; }},
      {"no_mz",
       {},
       [](BuiltPe& pe, bool) {
         pe.put16(0, 0x4D5A); /* "ZM" */
       },
       Status::invalid_image_not_mz,
       "DOS header",
       K::file_offset,
       [](const BuiltPe&) { return 0; }},
      {"one_byte_file",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(1); },
       Status::invalid_image_not_mz,
       "DOS header",
       K::file_offset,
       [](const BuiltPe&) { return 0; }},
      {"shorter_than_dos_header",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(0x3c); },
       Status::invalid_image_protect,
       "DOS header",
       K::file_offset,
       [](const BuiltPe&) { return 0; }},
      {"e_lfanew_zero",
       {},
       [](BuiltPe& pe, bool) { pe.put32(0x3c, 0); },
       Status::invalid_image_protect,
       "DOS header",
       K::file_offset,
       [](const BuiltPe&) { return 0x3c; }},
      {"e_lfanew_negative",
       {},
       [](BuiltPe& pe, bool) { pe.put32(0x3c, 0x80000000u); },
       Status::invalid_image_protect,
       "DOS header",
       K::file_offset,
       [](const BuiltPe&) { return 0x3c; }},
      {"e_lfanew_minus_one",
       {},
       [](BuiltPe& pe, bool) { pe.put32(0x3c, 0xffffffffu); },
       Status::invalid_image_protect,
       "DOS header",
       K::file_offset,
       [](const BuiltPe&) { return 0x3c; }},
      {"e_lfanew_past_eof",
       {},
       [](BuiltPe& pe, bool) { pe.put32(0x3c, static_cast<uint32_t>(pe.bytes.size() + 0x100)); },
       Status::invalid_image_protect,
       "PE signature",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.bytes.size() + 0x100; }},
      {"pe_signature_straddles_eof",
       {},
       [](BuiltPe& pe, bool) { pe.put32(0x3c, static_cast<uint32_t>(pe.bytes.size() - 2)); },
       Status::invalid_image_protect,
       "PE signature",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.bytes.size() - 2; }},
      {"bad_pe_signature",
       {},
       [](BuiltPe& pe, bool) {
         pe.put32(pe.nt_offset, 0x01004550); /* "PE\0\1" */
       },
       Status::invalid_image_protect,
       "PE signature",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.nt_offset; }},
      {"ne_signature",
       {},
       [](BuiltPe& pe, bool) {
         pe.put32(pe.nt_offset, 0x0000454E); /* "NE" */
       },
       Status::invalid_image_win_16,
       "PE signature",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.nt_offset; }},
      {"coff_header_truncated",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(pe.coff_offset + 10); },
       Status::invalid_image_format,
       "COFF file header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.coff_offset; }},
      {"magic_truncated",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(pe.optional_offset + 1); },
       Status::invalid_image_format,
       "optional header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; }},
      {"bad_magic_rom_image",
       {},
       [](BuiltPe& pe, bool) { pe.put16(pe.optional_offset, 0x107); },
       Status::invalid_image_format,
       "optional header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; }},
      {"bad_magic_zero",
       {},
       [](BuiltPe& pe, bool) { pe.put16(pe.optional_offset, 0); },
       Status::invalid_image_format,
       "optional header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; }},
      // PE32 builder: PE32 magic on AMD64. PE32+ builder: PE32+ magic on I386.
      {"machine_needs_other_magic",
       [](PeBuilder& b, bool p) { b.machine(p ? machine::i386 : machine::amd64); },
       {},
       Status::invalid_image_format,
       "optional header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; }},
      // PE32 builder: PE32+ magic on I386. PE32+ builder: PE32 magic on AMD64.
      {"magic_swapped",
       {},
       [](BuiltPe& pe, bool p) { pe.put16(pe.optional_offset, p ? kPe32Magic : kPe32PlusMagic); },
       Status::invalid_image_format,
       "optional header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; }},
      // PE32 builder: PE32 magic on ARM64. PE32+ builder: PE32+ magic on ARMNT.
      {"arm_machine_needs_other_magic",
       [](PeBuilder& b, bool p) { b.machine(p ? machine::armnt : machine::arm64); },
       {},
       Status::invalid_image_format,
       "optional header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; }},
      {"optional_header_truncated",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(pe.optional_offset + 64); },
       Status::invalid_image_format,
       "$F optional header",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; }},
      {"data_directories_truncated",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(pe.data_dir_entry_offset(5) + 4); },
       Status::invalid_image_format,
       "data directories",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.data_dir_offset; }},
      {"section_table_truncated",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(pe.section_table_offset + 20); },
       Status::invalid_image_format,
       "section table",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.section_table_offset; }},
      {"number_of_sections_past_eof",
       [](PeBuilder& b, bool) { b.number_of_sections(0xffff); },
       {},
       Status::invalid_image_format,
       "section table",
       K::file_offset,
       [](const BuiltPe& pe) { return pe.section_table_offset; }},
      {"size_of_optional_header_moves_table_past_eof", [](PeBuilder& b, bool) { b.size_of_optional_header(0xfff0); },
       [](BuiltPe& pe, bool) { pe.bytes.resize(pe.optional_offset + 0x800); }, Status::invalid_image_format,
       "section table", K::file_offset, [](const BuiltPe& pe) { return pe.optional_offset + 0xfff0; }},
  };
  return cases;
}

class ParseReject : public testing::TestWithParam<std::tuple<bool, size_t>> {};

TEST_P(ParseReject, FailsWithStatusStructureAndLocation) {
  const auto [pe32plus, index] = GetParam();
  const RejectCase& c = reject_cases()[index];
  PeBuilder b = base_image(pe32plus);
  if (c.configure) c.configure(b, pe32plus);
  BuiltPe pe = b.build();
  if (c.mutate) c.mutate(pe, pe32plus);

  auto r = parse(pe);
  ASSERT_FALSE(r.has_value()) << "parsed, with warnings: " << describe(r->warnings());
  const Error& e = r.error();
  EXPECT_EQ(e.status, c.status) << e.to_string();
  EXPECT_EQ(e.structure, expand(c.structure, pe32plus)) << e.to_string();
  EXPECT_EQ(e.where.kind, c.kind) << e.to_string();
  EXPECT_EQ(e.where.value, c.where(pe)) << e.to_string();
  EXPECT_FALSE(e.message.empty());
}

INSTANTIATE_TEST_SUITE_P(Headers, ParseReject,
                         testing::Combine(testing::Bool(), testing::Range<size_t>(0, reject_cases().size())),
                         [](const testing::TestParamInfo<ParseReject::ParamType>& p) {
                           return std::string(std::get<0>(p.param) ? "PE32plus_" : "PE32_") +
                                  reject_cases()[std::get<1>(p.param)].name;
                         });

TEST(ParseRejectMessage, NamesTheRuleAndStatus) {
  BuiltPe pe = base_image(false).build();
  pe.put32(0x3c, 0);
  auto r = parse(pe);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().to_string(),
            "DOS header at offset 0x3c: e_lfanew is 0; it must be positive (STATUS_INVALID_IMAGE_PROTECT)");

  pe = base_image(true).build();
  pe.put16(pe.optional_offset, 0x107);
  r = parse(pe);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "magic 0x107 is neither PE32 (0x10b) nor PE32+ (0x20b)");

  pe = base_image(true).machine(machine::i386).build();
  r = parse(pe);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "magic 0x20b does not fit machine 0x14c");
  EXPECT_EQ(static_cast<uint32_t>(r.error().status), 0xC000007Bu);
}

// Every prefix of a valid file that ends inside its headers (up to the end of the section table) fails, with
// the error of the first structure the prefix cuts; every longer prefix parses.
class TruncationSweep : public testing::TestWithParam<bool> {};

TEST_P(TruncationSweep, EveryPrefixFailsAtTheStructureItCuts) {
  const bool p = GetParam();
  PeBuilder b = base_image(p);
  b.add_section({.name = ".data", .data = pattern(0x200, 9), .characteristics = 0xC0000040});
  const BuiltPe full = b.build();
  const uint64_t table_end = full.section_table_offset + 2 * 40;
  struct Expect {
    uint64_t below;  // prefixes shorter than this...
    Status status;   // ...fail like this
    std::string structure;
    uint64_t where;
  };
  const std::vector<Expect> steps = {
      {1, Status::invalid_file_for_section, "file", 0},
      {2, Status::invalid_image_not_mz, "DOS header", 0},
      {64, Status::invalid_image_protect, "DOS header", 0},
      {full.nt_offset + 4, Status::invalid_image_protect, "PE signature", full.nt_offset},
      {full.coff_offset + 20, Status::invalid_image_format, "COFF file header", full.coff_offset},
      {full.optional_offset + 2, Status::invalid_image_format, "optional header", full.optional_offset},
      {full.optional_offset + fixed_optional_size(p), Status::invalid_image_format, format_name(p) + " optional header",
       full.optional_offset},
      {full.data_dir_offset + 16 * 8, Status::invalid_image_format, "data directories", full.data_dir_offset},
      {table_end, Status::invalid_image_format, "section table", full.section_table_offset},
  };
  size_t step = 0;
  for (uint64_t len = 0; len <= full.bytes.size(); ++len) {
    const Bytes prefix = unit::bytes_of(full).first(len);
    auto r = Image::parse(prefix);
    while (step < steps.size() && len >= steps[step].below) ++step;
    if (step == steps.size()) {
      ASSERT_TRUE(r.has_value()) << "prefix of " << len << " bytes: " << r.error().to_string();
      EXPECT_EQ(r->sections().size(), 2u);
      continue;
    }
    ASSERT_FALSE(r.has_value()) << "prefix of " << len << " bytes parsed";
    const Expect& want = steps[step];
    ASSERT_EQ(r.error().status, want.status) << "prefix of " << len << " bytes: " << r.error().to_string();
    ASSERT_EQ(r.error().structure, want.structure) << "prefix of " << len << " bytes";
    ASSERT_EQ(r.error().where.value, want.where) << "prefix of " << len << " bytes";
  }
  EXPECT_EQ(step, steps.size());
}

INSTANTIATE_TEST_SUITE_P(Formats, TruncationSweep, testing::Bool(), unit::format_param_name);

// ---------------------------------------------------------------------------------------------------------------
// Odd headers that load, each with the warning it must produce
// ---------------------------------------------------------------------------------------------------------------

constexpr const char* kLongName = ".long_section_name";

struct WarnCase {
  std::string name;
  std::function<void(PeBuilder&, bool pe32plus)> configure;
  std::function<void(BuiltPe&, bool pe32plus)> mutate;
  std::string structure;                                              // substring of the warning's structure
  std::function<std::string(const BuiltPe&, bool pe32plus)> message;  // substring of its message
  Location::Kind kind;
  std::function<uint64_t(const BuiltPe&)> where;
  std::function<void(const Image&, const BuiltPe&, bool pe32plus)> more;  // further checks, may be empty
};

void put_name(BuiltPe& pe, size_t section, std::string_view name) {
  for (uint32_t i = 0; i < 8; ++i)
    pe.put8(pe.section_header_offset(section) + i, i < name.size() ? static_cast<uint8_t>(name[i]) : 0);
}

const std::vector<WarnCase>& warn_cases() {
  using K = Location::Kind;
  auto text = [](const char* s) { return [s](const BuiltPe&, bool) { return std::string(s); }; };
  auto add_long = [](PeBuilder& b, bool) {
    b.add_section({.name = kLongName, .data = pattern(0x200, 3), .characteristics = 0x40000040});
  };
  static const std::vector<WarnCase> cases = {
      {"number_of_rva_and_sizes_20",
       [](PeBuilder& b, bool) { b.number_of_rva_and_sizes(20); },
       {},
       "optional header",
       text("NumberOfRvaAndSizes is 20; only the first 16 data directories exist"),
       K::file_offset,
       [](const BuiltPe& pe) { return pe.optional_offset; },
       [](const Image& img, const BuiltPe& pe, bool p) {
         EXPECT_EQ(img.optional_header().number_of_rva_and_sizes, 20u);
         EXPECT_EQ(img.directories().size(), 16u);
         EXPECT_EQ(img.section_table_offset(), pe.optional_offset + fixed_optional_size(p) + 20 * 8);
         ASSERT_EQ(img.sections().size(), 1u);
         EXPECT_EQ(img.sections()[0].name, ".text");
         EXPECT_EQ(img.warnings().size(), 1u) << describe(img.warnings());
       }},
      // The section table starts at optional header + SizeOfOptionalHeader, over data directories 10..15.
      {"size_of_optional_header_smaller_than_header",
       [](PeBuilder& b, bool p) { b.size_of_optional_header(static_cast<uint16_t>(fixed_optional_size(p) + 80)); },
       {},
       "COFF file header",
       [](const BuiltPe&, bool p) {
         return fmt::format(
             "SizeOfOptionalHeader {:#x} is smaller than the optional header ({:#x} bytes): the "
             "section table overlaps it",
             fixed_optional_size(p) + 80, fixed_optional_size(p) + 128);
       },
       K::file_offset,
       [](const BuiltPe& pe) { return pe.coff_offset + 16; },
       [](const Image& img, const BuiltPe& pe, bool p) {
         EXPECT_EQ(img.section_table_offset(), pe.optional_offset + fixed_optional_size(p) + 80);
         ASSERT_EQ(img.sections().size(), 1u);
         EXPECT_EQ(img.sections()[0].name, ".text");
         EXPECT_EQ(img.sections()[0].rva(), 0x1000u);
         // Directory 10 is read from the section name's bytes (".tex"), as the loader reads it.
         EXPECT_EQ(img.directory(kDirLoadConfig).VirtualAddress, 0x7865742eu);
         EXPECT_FALSE(img.used_directory(kDirLoadConfig).has_value());
         EXPECT_NE(find_warning(img.warnings(), "data directory 10", "outside the image"), nullptr);
       }},
      {"section_table_past_size_of_headers",
       {},
       [](BuiltPe& pe, bool) { pe.put32(pe.optional_offset + 60, pe.section_table_offset + 8); },
       "section table",
       [](const BuiltPe& pe, bool) {
         return fmt::format("ends at {:#x}, past SizeOfHeaders {:#x}; Windows maps it anyway",
                            pe.section_table_offset + 40, pe.section_table_offset + 8);
       },
       K::file_offset,
       [](const BuiltPe& pe) { return pe.section_table_offset; },
       [](const Image& img, const BuiltPe& pe, bool) {
         EXPECT_EQ(img.optional_header().size_of_headers, pe.section_table_offset + 8);
         EXPECT_EQ(img.header_size(), pe.section_table_offset + 40u);  // extended over the table
         EXPECT_EQ(img.regions()[0].file_size, pe.section_table_offset + 40u);
       }},
      {"data_directory_outside_image",
       [](PeBuilder& b, bool) { b.set_directory(kDirResource, 0xF00000, 0x100); },
       {},
       "data directory 2",
       text("address 0xf00000 is outside the image (SizeOfImage 0x2000); the loader ignores it"),
       K::file_offset,
       [](const BuiltPe& pe) { return pe.data_dir_entry_offset(2); },
       [](const Image& img, const BuiltPe&, bool) {
         EXPECT_EQ(img.directory(kDirResource).VirtualAddress, 0xF00000u);
         EXPECT_EQ(img.directory(kDirResource).Size, 0x100u);
         EXPECT_FALSE(img.used_directory(kDirResource).has_value());
         EXPECT_EQ(img.warnings().size(), 1u) << describe(img.warnings());
       }},
      {"raw_data_past_eof",
       {},
       [](BuiltPe& pe, bool) { pe.bytes.resize(pe.section_raw_offsets[0] + 0x100); },
       "section .text",
       text("raw data 0x200+0x400 runs past the end of the file (0x300)"),
       K::file_offset,
       [](const BuiltPe& pe) { return pe.section_header_offset(0); },
       [](const Image& img, const BuiltPe&, bool) {
         // The file bytes that exist are mapped; the rest is missing: a read of it says so, not 0.
         EXPECT_EQ(*img.read_rva<uint8_t>(0x10ff, "probe"), unit::pattern_at(0xff));
         const auto missing = img.read_rva<uint8_t>(0x1100, "probe");
         ASSERT_FALSE(missing.has_value());
         EXPECT_EQ(
             missing.error().message,
             "RVA 0x1100 (file offset 0x300) lies past the end of the file at 0x300, but section .text's raw data "
             "runs to 0x600: the file is cut short and these bytes are missing");
         EXPECT_FALSE(img.rva_to_offset(0x1100).has_value());
         ASSERT_TRUE(img.truncation().has_value());
         EXPECT_EQ(img.first_missing(0x1000, 0x1000)->rva, 0x1100u);
         EXPECT_FALSE(img.first_missing(0x1600, 0xa00).has_value());  // zero fill past SizeOfRawData
       }},
      {"unnamed_section_past_eof",
       {},
       [](BuiltPe& pe, bool) {
         std::fill_n(pe.bytes.begin() + static_cast<std::ptrdiff_t>(pe.section_header_offset(0)), 8, std::byte{0});
         pe.bytes.resize(pe.section_raw_offsets[0] + 0x100);
       },
       "section #0",  // a section without a name is named by its index, not as "section " with nothing after
       text("raw data 0x200+0x400 runs past the end of the file (0x300)"),
       K::file_offset,
       [](const BuiltPe& pe) { return pe.section_header_offset(0); },
       [](const Image& img, const BuiltPe&, bool) {
         ASSERT_EQ(img.sections().size(), 1u);
         EXPECT_EQ(img.sections()[0].name, "");
         EXPECT_EQ(img.sections()[0].label(), "section #0");
       }},
      {"overlapping_sections",
       [](PeBuilder& b, bool) {
         b.add_section(
             {.name = ".data", .data = pattern(0x200, 5), .characteristics = 0xC0000040, .virtual_address = 0x1000});
       },
       {},
       "section .data",
       text("is below the end of section"),
       K::file_offset,
       [](const BuiltPe& pe) { return pe.section_header_offset(1); },
       [](const Image& img, const BuiltPe&, bool) {
         ASSERT_EQ(img.sections().size(), 2u);
         EXPECT_EQ(img.section_at(0x1000)->name, ".text");  // the first in memory keeps the range
       }},
      {"long_name_offset_past_eof", add_long, [](BuiltPe& pe, bool) { put_name(pe, 1, "/9999"); }, "section header #1",
       text("long name /9999 does not resolve to a NUL-terminated name in the COFF string table"), K::file_offset,
       [](const BuiltPe& pe) { return pe.section_header_offset(1); },
       [](const Image& img, const BuiltPe&, bool) { EXPECT_EQ(img.sections()[1].name, "/9999"); }},
      {"long_name_not_a_number", add_long, [](BuiltPe& pe, bool) { put_name(pe, 1, "/4x"); }, "section header #1",
       text("long name /4x does not resolve to a NUL-terminated name in the COFF string table"), K::file_offset,
       [](const BuiltPe& pe) { return pe.section_header_offset(1); },
       [](const Image& img, const BuiltPe&, bool) { EXPECT_EQ(img.sections()[1].name, "/4x"); }},
      {"long_name_inside_size_field",
       add_long,
       [](BuiltPe& pe, bool) { put_name(pe, 1, "/2"); },
       "section header #1",
       text("long name /2 does not resolve to a NUL-terminated name in the COFF string table"),
       K::file_offset,
       [](const BuiltPe& pe) { return pe.section_header_offset(1); },
       {}},
      {"long_name_not_terminated", add_long,
       [](BuiltPe& pe, bool) { pe.put8(static_cast<uint32_t>(pe.bytes.size() - 1), 'x'); }, "section header #1",
       text("long name /4 does not resolve to a NUL-terminated name in the COFF string table"), K::file_offset,
       [](const BuiltPe& pe) { return pe.section_header_offset(1); },
       [](const Image& img, const BuiltPe&, bool) { EXPECT_EQ(img.sections()[1].name, "/4"); }},
  };
  return cases;
}

class ParseWarn : public testing::TestWithParam<std::tuple<bool, size_t>> {};

TEST_P(ParseWarn, ParsesWithTheWarning) {
  const auto [pe32plus, index] = GetParam();
  const WarnCase& c = warn_cases()[index];
  PeBuilder b = base_image(pe32plus);
  if (c.configure) c.configure(b, pe32plus);
  BuiltPe pe = b.build();
  if (c.mutate) c.mutate(pe, pe32plus);

  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const std::string message = c.message(pe, pe32plus);
  const Error* w = find_warning(r->warnings(), c.structure, message);
  ASSERT_NE(w, nullptr) << "want [" << c.structure << "] " << message << "; got" << describe(r->warnings());
  EXPECT_EQ(w->status, Status::success);
  EXPECT_EQ(w->where.kind, c.kind) << w->to_string();
  EXPECT_EQ(w->where.value, c.where(pe)) << w->to_string();
  if (c.more) c.more(*r, pe, pe32plus);
}

INSTANTIATE_TEST_SUITE_P(Headers, ParseWarn,
                         testing::Combine(testing::Bool(), testing::Range<size_t>(0, warn_cases().size())),
                         [](const testing::TestParamInfo<ParseWarn::ParamType>& p) {
                           return std::string(std::get<0>(p.param) ? "PE32plus_" : "PE32_") +
                                  warn_cases()[std::get<1>(p.param)].name;
                         });

// ---------------------------------------------------------------------------------------------------------------
// Clean images and single rules
// ---------------------------------------------------------------------------------------------------------------

class ParseFormat : public testing::TestWithParam<bool> {};

TEST_P(ParseFormat, CleanImageDecodesEveryHeader) {
  const bool p = GetParam();
  PeBuilder b = base_image(p);
  b.time_date_stamp(0x5f000000).subsystem(2).stack_reserve(0x200000);
  b.add_section({.name = ".data", .virtual_size = 0x1800, .data = pattern(0x200, 4), .characteristics = 0xC0000040});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Image& img = *r;
  EXPECT_TRUE(img.warnings().empty()) << describe(img.warnings());
  EXPECT_EQ(img.format(), p ? Format::pe32plus : Format::pe32);
  EXPECT_EQ(img.is_pe32plus(), p);
  EXPECT_EQ(img.pointer_size(), p ? 8u : 4u);
  EXPECT_EQ(img.dos_header().e_magic, kMzMagic);
  EXPECT_EQ(img.nt_offset(), 0x80u);
  EXPECT_EQ(img.optional_header_offset(), pe.optional_offset);
  EXPECT_EQ(img.file_header().Machine, p ? machine::amd64 : machine::i386);
  EXPECT_EQ(img.file_header().NumberOfSections, 2u);
  EXPECT_EQ(img.file_header().TimeDateStamp, 0x5f000000u);
  const OptionalHeader& o = img.optional_header();
  EXPECT_EQ(o.magic, p ? kPe32PlusMagic : kPe32Magic);
  EXPECT_EQ(o.image_base, unit::default_image_base(p));
  EXPECT_EQ(img.image_base(), unit::default_image_base(p));
  EXPECT_EQ(o.base_of_data.has_value(), !p);  // BaseOfData exists only in PE32
  if (!p) {
    EXPECT_EQ(*o.base_of_data, 0x2000u);
  }
  EXPECT_EQ(o.address_of_entry_point, 0x1000u);
  EXPECT_EQ(o.section_alignment, 0x1000u);
  EXPECT_EQ(o.file_alignment, 0x200u);
  EXPECT_EQ(o.size_of_image, 0x4000u);
  EXPECT_EQ(o.size_of_headers, 0x200u);
  EXPECT_EQ(o.subsystem, 2u);
  EXPECT_EQ(o.size_of_stack_reserve, 0x200000u);
  EXPECT_EQ(o.number_of_rva_and_sizes, 16u);
  EXPECT_EQ(img.directories().size(), 16u);
  EXPECT_EQ(img.section_table_offset(), pe.section_table_offset);
  EXPECT_EQ(img.mapped_size(), 0x4000u);
  EXPECT_FALSE(img.is_flat());

  ASSERT_EQ(img.sections().size(), 2u);
  const Section& text = img.sections()[0];
  EXPECT_EQ(text.index, 0u);
  EXPECT_EQ(text.name, ".text");
  EXPECT_EQ(text.header_offset, pe.section_header_offset(0));
  EXPECT_EQ(text.rva(), 0x1000u);
  EXPECT_EQ(text.header.VirtualSize, 0x400u);
  EXPECT_EQ(text.header.SizeOfRawData, 0x400u);
  EXPECT_EQ(text.header.PointerToRawData, 0x200u);
  EXPECT_EQ(text.characteristics(), 0x60000020u);
  EXPECT_EQ(text.memory_size, 0x1000u);
  EXPECT_EQ(text.file_offset, 0x200u);
  EXPECT_EQ(text.file_size, 0x400u);
  const Section& data = img.sections()[1];
  EXPECT_EQ(data.name, ".data");
  EXPECT_EQ(data.rva(), 0x2000u);
  EXPECT_EQ(data.memory_size, 0x2000u);
  EXPECT_EQ(data.file_offset, 0x600u);
  EXPECT_EQ(data.file_size, 0x200u);
  EXPECT_FALSE(img.overlay_offset().has_value());
}

TEST_P(ParseFormat, FewerThanSixteenDirectories) {
  PeBuilder b = base_image(GetParam());
  b.number_of_rva_and_sizes(2).add_relocs({{0x1000, {0x3000}}});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->directories().size(), 2u);
  EXPECT_EQ(r->section_table_offset(), pe.optional_offset + fixed_optional_size(GetParam()) + 16);
  // The relocation directory slot does not exist: it reads as {0, 0} and is not used.
  EXPECT_EQ(r->directory(kDirBaseReloc).VirtualAddress, 0u);
  EXPECT_EQ(r->directory(kDirBaseReloc).Size, 0u);
  EXPECT_FALSE(r->used_directory(kDirBaseReloc).has_value());
  EXPECT_EQ(r->directory(99).VirtualAddress, 0u);
  EXPECT_TRUE(r->warnings().empty()) << describe(r->warnings());
}

TEST_P(ParseFormat, LongSectionNameResolvedThroughStringTable) {
  PeBuilder b = base_image(GetParam());
  b.add_section({.name = kLongName, .data = pattern(0x200, 3), .characteristics = 0x40000040});
  b.add_section({.name = ".another_long_name", .data = pattern(0x200, 4), .characteristics = 0x40000040});
  const BuiltPe pe = b.build();
  ASSERT_EQ(pe.get16(pe.section_header_offset(1)), '/' | ('4' << 8));  // "/4" in the header
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings().empty()) << describe(r->warnings());
  ASSERT_EQ(r->sections().size(), 3u);
  EXPECT_EQ(r->sections()[0].name, ".text");
  EXPECT_EQ(r->sections()[1].name, kLongName);
  EXPECT_EQ(r->sections()[2].name, ".another_long_name");
  // The name views the file's string table.
  EXPECT_EQ(reinterpret_cast<const std::byte*>(r->sections()[1].name.data()),
            pe.bytes.data() + pe.string_table_offset + 4);
}

TEST_P(ParseFormat, SlashNameWithoutSymbolTableIsAPlainName) {
  PeBuilder b = base_image(GetParam());
  b.add_section({.name = kLongName, .data = pattern(0x200, 3), .characteristics = 0x40000040});
  b.pointer_to_symbol_table(0);
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->sections()[1].name, "/4");
  EXPECT_TRUE(r->warnings().empty()) << describe(r->warnings());
}

TEST_P(ParseFormat, FullEightCharacterNameHasNoTerminator) {
  PeBuilder b = base_image(GetParam());
  b.add_section({.name = ".rdata$z", .data = pattern(0x200, 3), .characteristics = 0x40000040});
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->sections()[1].name, ".rdata$z");
}

// corkami nullSOH: SizeOfOptionalHeader 0 puts the section table on the optional header; with no sections
// nothing is read from there, and the image still parses.
TEST_P(ParseFormat, SizeOfOptionalHeaderZeroWithoutSections) {
  const bool p = GetParam();
  PeBuilder b(p);
  b.size_of_optional_header(0);
  const BuiltPe pe = b.build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->section_table_offset(), pe.optional_offset);
  EXPECT_TRUE(r->sections().empty());
  const Error* w = find_warning(r->warnings(), "COFF file header", "SizeOfOptionalHeader 0x0 is smaller");
  ASSERT_NE(w, nullptr) << describe(r->warnings());
  EXPECT_EQ(w->where.value, pe.coff_offset + 16u);
  EXPECT_EQ(r->directories().size(), 16u);  // still read from their fixed place
}

// With no sections the section table is never read, so it may lie past the end of the file.
TEST_P(ParseFormat, ZeroSectionsWithTableOffsetPastEof) {
  const bool p = GetParam();
  PeBuilder b(p);
  b.size_of_optional_header(0x1000);
  BuiltPe pe = b.build();
  pe.bytes.resize(pe.data_dir_offset + 16 * 8);  // the file ends right after the data directories
  ASSERT_GT(pe.section_table_offset, pe.bytes.size());
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->sections().empty());
  EXPECT_EQ(r->section_table_offset(), pe.optional_offset + 0x1000u);
  EXPECT_TRUE(r->warnings().empty()) << describe(r->warnings());
  EXPECT_EQ(r->header_size(), pe.optional_offset + 0x1000u);  // extended to the (empty) table
  EXPECT_EQ(*r->read_rva<uint16_t>(0, "probe"), kMzMagic);
  EXPECT_EQ(*r->read_rva<uint32_t>(pe.bytes.size(), "probe"), 0u);  // past EOF inside the headers: zero
}

// Machines outside both lists (RISC-V, unknown) take either magic.
TEST_P(ParseFormat, MachineWithoutFixedFormatTakesEitherMagic) {
  for (uint16_t m : {machine::riscv64, machine::unknown, machine::ebc}) {
    const BuiltPe pe = base_image(GetParam()).machine(m).build();
    auto r = parse(pe);
    ASSERT_TRUE(r.has_value()) << "machine " << m << ": " << r.error().to_string();
    EXPECT_EQ(r->file_header().Machine, m);
  }
}

// PE signature found through an e_lfanew that points inside the DOS header (corkami's overlapping headers).
TEST_P(ParseFormat, NtHeadersInsideDosHeader) {
  // e_lfanew shares its bytes with BaseOfCode, so both hold 0x10.
  const BuiltPe pe = base_image(GetParam()).e_lfanew(0x10).base_of_code(0x10).build();
  auto r = parse(pe);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->nt_offset(), 0x10u);
  EXPECT_EQ(r->sections().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Formats, ParseFormat, testing::Bool(), unit::format_param_name);

}  // namespace
}  // namespace pemap::pe
