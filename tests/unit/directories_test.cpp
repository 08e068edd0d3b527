// The lazily parsed data directories: imports, delay and bound imports, exports, base relocations, TLS,
// load configuration and debug, on synthetic PE32 and PE32+ images.
#include <array>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/spec.hpp"
#include "pe/tls.hpp"
#include "support/pe_builder.hpp"
#include "unit_helpers.hpp"

namespace pemap::pe {
namespace {

using test::BuiltPe;
using test::PeBuilder;
using unit::default_image_base;
using unit::describe;
using unit::file_off;
using unit::find_warning;
using unit::parse;
using unit::pattern;

using HintName = std::pair<uint16_t, std::string>;

using unit::ordinal_flag;
using unit::ptr_size;
using unit::put_le;
using unit::put_str;

// ===============================================================================================================
// Imports
// ===============================================================================================================

constexpr uint32_t kDescSize = 20;

PeBuilder imports_image(bool p) {
  PeBuilder b(p);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_imports({
      {.dll = "KERNEL32.dll", .entries = {HintName{0x10, "ExitProcess"}, HintName{0x20, "GetLastError"}, uint16_t{7}}},
      {.dll = "WS2_32.dll", .entries = {uint16_t{115}, uint16_t{3}}},
      {.dll = "USER32.dll", .entries = {HintName{0x1ff, "MessageBoxA"}}},
  });
  return b;
}

class ImportsTest : public testing::TestWithParam<bool> {};

TEST_P(ImportsTest, ByNameWithHintAndByOrdinal) {
  const bool p = GetParam();
  const BuiltPe pe = imports_image(p).build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->modules.size(), 3u);
  EXPECT_EQ(r->entry_count(), 6u);

  const ImportModule& k32 = r->modules[0];
  EXPECT_EQ(k32.dll, "KERNEL32.dll");
  EXPECT_EQ(k32.descriptor_rva, pe.import_rva);
  EXPECT_NE(k32.descriptor.OriginalFirstThunk, 0u);
  EXPECT_NE(k32.descriptor.OriginalFirstThunk, k32.descriptor.FirstThunk);
  ASSERT_EQ(k32.entries.size(), 3u);
  const ImportEntry& exit = k32.entries[0];
  EXPECT_FALSE(exit.by_ordinal);
  EXPECT_EQ(exit.hint, 0x10u);
  EXPECT_EQ(exit.name, "ExitProcess");
  EXPECT_EQ(exit.thunk, exit.name_rva);
  EXPECT_EQ(*img->read_rva<uint16_t>(exit.name_rva, "hint"), 0x10u);
  EXPECT_EQ(k32.entries[1].hint, 0x20u);
  EXPECT_EQ(k32.entries[1].name, "GetLastError");
  const ImportEntry& ord = k32.entries[2];
  EXPECT_TRUE(ord.by_ordinal);
  EXPECT_EQ(ord.ordinal, 7u);
  EXPECT_EQ(ord.thunk, ordinal_flag(p) | 7);
  EXPECT_TRUE(ord.name.empty());
  for (size_t i = 0; i < k32.entries.size(); ++i)
    EXPECT_EQ(k32.entries[i].iat_rva, k32.descriptor.FirstThunk + i * ptr_size(p)) << i;
  // The IAT directory starts at the first module's IAT.
  EXPECT_EQ(img->directory(kDirIat).VirtualAddress, k32.descriptor.FirstThunk);

  const ImportModule& ws = r->modules[1];
  EXPECT_EQ(ws.dll, "WS2_32.dll");
  EXPECT_EQ(ws.descriptor_rva, pe.import_rva + kDescSize);
  ASSERT_EQ(ws.entries.size(), 2u);
  EXPECT_TRUE(ws.entries[0].by_ordinal);
  EXPECT_EQ(ws.entries[0].ordinal, 115u);
  EXPECT_EQ(ws.entries[1].ordinal, 3u);
  EXPECT_EQ(ws.entries[1].iat_rva, ws.descriptor.FirstThunk + ptr_size(p));

  const ImportModule& user = r->modules[2];
  EXPECT_EQ(user.dll, "USER32.dll");
  ASSERT_EQ(user.entries.size(), 1u);
  EXPECT_EQ(user.entries[0].hint, 0x1ffu);
  EXPECT_EQ(user.entries[0].name, "MessageBoxA");
}

TEST_P(ImportsTest, OriginalFirstThunkZeroReadsFirstThunk) {
  const bool p = GetParam();
  PeBuilder b(p);
  b.add_imports({{.dll = "USER32.dll",
                  .entries = {HintName{3, "MessageBoxA"}, uint16_t{9}, HintName{4, "GetDC"}},
                  .use_lookup_table = false}});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->modules.size(), 1u);
  const ImportModule& m = r->modules[0];
  EXPECT_EQ(m.descriptor.OriginalFirstThunk, 0u);
  ASSERT_EQ(m.entries.size(), 3u);
  EXPECT_EQ(m.entries[0].name, "MessageBoxA");
  EXPECT_EQ(m.entries[0].hint, 3u);
  EXPECT_TRUE(m.entries[1].by_ordinal);
  EXPECT_EQ(m.entries[1].ordinal, 9u);
  EXPECT_EQ(m.entries[2].name, "GetDC");
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(m.entries[i].iat_rva, m.descriptor.FirstThunk + i * ptr_size(p));
}

// The list ends at the first descriptor whose Name or FirstThunk is 0, whatever its other fields hold.
TEST_P(ImportsTest, TerminatorIsNameZeroOrFirstThunkZero) {
  for (uint32_t field : {12u /* Name */, 16u /* FirstThunk */}) {
    BuiltPe pe = imports_image(GetParam()).build();
    pe.put32(file_off(pe, pe.import_rva + kDescSize + field), 0);  // the second descriptor
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value()) << img.error().to_string();
    auto r = parse_imports(*img);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    ASSERT_EQ(r->modules.size(), 1u) << "field +" << field;
    EXPECT_EQ(r->modules[0].dll, "KERNEL32.dll");
    EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  }
  // OriginalFirstThunk, TimeDateStamp and ForwarderChain of 0 do not end it.
  BuiltPe pe = imports_image(GetParam()).build();
  const uint32_t d1 = file_off(pe, pe.import_rva + kDescSize);
  pe.put32(d1 + 0, 0);
  pe.put32(d1 + 4, 0);
  pe.put32(d1 + 8, 0);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->modules.size(), 3u);
  EXPECT_EQ(r->modules[1].entries.size(), 2u);  // read from FirstThunk
}

// The loader ignores the import directory's Size (corkami normal.exe has 0 there).
TEST_P(ImportsTest, DirectorySizeIsIgnored) {
  for (uint32_t size : {0u, 1u, kDescSize}) {
    BuiltPe pe = imports_image(GetParam()).build();
    pe.put32(pe.data_dir_entry_offset(kDirImport) + 4, size);
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value()) << img.error().to_string();
    ASSERT_TRUE(img->used_directory(kDirImport).has_value());
    auto r = parse_imports(*img);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->modules.size(), 3u) << "Size " << size;
    EXPECT_EQ(r->entry_count(), 6u) << "Size " << size;
  }
}

TEST_P(ImportsTest, NoDirectoryNoModules) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x100)});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->modules.empty());
  EXPECT_TRUE(r->warnings.empty());
}

