// Our parser on the testdata images: every property testdata/MANIFEST.tsv and README.md claim, checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "mapped_file.hpp"
#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"
#include "support/files.hpp"

namespace pemap::test {
namespace {

struct Loaded {
  MappedFile file;
  pe::Image image;
};

Loaded load(const std::string& rel) {
  auto f = MappedFile::open((testdata_dir() / "bin" / rel).string());
  if (!f) throw std::runtime_error(f.error().to_string());
  auto img = pe::Image::parse(f->bytes());
  if (!img) throw std::runtime_error(rel + ": " + img.error().to_string());
  return Loaded{std::move(*f), std::move(*img)};
}

std::map<std::string, uint64_t> reloc_counts(const pe::Image& image) {
  std::map<std::string, uint64_t> out;
  auto r = pe::parse_relocations(image);
  EXPECT_TRUE(r.has_value());
  if (r) r->for_each([&](const pe::RelocEntry& e) { ++out[std::string(pe::reloc_type_name(e.type, r->machine))]; });
  return out;
}

TEST(Testdata, EveryManifestRowHoldsAndEveryDirectoryParsesCleanly) {
  const auto rows = read_tsv(testdata_dir() / "MANIFEST.tsv");
  ASSERT_GE(rows.size(), 38u);
  for (const auto& row : rows) {
    const std::string file = tsv_get(row, "file");
    SCOPED_TRACE(file);
    const auto l = load(file);
    const auto& img = l.image;
    EXPECT_EQ(img.is_pe32plus(), tsv_get(row, "arch") != "x86");
    EXPECT_EQ((img.file_header().Characteristics & pe::file_flag::dll) != 0, tsv_get(row, "kind") == "dll");
    EXPECT_EQ(img.image_base(), std::stoull(tsv_get(row, "image_base"), nullptr, 16));
    EXPECT_TRUE(img.warnings().empty()) << img.warnings().front().to_string();

    const auto relocs = pe::parse_relocations(img);
    ASSERT_TRUE(relocs.has_value());
    EXPECT_TRUE(relocs->warnings.empty());
    const bool stripped = img.file_header().Characteristics & pe::file_flag::relocs_stripped;
    const std::string want = tsv_get(row, "relocs");
    EXPECT_EQ(stripped, want == "stripped");
    EXPECT_EQ(relocs->entry_count() > 0, want == "yes");

    auto imports = pe::parse_imports(img);
    ASSERT_TRUE(imports.has_value());
    EXPECT_TRUE(imports->warnings.empty());
    auto exports = pe::parse_exports(img);
    ASSERT_TRUE(exports.has_value());
    EXPECT_TRUE(exports->warnings.empty());
    EXPECT_TRUE(exports->names_sorted);
    auto delay = pe::parse_delay_imports(img);
    ASSERT_TRUE(delay.has_value());
    EXPECT_TRUE(delay->warnings.empty());
    auto tls = pe::parse_tls(img);
    ASSERT_TRUE(tls.has_value());
    EXPECT_TRUE(tls->warnings.empty());
    EXPECT_TRUE(pe::parse_load_config(img).has_value());
    EXPECT_TRUE(pe::parse_debug(img).has_value());
  }
}

TEST(Testdata, BigRelocDllHas300000Dir64FixupsInDataPlusTwoInText) {
  const auto l = load("x64/bigreloc.dll");
  const auto counts = reloc_counts(l.image);
  EXPECT_EQ(counts.at("DIR64"), 300002u);
  auto r = pe::parse_relocations(l.image);
  EXPECT_EQ(r->blocks.size(), 587u);
}

TEST(Testdata, LibaHasFixupsInTextDataAndRdata) {
  for (const char* arch : {"x86", "x64"}) {
    SCOPED_TRACE(arch);
    const auto l = load(std::string(arch) + "/liba.dll");
    std::map<std::string, uint64_t> per_section;
    auto r = pe::parse_relocations(l.image);
    r->for_each([&](const pe::RelocEntry& e) {
      if (e.type == pe::reloc_type::absolute) return;
      const auto* s = l.image.section_at(e.rva);
      ASSERT_NE(s, nullptr);
      ++per_section[std::string(s->name)];
    });
    // The README's counts: x86 13/72/21 HIGHLOW, x64 2/72/21 DIR64.
    EXPECT_EQ(per_section[".text"], std::string(arch) == "x86" ? 13u : 2u);
    EXPECT_EQ(per_section[".data"], 72u);
    EXPECT_EQ(per_section[".rdata"], 21u);
  }
}

TEST(Testdata, LongSectionNamesResolveThroughTheStringTable) {
  const auto l = load("x64/longnames.exe");
  std::map<std::string, std::string> names;  // header field -> resolved
  for (const auto& s : l.image.sections()) {
    std::string field(s.header.Name.data(), strnlen(s.header.Name.data(), 8));
    names[field] = std::string(s.name);
  }
  EXPECT_EQ(names.at("/4"), ".debug_aranges");
  EXPECT_EQ(names.at("/19"), ".debug_info");
  EXPECT_EQ(names.at("/70"), ".debug_line_str");
  EXPECT_EQ(names.at(".text"), ".text");
}

TEST(Testdata, OrdlibExportsNonameOrdinalsFromBase5) {
  for (const char* arch : {"x86", "x64"}) {
    SCOPED_TRACE(arch);
    const auto l = load(std::string(arch) + "/ordlib.dll");
    auto ex = pe::parse_exports(l.image);
    ASSERT_TRUE(ex.has_value());
    EXPECT_EQ(ex->directory.Base, 5u);
    std::map<uint32_t, std::string> by_ordinal;
    for (const auto& e : ex->entries) by_ordinal[e.ordinal] = std::string(e.name);
    EXPECT_EQ(by_ordinal, (std::map<uint32_t, std::string>{{5, ""}, {6, ""}, {7, "ord_named"}, {10, ""}}));
  }
}

TEST(Testdata, OrdappImportsByOrdinal) {
  const auto l = load("x86/ordapp.exe");
  auto im = pe::parse_imports(l.image);
  ASSERT_TRUE(im.has_value());
  auto it = std::find_if(im->modules.begin(), im->modules.end(), [](const auto& m) { return m.dll == "ordlib.dll"; });
  ASSERT_NE(it, im->modules.end());
  std::vector<std::string> got;
  for (const auto& e : it->entries) got.push_back(e.by_ordinal ? "#" + std::to_string(e.ordinal) : std::string(e.name));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"#10", "#5", "#6", "ord_named"}));
}