TEST_P(ImportsTest, FirstDescriptorUnreadableIsAnError) {
  PeBuilder b = imports_image(GetParam());
  b.size_of_image(0x10000);
  BuiltPe pe = b.build();
  pe.put32(pe.data_dir_entry_offset(kDirImport), 0x8000);  // inside SizeOfImage, in no section
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, Status::invalid_image_format);
  EXPECT_EQ(r.error().structure, "import descriptor");
  EXPECT_EQ(r.error().where.kind, Location::Kind::rva);
  EXPECT_EQ(r.error().where.value, 0x8000u);
}

TEST_P(ImportsTest, UnreadablePartsBecomeWarnings) {
  const bool p = GetParam();
  PeBuilder b = imports_image(p);
  b.size_of_image(0x10000);
  BuiltPe pe = b.build();
  const uint32_t d0 = file_off(pe, pe.import_rva);
  const uint32_t ilt = file_off(pe, pe.get32(d0));
  if (p)
    pe.put64(ilt, 0x8000);  // KERNEL32's first hint/name entry in a gap
  else
    pe.put32(ilt, 0x8000);
  const uint32_t d1 = d0 + kDescSize;
  pe.put32(d1 + 12, 0x8000);  // WS2_32's name in a gap
  const uint32_t d2 = d1 + kDescSize;
  pe.put32(d2 + 0, 0x7fff0000);  // USER32's OriginalFirstThunk outside the image

  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->modules.size(), 2u);  // WS2_32 is skipped
  EXPECT_EQ(r->modules[0].dll, "KERNEL32.dll");
  ASSERT_EQ(r->modules[0].entries.size(), 2u);
  EXPECT_EQ(r->modules[0].entries[0].name, "GetLastError");
  EXPECT_EQ(r->modules[0].entries[0].iat_rva, r->modules[0].descriptor.FirstThunk + ptr_size(p));
  EXPECT_EQ(r->modules[1].dll, "USER32.dll");
  ASSERT_EQ(r->modules[1].entries.size(), 1u);
  EXPECT_EQ(r->modules[1].entries[0].name, "MessageBoxA");  // from FirstThunk

  const Error* hint = find_warning(r->warnings, "import #0 of KERNEL32.dll", "hint/name RVA 0x8000 is unreadable");
  ASSERT_NE(hint, nullptr) << describe(r->warnings);
  EXPECT_EQ(hint->where.value, r->modules[0].descriptor.OriginalFirstThunk);
  const Error* name = find_warning(r->warnings, "import DLL name", "outside the mapped image");
  ASSERT_NE(name, nullptr) << describe(r->warnings);
  EXPECT_EQ(name->where.value, 0x8000u);
  const Error* oft = find_warning(r->warnings, "imports of USER32.dll",
                                  "OriginalFirstThunk 0x7fff0000 is outside the image; names are read from FirstThunk");
  ASSERT_NE(oft, nullptr) << describe(r->warnings);
  EXPECT_EQ(oft->where.value, pe.import_rva + 2 * kDescSize);
  EXPECT_EQ(r->warnings.size(), 3u) << describe(r->warnings);
}

// A big, real lookup table (more entries than the fixed part of the entry budget) is read to the end.
TEST_P(ImportsTest, HugeThunkArrayWithinTheFileCompletes) {
  const bool p = GetParam();
  constexpr size_t kEntries = 100000;
  std::vector<test::ImportEntry> entries;
  entries.reserve(kEntries);
  for (size_t i = 0; i < kEntries; ++i) entries.emplace_back(static_cast<uint16_t>(1 + i % 60000));
  PeBuilder b(p);
  b.add_imports({{.dll = "BIG.dll", .entries = std::move(entries)}});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->modules.size(), 1u);
  const ImportModule& m = r->modules[0];
  ASSERT_EQ(m.entries.size(), kEntries);
  EXPECT_EQ(m.entries[59999].ordinal, 60000u);
  EXPECT_EQ(m.entries[60000].ordinal, 1u);
  EXPECT_EQ(m.entries.back().ordinal, 1 + (kEntries - 1) % 60000);
  EXPECT_EQ(m.entries.back().iat_rva, m.descriptor.FirstThunk + (kEntries - 1) * ptr_size(p));
}

// Hostile: 20,000 thunks all name one 100 KB string. Scanning it for each would cost 2 GB of reads; the
// name scan budget (8 x file size + 1 MiB) stops the walk after a few dozen with a warning.
TEST_P(ImportsTest, NameScanBudgetStopsThunksSharingOneLongName) {
  const bool p = GetParam();
  const unsigned ps = ptr_size(p);
  constexpr uint32_t kVa = 0x1000, kThunks = 20000, kDllName = 0x40, kHint = 0x100, kLong = 100000;
  const uint32_t table = kHint + 2 + kLong + 16;
  std::vector<std::byte> sec(table + (kThunks + 1) * ps, std::byte{0});
  put_str(sec, kDllName, "LONG.dll");
  for (uint32_t i = 0; i < kLong; ++i) sec[kHint + 2 + i] = std::byte{'A'};
  for (uint32_t i = 0; i < kThunks; ++i) put_le(sec, table + i * ps, kVa + kHint, ps);
  put_le(sec, 0, kVa + table, 4);      // OriginalFirstThunk
  put_le(sec, 12, kVa + kDllName, 4);  // Name
  put_le(sec, 16, kVa + table, 4);     // FirstThunk
  PeBuilder b(p);
  b.add_section({.name = ".idata", .data = sec, .characteristics = 0xC0000040, .virtual_address = kVa});
  b.set_directory(kDirImport, kVa, 40);
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->modules.size(), 1u);
  const auto& m = r->modules[0];
  ASSERT_FALSE(m.entries.empty());
  EXPECT_EQ(m.entries[0].name.size(), kLong);  // read whole: names are not cut at 64 KiB by the parser
  EXPECT_LE(m.entries.size() * (kLong + 1), 8 * pe.bytes.size() + (1u << 20) + kLong + 1);
  EXPECT_NE(find_warning(r->warnings, "imports of LONG.dll", "exceed what this file can hold"), nullptr)
      << describe(r->warnings);
}

// Hostile: 200 descriptors share one 4000-entry thunk array (800,000 entries from a ~20 KB file). The entry
// budget, linear in the file size, stops the walk with a warning.
TEST_P(ImportsTest, EntryBudgetStopsSharedThunkArrays) {
  const bool p = GetParam();
  const unsigned ps = ptr_size(p);
  constexpr uint32_t kVa = 0x1000, kDescs = 200, kThunks = 4000, kName = 0x1000, kTable = 0x1100;
  std::vector<std::byte> sec(kTable + (kThunks + 1) * ps, std::byte{0});
  put_str(sec, kName, "HOSTILE.dll");
  for (uint32_t i = 0; i < kThunks; ++i) put_le(sec, kTable + i * ps, ordinal_flag(p) | (1 + i % 1000), ps);
  for (uint32_t d = 0; d < kDescs; ++d) {
    put_le(sec, d * kDescSize + 0, kVa + kTable, 4);   // OriginalFirstThunk
    put_le(sec, d * kDescSize + 12, kVa + kName, 4);   // Name
    put_le(sec, d * kDescSize + 16, kVa + kTable, 4);  // FirstThunk
  }
  PeBuilder b(p);
  b.add_section({.name = ".idata", .data = sec, .characteristics = 0xC0000040, .virtual_address = kVa});
  b.set_directory(kDirImport, kVa, 0);
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const Error* w = find_warning(r->warnings, "imports of HOSTILE.dll",
                                "import entries exceed what this file can hold; the walk stops here");
  ASSERT_NE(w, nullptr) << describe(r->warnings);
  EXPECT_EQ(w->status, Status::success);
  EXPECT_EQ(w->where.value, kVa + kTable);
  EXPECT_LT(r->modules.size(), kDescs);
  EXPECT_GE(r->modules.size(), 2u);
  EXPECT_EQ(r->modules[0].entries.size(), kThunks);  // whole tables before the budget runs out
  EXPECT_LE(r->entry_count(), pe.bytes.size() / 2 + 65536) << "file of " << pe.bytes.size() << " bytes";
  EXPECT_LT(r->entry_count(), uint64_t{kDescs} * kThunks);
}

// Regression (found while writing these tests, fixed in the parser): in PE32+ an import-by-name thunk is an RVA in its
// low 32 bits (ntdll LdrpSnapThunk and ReactOS mask with 0xffffffff, Wine casts to DWORD); the parser masks with
// 0x7fffffff. A thunk 0x80000000|rva (bit 63 clear, so not an ordinal) names RVA 0x8000xxxx, outside the image, and the
// loader fails; the parser silently reads the name at rva instead.
TEST(ImportsPe32PlusTest, NameThunkBit31IsPartOfTheRva) {
  BuiltPe pe = imports_image(true).build();
  const uint32_t ilt = file_off(pe, pe.get32(file_off(pe, pe.import_rva)));
  const uint64_t name_rva = pe.get64(ilt);
  pe.put64(ilt, name_rva | 0x80000000ull);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const ImportModule& k32 = r->modules[0];
  EXPECT_NE(find_warning(r->warnings, "import #0 of KERNEL32.dll", "unreadable"), nullptr) << describe(r->warnings);
  ASSERT_EQ(k32.entries.size(), 2u);
  EXPECT_EQ(k32.entries[0].name, "GetLastError");
}

INSTANTIATE_TEST_SUITE_P(Formats, ImportsTest, testing::Bool(), unit::format_param_name);

// ===============================================================================================================
// Delay-load and bound imports
// ===============================================================================================================

class DelayImportsTest : public testing::TestWithParam<bool> {};

TEST_P(DelayImportsTest, RvaForm) {
  const bool p = GetParam();
  PeBuilder b(p);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_delay_imports({{.dll = "dbghelp.dll", .names = {"SymInitialize", "SymCleanup"}},
                       {.dll = "version.dll", .names = {"GetFileVersionInfoA"}}});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_delay_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->modules.size(), 2u);
  const DelayImportModule& dbg = r->modules[0];
  EXPECT_EQ(dbg.dll, "dbghelp.dll");
  EXPECT_TRUE(dbg.rva_based);
  EXPECT_EQ(dbg.descriptor.Attributes, 1u);
  EXPECT_EQ(dbg.descriptor_rva, pe.delay_import_rva);
  ASSERT_EQ(dbg.entries.size(), 2u);
  EXPECT_EQ(dbg.entries[0].name, "SymInitialize");
  EXPECT_EQ(dbg.entries[1].name, "SymCleanup");
  EXPECT_FALSE(dbg.entries[0].by_ordinal);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(dbg.entries[i].iat_rva, dbg.descriptor.ImportAddressTableRVA + i * ptr_size(p));
  EXPECT_EQ(*img->read_string(dbg.entries[1].name_rva + 2, "n"), "SymCleanup");
  const DelayImportModule& ver = r->modules[1];
  EXPECT_EQ(ver.dll, "version.dll");
  EXPECT_EQ(ver.descriptor_rva, pe.delay_import_rva + 32);
  ASSERT_EQ(ver.entries.size(), 1u);
  EXPECT_EQ(ver.entries[0].name, "GetFileVersionInfoA");
}

INSTANTIATE_TEST_SUITE_P(Formats, DelayImportsTest, testing::Bool(), unit::format_param_name);

// The VC6 form (Attributes bit 0 clear) stores VAs at the preferred base in every field and in the name table.
TEST(DelayImportsPe32Test, VaForm) {
  PeBuilder b(false);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_delay_imports({{.dll = "old.dll", .names = {"OldFunc", "OtherFunc"}, .rva_form = false}});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_delay_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->modules.size(), 1u);
  const DelayImportModule& m = r->modules[0];
  EXPECT_FALSE(m.rva_based);
  EXPECT_EQ(m.descriptor.Attributes, 0u);
  EXPECT_GE(m.descriptor.DllNameRVA, 0x400000u);  // a VA
  EXPECT_EQ(m.dll, "old.dll");
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[0].name, "OldFunc");
  EXPECT_EQ(m.entries[1].name, "OtherFunc");
  EXPECT_LT(m.entries[0].name_rva, img->mapped_size());
  EXPECT_EQ(m.entries[0].thunk, 0x400000u + m.entries[0].name_rva);
  EXPECT_EQ(m.entries[0].iat_rva, m.descriptor.ImportAddressTableRVA - 0x400000u);
  EXPECT_EQ(m.entries[1].iat_rva, m.descriptor.ImportAddressTableRVA - 0x400000u + 4);
}

TEST(BoundImportsTest, DescriptorsFromTheHeaders) {
  PeBuilder b(false);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_bound_imports({{"KERNEL32.dll", 0x5f000000}, {"NTDLL.DLL", 0x9abcdef0}});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  EXPECT_TRUE(img->warnings().empty()) << describe(img->warnings());
  EXPECT_EQ(img->directory(kDirBoundImport).VirtualAddress, pe.bound_import_offset);  // a file offset
  auto r = parse_bound_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->modules.size(), 2u);
  EXPECT_EQ(r->modules[0].dll, "KERNEL32.dll");
  EXPECT_EQ(r->modules[0].time_date_stamp, 0x5f000000u);
  EXPECT_TRUE(r->modules[0].forwarders.empty());
  EXPECT_EQ(r->modules[1].dll, "NTDLL.DLL");
  EXPECT_EQ(r->modules[1].time_date_stamp, 0x9abcdef0u);
}