TEST(Testdata, Fwd1ForwardsByNameByOrdinalAndAsAChain) {
  const auto l = load("x64/fwd1.dll");
  auto ex = pe::parse_exports(l.image);
  ASSERT_TRUE(ex.has_value());
  std::map<std::string, std::string> fwd;
  for (const auto& e : ex->entries)
    if (e.is_forwarder()) fwd[std::string(e.name)] = std::string(e.forwarder);
  EXPECT_EQ(fwd.at("Chain"), "fwd2.Chain");
  EXPECT_EQ(fwd.at("ByOrd"), "liba.#2");
  EXPECT_EQ(fwd.at("ToBUpper"), "LIBB.libb_twice");
  const auto by_ord = pe::split_forwarder(fwd.at("ByOrd"));
  ASSERT_TRUE(by_ord.has_value());
  EXPECT_TRUE(by_ord->by_ordinal);
  EXPECT_EQ(by_ord->ordinal, 2u);
  EXPECT_EQ(by_ord->dll, "liba");
  const auto l2 = load("x64/fwd2.dll");
  auto ex2 = pe::parse_exports(l2.image);
  auto chain = std::find_if(ex2->entries.begin(), ex2->entries.end(), [](const auto& e) { return e.name == "Chain"; });
  ASSERT_NE(chain, ex2->entries.end());
  EXPECT_EQ(chain->forwarder, "liba.liba_add");
}

TEST(Testdata, DelayappDelayImportsLibaInRvaForm) {
  for (const char* arch : {"x86", "x64"}) {
    SCOPED_TRACE(arch);
    const auto l = load(std::string(arch) + "/delayapp.exe");
    auto d = pe::parse_delay_imports(l.image);
    ASSERT_TRUE(d.has_value());
    ASSERT_EQ(d->modules.size(), 1u);
    EXPECT_EQ(d->modules[0].dll, "liba.dll");
    EXPECT_TRUE(d->modules[0].rva_based);
    std::vector<std::string> names;
    for (const auto& e : d->modules[0].entries) names.emplace_back(e.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"liba_add", "liba_mul"}));
    auto im = pe::parse_imports(l.image);
    for (const auto& m : im->modules) EXPECT_NE(m.dll, "liba.dll");
  }
}