// IMAGE_BOUND_FORWARDER_REF entries follow their descriptor; name offsets are relative to the first descriptor.
TEST(BoundImportsTest, ForwarderReferences) {
  PeBuilder b(true);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_bound_imports({{std::string(120, 'x'), 1}});  // reserves room in the headers for the blob below
  BuiltPe pe = b.build();
  const uint32_t at = pe.bound_import_offset;
  auto desc = [&](uint32_t i, uint32_t ts, uint16_t name, uint16_t refs) {
    pe.put32(at + 8 * i, ts);
    pe.put16(at + 8 * i + 4, name);
    pe.put16(at + 8 * i + 6, refs);
  };
  auto str = [&](uint32_t off, std::string_view s) {
    for (size_t i = 0; i <= s.size(); ++i) pe.put8(at + off + static_cast<uint32_t>(i), i < s.size() ? s[i] : 0);
  };
  desc(0, 0x11111111, 40, 2);  // A.dll, with two forwarder refs
  desc(1, 0x22222222, 46, 0);  //   NTDLL.dll
  desc(2, 0x44444444, 56, 0);  //   KERNELBASE.dll
  desc(3, 0x33333333, 71, 0);  // B.dll
  desc(4, 0, 0, 0);
  str(40, "A.dll");
  str(46, "NTDLL.dll");
  str(56, "KERNELBASE.dll");
  str(71, "B.dll");
  pe.put32(pe.data_dir_entry_offset(kDirBoundImport) + 4, 77);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_bound_imports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->modules.size(), 2u);
  EXPECT_EQ(r->modules[0].dll, "A.dll");
  EXPECT_EQ(r->modules[0].time_date_stamp, 0x11111111u);
  ASSERT_EQ(r->modules[0].forwarders.size(), 2u);
  EXPECT_EQ(r->modules[0].forwarders[0].dll, "NTDLL.dll");
  EXPECT_EQ(r->modules[0].forwarders[0].time_date_stamp, 0x22222222u);
  EXPECT_EQ(r->modules[0].forwarders[1].dll, "KERNELBASE.dll");
  EXPECT_EQ(r->modules[0].forwarders[1].time_date_stamp, 0x44444444u);
  EXPECT_EQ(r->modules[1].dll, "B.dll");
  EXPECT_EQ(r->modules[1].time_date_stamp, 0x33333333u);
  EXPECT_TRUE(r->modules[1].forwarders.empty());
}

// ===============================================================================================================
// Exports
// ===============================================================================================================

// Ordinal base 5. Slots: 0 Zeta, 1 Alpha, 2 NONAME, 3 Fwd (forwarder), 7 FwdOrd (forwarder); 4..6 are empty.
PeBuilder exports_image(bool p) {
  PeBuilder b(p);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_exports("test.dll", 5,
                {{.name = "Zeta"},
                 {.name = "Alpha", .rva = 0x1020},
                 {.name = "", .noname = true},
                 {.name = "Fwd", .forwarder = "KERNEL32.ExitProcess"},
                 {.name = "FwdOrd", .forwarder = "WS2_32.#12", .ordinal = 12}});
  return b;
}

const ExportEntry* by_ordinal(const Exports& e, uint32_t ordinal) {
  for (const auto& x : e.entries)
    if (x.ordinal == ordinal) return &x;
  return nullptr;
}

class ExportsTest : public testing::TestWithParam<bool> {};

TEST_P(ExportsTest, OrdinalBaseNamesNonameAndForwarders) {
  const BuiltPe pe = exports_image(GetParam()).build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_exports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  EXPECT_TRUE(r->present);
  EXPECT_TRUE(r->names_sorted);
  EXPECT_EQ(r->dll_name, "test.dll");
  EXPECT_EQ(r->directory.Base, 5u);
  EXPECT_EQ(r->directory.NumberOfFunctions, 8u);
  EXPECT_EQ(r->directory.NumberOfNames, 4u);
  ASSERT_EQ(r->entries.size(), 5u);  // empty slots 4..6 are left out

  struct Want {
    uint32_t ordinal;
    std::string name;
    uint32_t name_index;
    std::optional<uint32_t> rva;
    std::string forwarder;
  };
  const std::vector<Want> want = {
      {5, "Zeta", 3, 0x1000, ""},
      {6, "Alpha", 0, 0x1020, ""},
      {7, "", 0, 0x1020, ""},  // NONAME
      {8, "Fwd", 1, std::nullopt, "KERNEL32.ExitProcess"},
      {12, "FwdOrd", 2, std::nullopt, "WS2_32.#12"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    const ExportEntry& e = r->entries[i];
    SCOPED_TRACE("ordinal " + std::to_string(want[i].ordinal));
    EXPECT_EQ(e.ordinal, want[i].ordinal);
    EXPECT_EQ(e.name, want[i].name);
    if (!want[i].name.empty()) {
      EXPECT_EQ(e.name_index, want[i].name_index);
    }
    if (want[i].rva) {
      EXPECT_EQ(e.rva, *want[i].rva);
    }
    EXPECT_EQ(e.forwarder, want[i].forwarder);
    EXPECT_EQ(e.is_forwarder(), !want[i].forwarder.empty());
  }
  // Forwarder RVAs lie inside the export directory.
  const ExportEntry* fwd = by_ordinal(*r, 8);
  const DataDirectory dir = img->directory(kDirExport);
  EXPECT_GE(fwd->rva, dir.VirtualAddress);
  EXPECT_LT(fwd->rva, dir.VirtualAddress + dir.Size);

  auto by_name = split_forwarder(fwd->forwarder);
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(by_name->dll, "KERNEL32");
  EXPECT_EQ(by_name->function, "ExitProcess");
  EXPECT_FALSE(by_name->by_ordinal);
  auto by_ord = split_forwarder(by_ordinal(*r, 12)->forwarder);
  ASSERT_TRUE(by_ord.has_value());
  EXPECT_EQ(by_ord->dll, "WS2_32");
  EXPECT_TRUE(by_ord->by_ordinal);
  EXPECT_EQ(by_ord->ordinal, 12u);
  EXPECT_TRUE(by_ord->function.empty());
}

TEST_P(ExportsTest, UnsortedNamesAreFlagged) {
  BuiltPe pe = exports_image(GetParam()).build();
  const uint32_t ed = file_off(pe, pe.export_rva);
  const uint32_t names = file_off(pe, pe.get32(ed + 32)), ords = file_off(pe, pe.get32(ed + 36));
  // Swap name #0 (Alpha) and #1 (Fwd) with their ordinals: the table stays consistent but unsorted.
  const uint32_t n0 = pe.get32(names), n1 = pe.get32(names + 4);
  const uint16_t o0 = pe.get16(ords), o1 = pe.get16(ords + 2);
  pe.put32(names, n1);
  pe.put32(names + 4, n0);
  pe.put16(ords, o1);
  pe.put16(ords + 2, o0);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_exports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_FALSE(r->names_sorted);
  const Error* w = find_warning(r->warnings, "export name pointer table", "names are not in ascending order");
  ASSERT_NE(w, nullptr) << describe(r->warnings);
  EXPECT_EQ(w->where.value, pe.get32(ed + 32));
  EXPECT_EQ(by_ordinal(*r, 6)->name, "Alpha");
  EXPECT_EQ(by_ordinal(*r, 6)->name_index, 1u);
  EXPECT_EQ(by_ordinal(*r, 8)->name, "Fwd");
  EXPECT_EQ(by_ordinal(*r, 8)->name_index, 0u);
}

TEST_P(ExportsTest, HugeNumberOfFunctionsIsClippedAndTerminates) {
  BuiltPe pe = exports_image(GetParam()).build();
  const uint32_t ed = file_off(pe, pe.export_rva);
  pe.put32(ed + 20, 0xFFFFFFFFu);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_exports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const uint64_t max_slots = img->mapped_size() / 4;
  const Error* clip =
      find_warning(r->warnings, "export directory",
                   "NumberOfFunctions 4294967295 does not fit in the image; using " + std::to_string(max_slots));
  ASSERT_NE(clip, nullptr) << describe(r->warnings);
  EXPECT_EQ(clip->where.value, pe.export_rva);
  // The walk leaves the image at the end of .edata and stops there.
  const uint32_t eat = pe.get32(ed + 28);
  const uint64_t stop_slot = (img->mapped_size() - eat) / 4;
  const Error* stop = find_warning(r->warnings, "export address table",
                                   "slot " + std::to_string(stop_slot) + " lies outside the mapped image");
  ASSERT_NE(stop, nullptr) << describe(r->warnings);
  EXPECT_EQ(stop->where.value, eat + stop_slot * 4);
  // The real exports are still there, with their names.
  EXPECT_EQ(by_ordinal(*r, 5)->name, "Zeta");
  EXPECT_EQ(by_ordinal(*r, 12)->name, "FwdOrd");
  EXPECT_EQ(by_ordinal(*r, 12)->forwarder, "WS2_32.#12");
}

TEST_P(ExportsTest, HugeNumberOfNamesIsClipped) {
  BuiltPe pe = exports_image(GetParam()).build();
  pe.put32(file_off(pe, pe.export_rva) + 24, 0xFFFFFFFFu);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_exports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_NE(find_warning(r->warnings, "export directory", "NumberOfNames 4294967295 is more than this file can hold"),
            nullptr)
      << describe(r->warnings);
  EXPECT_EQ(by_ordinal(*r, 6)->name, "Alpha");
}

TEST_P(ExportsTest, NameOrdinalPastNumberOfFunctions) {
  BuiltPe pe = exports_image(GetParam()).build();
  const uint32_t ed = file_off(pe, pe.export_rva);
  const uint32_t ords_rva = pe.get32(ed + 36);
  pe.put16(file_off(pe, ords_rva), 100);  // Alpha's ordinal index
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_exports(*img);
  ASSERT_TRUE(r.has_value());
  const Error* w = find_warning(r->warnings, "export name Alpha", "ordinal index 100 is past NumberOfFunctions 8");
  ASSERT_NE(w, nullptr) << describe(r->warnings);
  EXPECT_EQ(w->where.value, ords_rva);
  EXPECT_EQ(by_ordinal(*r, 6)->name, "");  // slot 1 lost its name
  EXPECT_EQ(r->entries.size(), 5u);
}

// A forwarder is an RVA inside [VirtualAddress, VirtualAddress + Size): with Size 0 there are none.
TEST_P(ExportsTest, DirectorySizeZeroMeansNoForwarders) {
  BuiltPe pe = exports_image(GetParam()).build();
  pe.put32(pe.data_dir_entry_offset(kDirExport) + 4, 0);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_exports(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->present);
  EXPECT_EQ(r->entries.size(), 5u);
  EXPECT_FALSE(by_ordinal(*r, 8)->is_forwarder());
  EXPECT_FALSE(by_ordinal(*r, 12)->is_forwarder());
  EXPECT_EQ(by_ordinal(*r, 5)->name, "Zeta");
}

TEST_P(ExportsTest, NoDirectory) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x100)});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_exports(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->present);
  EXPECT_TRUE(r->entries.empty());
}

INSTANTIATE_TEST_SUITE_P(Formats, ExportsTest, testing::Bool(), unit::format_param_name);

TEST(SplitForwarder, Forms) {
  struct Case {
    std::string_view in;
    std::optional<ForwarderTarget> want;
  };
  const std::vector<Case> cases = {
      {"KERNEL32.ExitProcess", ForwarderTarget{"KERNEL32", "ExitProcess", 0, false}},
      {"NTDLL.#12", ForwarderTarget{"NTDLL", "", 12, true}},
      {"api-ms-win-core-synch-l1-2-0.Sleep", ForwarderTarget{"api-ms-win-core-synch-l1-2-0", "Sleep", 0, false}},
      {"a.b.Func", ForwarderTarget{"a.b", "Func", 0, false}},  // split at the last dot
      {"NoDot", std::nullopt},
      {".Func", std::nullopt},
      {"DLL.", std::nullopt},
      {"DLL.#x", std::nullopt},
      {"DLL.#12x", std::nullopt},
      {"DLL.#99999999999", std::nullopt},  // does not fit an ordinal
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.in));
    const auto got = split_forwarder(c.in);
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (!got) continue;
    EXPECT_EQ(got->dll, c.want->dll);
    EXPECT_EQ(got->function, c.want->function);
    EXPECT_EQ(got->ordinal, c.want->ordinal);
    EXPECT_EQ(got->by_ordinal, c.want->by_ordinal);
  }
}

// ===============================================================================================================
// Base relocations
// ===============================================================================================================

// .text covers 0x1000..0x3000; .reloc at 0x3000 holds block 0 (14 bytes) at 0x3000 and block 1 (16 bytes) at 0x300e.
BuiltPe relocs_image(bool p, std::vector<test::RelocBlock> blocks = {}) {
  PeBuilder b(p);
  b.add_section({.name = ".text", .virtual_size = 0x2000, .data = pattern(0x100)});
  if (blocks.empty()) blocks = {{0x1000, {0x3000, 0x3004, 0x0000}}, {0x2000, {0xA010, 0x3010, 0x0000, 0x0000}}};
  b.add_relocs(std::move(blocks));
  return b.build();
}

std::vector<RelocEntry> entries_of(const Relocations& r) {
  std::vector<RelocEntry> out;
  r.for_each([&](const RelocEntry& e) { out.push_back(e); });
  return out;
}

class Relocs : public testing::TestWithParam<bool> {};

TEST_P(Relocs, BlocksEntriesAndTypes) {
  const BuiltPe pe = relocs_image(GetParam());
  ASSERT_EQ(pe.reloc_rva, 0x3000u);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  EXPECT_EQ(r->machine, GetParam() ? machine::amd64 : machine::i386);
  ASSERT_EQ(r->blocks.size(), 2u);
  EXPECT_EQ(r->blocks[0].rva, 0x3000u);
  EXPECT_EQ(r->blocks[0].page_rva, 0x1000u);
  EXPECT_EQ(r->blocks[0].size_of_block, 14u);
  EXPECT_EQ(r->blocks[0].slot_count, 3u);
  EXPECT_EQ(r->blocks[0].slots.size(), 6u);
  EXPECT_EQ(r->blocks[1].rva, 0x300eu);
  EXPECT_EQ(r->blocks[1].page_rva, 0x2000u);
  EXPECT_EQ(r->blocks[1].slot_count, 4u);
  EXPECT_EQ(r->entry_count(), 7u);

  const auto e = entries_of(*r);
  ASSERT_EQ(e.size(), 7u);
  struct Want {
    uint8_t type;
    uint32_t rva, slot_rva;
  };
  const Want want[] = {{reloc_type::highlow, 0x1000, 0x3008},  {reloc_type::highlow, 0x1004, 0x300a},
                       {reloc_type::absolute, 0x1000, 0x300c}, {reloc_type::dir64, 0x2010, 0x3016},
                       {reloc_type::highlow, 0x2010, 0x3018},  {reloc_type::absolute, 0x2000, 0x301a},
                       {reloc_type::absolute, 0x2000, 0x301c}};
  int counts[16] = {};
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].type, want[i].type) << i;
    EXPECT_EQ(e[i].rva, want[i].rva) << i;
    EXPECT_EQ(e[i].slot_rva, want[i].slot_rva) << i;
    EXPECT_FALSE(e[i].highadj_param.has_value());
    ++counts[e[i].type];
  }
  EXPECT_EQ(e[3].raw, 0xA010u);
  EXPECT_EQ(counts[reloc_type::highlow], 3);
  EXPECT_EQ(counts[reloc_type::dir64], 1);
  EXPECT_EQ(counts[reloc_type::absolute], 3);
}