TEST(Testdata, TlsExeHasTwoCallbacksInsideItsImage) {
  for (const char* arch : {"x86", "x64"}) {
    SCOPED_TRACE(arch);
    const auto l = load(std::string(arch) + "/tls.exe");
    auto t = pe::parse_tls(l.image);
    ASSERT_TRUE(t.has_value());
    ASSERT_EQ(t->callbacks.size(), 2u);
    for (uint64_t va : t->callbacks) {
      const auto rva = l.image.va_to_rva(va);
      ASSERT_TRUE(rva.has_value());
      const auto* s = l.image.section_at(*rva);
      ASSERT_NE(s, nullptr);
      EXPECT_TRUE(s->characteristics() & pe::scn::mem_execute);
    }
  }
}

TEST(Testdata, SharedSectionIsSharedReadWrite) {
  for (const char* file : {"x86/shared.dll", "x64/shared.dll", "x64/shared_gnu.dll"}) {
    SCOPED_TRACE(file);
    const auto l = load(file);
    const auto secs = l.image.sections();
    auto it = std::find_if(secs.begin(), secs.end(), [](const auto& s) { return s.name == "Shared"; });
    ASSERT_NE(it, secs.end());
    EXPECT_EQ(it->characteristics() & 0xF0000000u, pe::scn::mem_shared | pe::scn::mem_read | pe::scn::mem_write);
  }
}

TEST(Testdata, LowalignIsFlatAndMapsOffsetsOneToOne) {
  for (const char* arch : {"x86", "x64"}) {
    SCOPED_TRACE(arch);
    const auto l = load(std::string(arch) + "/lowalign.exe");
    EXPECT_TRUE(l.image.is_flat());
    for (const auto& s : l.image.sections()) {
      EXPECT_EQ(s.header.VirtualAddress, s.header.PointerToRawData);
      EXPECT_EQ(l.image.rva_to_offset(s.rva() + 5), uint64_t{s.rva() + 5u});
    }
  }
}

// app.exe was linked against the DLLs themselves, so each hint indexes the DLL's export name table.
TEST(Testdata, AppHintsIndexTheDllNameTables) {
  for (const char* arch : {"x86", "x64"}) {
    SCOPED_TRACE(arch);
    const auto app = load(std::string(arch) + "/app.exe");
    auto im = pe::parse_imports(app.image);
    ASSERT_TRUE(im.has_value());
    int checked = 0;
    for (const auto& m : im->modules) {
      if (m.dll != "liba.dll" && m.dll != "libb.dll") continue;
      const auto dll = load(std::string(arch) + "/" + std::string(m.dll));
      auto ex = pe::parse_exports(dll.image);
      ASSERT_TRUE(ex.has_value());
      for (const auto& e : m.entries) {
        auto hit = std::find_if(ex->entries.begin(), ex->entries.end(),
                                [&](const auto& x) { return !x.name.empty() && x.name_index == e.hint; });
        ASSERT_NE(hit, ex->entries.end()) << e.name;
        EXPECT_EQ(hit->name, e.name);
        ++checked;
      }
    }
    EXPECT_EQ(checked, 9);  // 5 from liba.dll (4 functions and the DATA export liba_version), 4 from libb.dll
  }
}

TEST(Testdata, FixedDllHasRelocationsStrippedAndTheClassicBase) {
  const auto l = load("x86/fixed.dll");
  EXPECT_TRUE(l.image.file_header().Characteristics & pe::file_flag::relocs_stripped);
  EXPECT_EQ(l.image.image_base(), 0x10000000u);
  EXPECT_EQ(pe::parse_relocations(l.image)->entry_count(), 0u);
}

TEST(Testdata, ApisetImportsOnlyApiSetNames) {
  const auto l = load("x64/apiset.exe");
  auto im = pe::parse_imports(l.image);
  ASSERT_TRUE(im.has_value());
  std::vector<std::string> dlls;
  for (const auto& m : im->modules) dlls.emplace_back(m.dll);
  EXPECT_EQ(dlls, (std::vector<std::string>{"api-ms-win-core-processthreads-l1-1-0.dll",
                                            "api-ms-win-core-synch-l1-2-0.dll"}));
}

}  // namespace
}  // namespace pemap::test