TEST_P(Relocs, HighAdjTakesTheNextSlot) {
  const BuiltPe pe = relocs_image(GetParam(), {{0x1000, {0x4010, 0x1234, 0x3020, 0x4030}}});
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->blocks[0].slot_count, 4u);
  EXPECT_EQ(r->entry_count(), 3u);  // HIGHADJ and its parameter count once
  const auto e = entries_of(*r);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].type, reloc_type::highadj);
  EXPECT_EQ(e[0].rva, 0x1010u);
  ASSERT_TRUE(e[0].highadj_param.has_value());
  EXPECT_EQ(*e[0].highadj_param, 0x1234u);
  EXPECT_EQ(e[1].type, reloc_type::highlow);
  EXPECT_EQ(e[1].rva, 0x1020u);
  EXPECT_EQ(e[1].slot_rva, pe.reloc_rva + 8 + 4);
  // A HIGHADJ in the last slot has no parameter.
  EXPECT_EQ(e[2].type, reloc_type::highadj);
  EXPECT_FALSE(e[2].highadj_param.has_value());
}

TEST_P(Relocs, SizeOfBlockZeroStops) {
  BuiltPe pe = relocs_image(GetParam());
  pe.put32(file_off(pe, 0x300e) + 4, 0);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->blocks.size(), 1u);
  EXPECT_EQ(r->entry_count(), 3u);
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
}

TEST_P(Relocs, SizeOfBlockBelowHeaderWarnsAndStops) {
  BuiltPe pe = relocs_image(GetParam());
  pe.put32(file_off(pe, 0x300e) + 4, 4);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->blocks.size(), 1u);
  ASSERT_EQ(r->warnings.size(), 1u) << describe(r->warnings);
  const Error& w = r->warnings[0];
  EXPECT_EQ(w.status, Status::invalid_image_format);
  EXPECT_EQ(w.structure, "base relocation block");
  EXPECT_EQ(w.where.kind, Location::Kind::rva);
  EXPECT_EQ(w.where.value, 0x300eu);
  EXPECT_EQ(w.message, "SizeOfBlock 4 is smaller than its 8-byte header");
}

TEST_P(Relocs, BlockPastTheDirectoryIsClipped) {
  BuiltPe pe = relocs_image(GetParam());
  ASSERT_EQ(pe.get32(pe.data_dir_entry_offset(kDirBaseReloc) + 4), 30u);
  pe.put32(pe.data_dir_entry_offset(kDirBaseReloc) + 4, 26);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->blocks.size(), 2u);
  EXPECT_EQ(r->blocks[1].size_of_block, 16u);
  EXPECT_EQ(r->blocks[1].slot_count, 2u);
  EXPECT_EQ(r->entry_count(), 5u);
  const Error* w = find_warning(r->warnings, "base relocation block",
                                "SizeOfBlock 0x10 runs past the end of the directory; clipped to it");
  ASSERT_NE(w, nullptr) << describe(r->warnings);
  EXPECT_EQ(w->where.value, 0x300eu);
  EXPECT_EQ(w->status, Status::success);
}

TEST_P(Relocs, PageOutsideImageWarnsAndStops) {
  BuiltPe pe = relocs_image(GetParam());
  pe.put32(file_off(pe, 0x300e), 0x7fff0000);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->blocks.size(), 1u);
  ASSERT_EQ(r->warnings.size(), 1u) << describe(r->warnings);
  EXPECT_EQ(r->warnings[0].where.value, 0x300eu);
  EXPECT_EQ(r->warnings[0].message,
            "page RVA 0x7fff0000 is outside the image (SizeOfImage 0x4000); the loader stops here");
}

TEST_P(Relocs, DirectorySizeZeroHasNoBlocks) {
  BuiltPe pe = relocs_image(GetParam());
  pe.put32(pe.data_dir_entry_offset(kDirBaseReloc) + 4, 0);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_relocations(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->blocks.empty());
  EXPECT_EQ(r->entry_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Formats, Relocs, testing::Bool(), unit::format_param_name);

TEST(RelocTypeName, DependsOnTheMachine) {
  struct Case {
    uint8_t type;
    uint16_t machine;
    std::string_view name;
  };
  const Case cases[] = {
      {0, machine::i386, "ABSOLUTE"},
      {1, machine::i386, "HIGH"},
      {2, machine::i386, "LOW"},
      {3, machine::i386, "HIGHLOW"},
      {4, machine::i386, "HIGHADJ"},
      {10, machine::amd64, "DIR64"},
      {5, machine::i386, "MACHINE_SPECIFIC_5"},
      {5, machine::armnt, "ARM_MOV32"},
      {5, machine::arm, "ARM_MOV32"},
      {7, machine::thumb, "THUMB_MOV32"},
      {7, machine::armnt, "THUMB_MOV32"},
      {5, machine::r4000, "MIPS_JMPADDR"},
      {9, machine::r4000, "MIPS_JMPADDR16"},
      {9, machine::mipsfpu, "MIPS_JMPADDR16"},
      {9, machine::ia64, "IA64_IMM64"},
      {9, machine::amd64, "MACHINE_SPECIFIC_9"},
      {5, machine::riscv64, "RISCV_HIGH20"},
      {7, machine::riscv32, "RISCV_LOW12I"},
      {8, machine::riscv128, "RISCV_LOW12S"},
      {8, machine::loongarch32, "LOONGARCH32_MARK_LA"},
      {8, machine::loongarch64, "LOONGARCH64_MARK_LA"},
      {8, machine::arm64, "MACHINE_SPECIFIC_8"},
      {5, machine::arm64, "MACHINE_SPECIFIC_5"},
      {6, machine::i386, "RESERVED"},
      {11, machine::amd64, "UNKNOWN"},
      {15, machine::arm64, "UNKNOWN"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(reloc_type_name(c.type, c.machine), c.name) << "type " << int{c.type} << " machine " << c.machine;
  EXPECT_EQ(reloc_width(reloc_type::absolute), 0u);
  EXPECT_EQ(reloc_width(reloc_type::highlow), 4u);
  EXPECT_EQ(reloc_width(reloc_type::dir64), 8u);
  EXPECT_EQ(reloc_width(reloc_type::high), 2u);
  EXPECT_EQ(reloc_width(reloc_type::highadj), 2u);
}

// ===============================================================================================================
// TLS
// ===============================================================================================================

class TlsTest : public testing::TestWithParam<bool> {};

TEST_P(TlsTest, CallbacksAreVasUpToNull) {
  const bool p = GetParam();
  const uint64_t ib = default_image_base(p);
  PeBuilder b(p);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_tls({ib + 0x1010, ib + 0x1020}, 0x30);
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_tls(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  EXPECT_TRUE(r->present);
  EXPECT_EQ(r->callbacks, (std::vector<uint64_t>{ib + 0x1010, ib + 0x1020}));
  // Builder layout: directory, callbacks (8-aligned), index slot, 16-byte template.
  const uint64_t base = ib + pe.tls_rva;
  const uint64_t cb = p ? 40 : 24, index = p ? 64 : 40, tmpl = p ? 72 : 48;
  EXPECT_EQ(r->address_of_callbacks, base + cb);
  EXPECT_EQ(r->address_of_index, base + index);
  EXPECT_EQ(r->start_of_raw_data, base + tmpl);
  EXPECT_EQ(r->end_of_raw_data, base + tmpl + 16);
  EXPECT_EQ(r->size_of_zero_fill, 0x30u);
  EXPECT_EQ(r->characteristics, 0u);
  auto bytes = img->copy_range(*img->va_to_rva(r->start_of_raw_data), 16, "TLS template");
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(std::to_integer<uint8_t>((*bytes)[0]), 0x11u);
  EXPECT_EQ(std::to_integer<uint8_t>((*bytes)[15]), 0x20u);
}

// The loader ignores the TLS directory's Size (corkami tls*.exe set it to 0).
TEST_P(TlsTest, DirectorySizeZeroIsStillParsed) {
  const bool p = GetParam();
  const uint64_t ib = default_image_base(p);
  PeBuilder b(p);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_tls({ib + 0x1004});
  BuiltPe pe = b.build();
  pe.put32(pe.data_dir_entry_offset(kDirTls) + 4, 0);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_tls(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->present);
  EXPECT_EQ(r->callbacks, (std::vector<uint64_t>{ib + 0x1004}));
}

TEST_P(TlsTest, EmptyCallbackArray) {
  PeBuilder b(GetParam());
  b.add_tls({});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_tls(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->present);
  EXPECT_NE(r->address_of_callbacks, 0u);
  EXPECT_TRUE(r->callbacks.empty());
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
}

// AddressOfCallBacks holding an RVA instead of a VA lies outside the image at its preferred base.
TEST_P(TlsTest, CallbackArrayAddressNotAVa) {
  const bool p = GetParam();
  const uint64_t ib = default_image_base(p);
  PeBuilder b(p);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_tls({ib + 0x1004});
  BuiltPe pe = b.build();
  const uint32_t field = file_off(pe, pe.tls_rva) + (p ? 24 : 12);
  const uint32_t rva = pe.tls_rva + (p ? 40 : 24);
  if (p)
    pe.put64(field, rva);
  else
    pe.put32(field, rva);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_tls(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->present);
  EXPECT_TRUE(r->callbacks.empty());
  ASSERT_EQ(r->warnings.size(), 1u) << describe(r->warnings);
  EXPECT_EQ(r->warnings[0].structure, "TLS directory");
  EXPECT_EQ(r->warnings[0].where.value, pe.tls_rva);
  EXPECT_EQ(r->warnings[0].message, "AddressOfCallBacks 0x" + (std::ostringstream() << std::hex << rva).str() +
                                        " is outside the image at its preferred base");
}

TEST_P(TlsTest, NoDirectory) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x100)});
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_tls(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->present);
}

INSTANTIATE_TEST_SUITE_P(Formats, TlsTest, testing::Bool(), unit::format_param_name);

// ===============================================================================================================
// Load configuration
// ===============================================================================================================

TEST(LoadConfigTest, SecurityCookieIsFull64BitOnPe32Plus) {
  PeBuilder b(true);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_load_config(0x140, 0x0000000140002000ull);
  BuiltPe pe = b.build();
  const uint32_t lc = file_off(pe, pe.load_config_rva);
  pe.put32(lc + 0x90, 0x10500);                 // GuardFlags
  pe.put64(lc + 0x138, 0xFFFF800012345678ull);  // GuardMemcpyFunctionPointer, the last field
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_load_config(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  EXPECT_TRUE(r->present);
  EXPECT_EQ(r->size, 0x140u);
  EXPECT_EQ(r->security_cookie(), 0x0000000140002000ull);
  EXPECT_EQ(r->get("GuardFlags"), 0x10500u);
  EXPECT_EQ(r->get("GuardMemcpyFunctionPointer"), 0xFFFF800012345678ull);
  EXPECT_EQ(r->fields.size(), 52u);
  EXPECT_EQ(r->fields.back().name, "GuardMemcpyFunctionPointer");
  EXPECT_EQ(r->fields.back().offset + r->fields.back().width, 0x140u);
  EXPECT_FALSE(r->get("NoSuchField").has_value());
}

// winnt.h offsets of IMAGE_LOAD_CONFIG_DIRECTORY32 / 64.
TEST(LoadConfigTest, FieldOffsetsFollowWinnt) {
  struct Want {
    std::string_view name;
    uint32_t off32, off64;
    unsigned w32, w64;
  };
  const Want want[] = {
      {"Size", 0x00, 0x00, 4, 4},
      {"CriticalSectionDefaultTimeout", 0x14, 0x14, 4, 4},
      {"DeCommitFreeBlockThreshold", 0x18, 0x18, 4, 8},
      {"ProcessHeapFlags", 0x2c, 0x48, 4, 4},  // winnt.h: PE32 puts it before ProcessAffinityMask
      {"ProcessAffinityMask", 0x30, 0x40, 4, 8},
      {"DependentLoadFlags", 0x36, 0x4e, 2, 2},
      {"SecurityCookie", 0x3c, 0x58, 4, 8},
      {"SEHandlerTable", 0x40, 0x60, 4, 8},
      {"GuardCFCheckFunctionPointer", 0x48, 0x70, 4, 8},
      {"GuardFlags", 0x58, 0x90, 4, 4},
      {"CodeIntegrity.Flags", 0x5c, 0x94, 2, 2},
      {"GuardAddressTakenIatEntryTable", 0x68, 0xa0, 4, 8},
      {"DynamicValueRelocTableOffset", 0x88, 0xe0, 4, 4},
      {"HotPatchTableOffset", 0x94, 0xf0, 4, 4},
      {"EnclaveConfigurationPointer", 0x9c, 0xf8, 4, 8},
      {"GuardEHContinuationTable", 0xa4, 0x108, 4, 8},
      {"GuardXFGCheckFunctionPointer", 0xac, 0x118, 4, 8},
      {"GuardMemcpyFunctionPointer", 0xbc, 0x138, 4, 8},
  };
  for (bool p : {false, true}) {
    PeBuilder b(p);
    b.add_load_config(p ? 0x140 : 0xc0, 0);
    const BuiltPe pe = b.build();
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value());
    auto r = parse_load_config(*img);
    ASSERT_TRUE(r.has_value());
    for (const auto& w : want) {
      const LoadConfigField* f = nullptr;
      for (const auto& x : r->fields)
        if (x.name == w.name) f = &x;
      ASSERT_NE(f, nullptr) << w.name;
      EXPECT_EQ(f->offset, p ? w.off64 : w.off32) << w.name << (p ? " PE32+" : " PE32");
      EXPECT_EQ(f->width, p ? w.w64 : w.w32) << w.name << (p ? " PE32+" : " PE32");
    }
  }
}

// A field exists only when it fits in the structure's own Size field.
TEST(LoadConfigTest, FieldsPresentOnlyWithinSize) {
  {
    PeBuilder b(false);
    b.add_load_config(0x40, 0x403000);
    const BuiltPe pe = b.build();
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value());
    auto r = parse_load_config(*img);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
    EXPECT_EQ(r->security_cookie(), 0x403000u);
    EXPECT_EQ(r->fields.back().name, "SecurityCookie");
    EXPECT_FALSE(r->get("SEHandlerTable").has_value());
    EXPECT_FALSE(r->get("SEHandlerCount").has_value());
  }
  {
    PeBuilder b(false);
    b.add_load_config(0x48, 0x403000);
    const BuiltPe pe = b.build();
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value());
    auto r = parse_load_config(*img);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->get("SEHandlerTable"), 0u);
    EXPECT_EQ(r->get("SEHandlerCount"), 0u);
    EXPECT_FALSE(r->get("GuardCFCheckFunctionPointer").has_value());
  }
  {
    // In PE32+ 0x40 bytes end before the cookie at 0x58.
    PeBuilder b(true);
    b.add_load_config(0x40, 0x140003000ull);
    const BuiltPe pe = b.build();
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value());
    auto r = parse_load_config(*img);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->security_cookie().has_value());
    EXPECT_EQ(r->fields.back().name, "VirtualMemoryThreshold");
  }
}

TEST(LoadConfigTest, SizeFieldAgainstDirectorySize) {
  {
    PeBuilder b(false);
    b.add_load_config(0x94, 0x403000);
    BuiltPe pe = b.build();
    pe.put32(pe.data_dir_entry_offset(kDirLoadConfig) + 4, 0x48);
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value());
    auto r = parse_load_config(*img);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->warnings.size(), 1u) << describe(r->warnings);
    EXPECT_EQ(r->warnings[0].message,
              "Size field 0x94 differs from the data directory's 0x48; the loader trusts the field");
    EXPECT_EQ(r->warnings[0].where.value, pe.load_config_rva);
    EXPECT_EQ(r->size, 0x94u);
    EXPECT_EQ(r->fields.back().offset + r->fields.back().width, 0x94u);  // the field wins
  }
  {
    // link.exe of the XP era wrote 0x40 in the directory whatever the structure's size.
    PeBuilder b(false);
    b.add_load_config(0x48, 0x403000);
    BuiltPe pe = b.build();
    pe.put32(pe.data_dir_entry_offset(kDirLoadConfig) + 4, 0x40);
    auto img = parse(pe);
    ASSERT_TRUE(img.has_value());
    auto r = parse_load_config(*img);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
    EXPECT_TRUE(r->get("SEHandlerCount").has_value());
  }
}

// ===============================================================================================================
// Debug directory
// ===============================================================================================================

constexpr std::array<uint8_t, 16> kGuid = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                           0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

class DebugTest : public testing::TestWithParam<bool> {};

TEST_P(DebugTest, CodeViewRsds) {
  PeBuilder b(GetParam());
  b.add_section({.name = ".text", .data = pattern(0x100)});
  b.add_debug_codeview("C:\\build\\pemap.pdb", kGuid, 3);
  const BuiltPe pe = b.build();
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = parse_debug(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->entries.size(), 1u);
  const DebugEntry& e = r->entries[0];
  EXPECT_EQ(e.raw.Type, 2u);
  EXPECT_EQ(debug_type_name(e.raw.Type), "CODEVIEW");
  EXPECT_EQ(e.raw.AddressOfRawData, pe.debug_rva + 28);
  EXPECT_EQ(e.raw.PointerToRawData, file_off(pe, pe.debug_rva) + 28);
  EXPECT_EQ(e.raw.SizeOfData, 24u + 19u);
  ASSERT_TRUE(e.codeview.has_value());
  EXPECT_EQ(e.codeview->signature, "RSDS");
  EXPECT_EQ(e.codeview->guid, kGuid);
  EXPECT_EQ(e.codeview->age, 3u);
  EXPECT_EQ(e.codeview->pdb_path, "C:\\build\\pemap.pdb");
}

TEST_P(DebugTest, CodeViewNb10AndBadSignature) {
  PeBuilder b(GetParam());
  b.add_debug_codeview("C:\\build\\pemap.pdb", kGuid, 3);
  BuiltPe pe = b.build();
  const uint32_t rec = file_off(pe, pe.debug_rva) + 28;
  const BuiltPe rsds = pe;
  // NB10: signature, offset, timestamp, age, path.
  pe.put32(rec, 0x3031424E);
  pe.put32(rec + 4, 0);
  pe.put32(rec + 8, 0x12345678);
  pe.put32(rec + 12, 7);
  for (uint32_t i = 0; i < 8; ++i) pe.put8(rec + 16 + i, "old.pdb"[i]);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_debug(*img);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->entries[0].codeview.has_value());
  EXPECT_EQ(r->entries[0].codeview->signature, "NB10");
  EXPECT_EQ(r->entries[0].codeview->age, 7u);
  EXPECT_EQ(r->entries[0].codeview->pdb_path, "old.pdb");

  pe = rsds;
  pe.put32(rec, 0x58585858);  // "XXXX"
  img = parse(pe);
  ASSERT_TRUE(img.has_value());
  r = parse_debug(*img);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_FALSE(r->entries[0].codeview.has_value());
  const Error* w = find_warning(r->warnings, "CodeView record", "neither an RSDS nor an NB10 signature");
  ASSERT_NE(w, nullptr) << describe(r->warnings);
  EXPECT_EQ(w->where.kind, Location::Kind::file_offset);
  EXPECT_EQ(w->where.value, rec);
}

TEST_P(DebugTest, SizeNotAMultipleOf28) {
  PeBuilder b(GetParam());
  b.add_debug_codeview("x.pdb", kGuid, 1);
  BuiltPe pe = b.build();
  pe.put32(pe.data_dir_entry_offset(kDirDebug) + 4, 30);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  auto r = parse_debug(*img);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->entries.size(), 1u);
  EXPECT_NE(find_warning(r->warnings, "debug directory", "Size 30 is not a multiple of 28"), nullptr)
      << describe(r->warnings);
}

// Only entries backed by file bytes are listed (fuzz_parse found a huge Size over zero fill listing millions).
TEST_P(DebugTest, HugeSizeStopsWhereTheFileBytesEnd) {
  PeBuilder b(GetParam());
  b.add_debug_codeview("x.pdb", kGuid, 1);
  BuiltPe pe = b.build();
  pe.put32(pe.data_dir_entry_offset(kDirDebug) + 4, 28 * 100000);
  auto img = parse(pe);
  ASSERT_TRUE(img.has_value());
  ASSERT_EQ(img->section_at(pe.debug_rva)->file_size, 0x200u);
  auto r = parse_debug(*img);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  // 18 * 28 = 504 bytes; entry 18 starts in the file and runs into zero fill, so it is read as mapped.
  EXPECT_EQ(r->entries.size(), 19u);
  ASSERT_TRUE(r->entries[0].codeview.has_value());
  EXPECT_EQ(r->entries[0].codeview->pdb_path, "x.pdb");
  const Error* w = find_warning(r->warnings, "debug directory", "entries 19 to 99999 lie outside the file's bytes");
  ASSERT_NE(w, nullptr) << describe(r->warnings);
  EXPECT_EQ(w->where.value, pe.debug_rva + 19 * 28);
}

INSTANTIATE_TEST_SUITE_P(Formats, DebugTest, testing::Bool(), unit::format_param_name);

TEST(DebugTypeName, Names) {
  EXPECT_EQ(debug_type_name(0), "UNKNOWN");
  EXPECT_EQ(debug_type_name(2), "CODEVIEW");
  EXPECT_EQ(debug_type_name(13), "POGO");
  EXPECT_EQ(debug_type_name(16), "REPRO");
  EXPECT_EQ(debug_type_name(17), "OTHER");
  EXPECT_EQ(debug_type_name(20), "EX_DLLCHARACTERISTICS");
  EXPECT_EQ(debug_type_name(1000), "OTHER");
}

}  // namespace
}  // namespace pemap::pe
