// verify's comparison on hand-made facts: a real difference is a disagreement, a LIEF gap is named only
// when the evidence for it is there.
#include <gtest/gtest.h>

#include "verify/facts.hpp"

namespace pemap::inspect {
namespace {

Facts base() {
  Facts f;
  f.image_base = 0x10000000;
  f.entry_point = 0x1000;
  f.sections.push_back({".text", ".text", 0x1000, 0x100, 0x400, 0x200, 0x60000020});
  f.relocs = {{0x1004, 3}, {0x1010, 3}};
  f.imports.push_back({"kernel32.dll", {{"ExitProcess", false, 0, 5, 0x2000}}, false, false});
  f.exports = {{1, 0x1000, "f", ""}};
  return f;
}

std::vector<Finding::Kind> kinds(const std::vector<Finding>& fs) {
  std::vector<Finding::Kind> out;
  for (const auto& f : fs) out.push_back(f.kind);
  return out;
}

using K = Finding::Kind;

TEST(Compare, IdenticalFactsAgree) { EXPECT_TRUE(compare(base(), base()).empty()); }

TEST(Compare, AnyHeaderSectionRelocOrImportDifferenceIsADisagreement) {
  auto check = [](auto mutate, const char* area) {
    Facts lief = base();
    mutate(lief);
    const auto fs = compare(base(), lief);
    ASSERT_FALSE(fs.empty()) << area;
    EXPECT_EQ(fs[0].kind, K::disagreement) << area;
    EXPECT_EQ(fs[0].area, area);
  };
  check([](Facts& f) { f.image_base = 0x400000; }, "headers");
  check([](Facts& f) { f.sections[0].characteristics = 0xC0000040; }, "sections");
  check([](Facts& f) { f.sections[0].name = ".code"; }, "sections");
  check([](Facts& f) { f.relocs[1].type = 10; }, "relocations");
  check([](Facts& f) { f.relocs.pop_back(); }, "relocations");
  check([](Facts& f) { f.imports[0].entries[0].hint = 6; }, "imports");
  check([](Facts& f) { f.imports[0].entries[0].iat_rva = 0x2008; }, "imports");
  check([](Facts& f) { f.exports[0].rva = 0x1004; }, "exports");
  check([](Facts& f) { f.tls_callbacks = {0x10001000}; }, "tls");
}

TEST(Compare, NonameExportMissingInLiefIsALimitationButANamedOneIsNot) {
  Facts ours = base();
  ours.exports.push_back({2, 0x1010, "", ""});
  EXPECT_EQ(kinds(compare(ours, base())), std::vector<K>{K::lief_limitation});
  ours.exports.back().name = "g";
  EXPECT_EQ(kinds(compare(ours, base())), std::vector<K>{K::disagreement});
}

TEST(Compare, ForwarderShownAsFakeEntryIsALimitation) {
  Facts ours = base(), lief = base();
  ours.exports.push_back({2, 0x3010, "Chain", "fwd2.Chain"});
  lief.exports.push_back({2, 0x3010, "Chain", ""});
  lief.exports.push_back({2, 0, "fwd2.Chain", ""});
  EXPECT_EQ(kinds(compare(ours, lief)), (std::vector<K>{K::lief_limitation, K::lief_limitation}));
  lief.exports.back().rva = 0x5000;  // not LIEF's fake entry: a real extra export
  EXPECT_EQ(compare(ours, lief)[0].kind, K::disagreement);
}

TEST(Compare, SecurityCookieTruncatedTo32BitsIsALimitationOtherwiseNot) {
  Facts ours = base(), lief = base();
  ours.security_cookie = 0x00002B992DDFA232ull;
  lief.security_cookie = 0x2DDFA232ull;
  EXPECT_EQ(kinds(compare(ours, lief)), std::vector<K>{K::lief_limitation});
  lief.security_cookie = 0x2DDFA233ull;
  EXPECT_EQ(kinds(compare(ours, lief)), std::vector<K>{K::disagreement});
}

TEST(Compare, ImportDifferencesAreExplainedOnlyWithEvidence) {
  Facts ours = base(), lief = base();
  lief.imports.clear();
  EXPECT_EQ(compare(ours, lief)[0].kind, K::disagreement);
  ours.imports[0].lief_reads_other_bytes = true;
  ours.imports_lief_reads_other_bytes = true;
  EXPECT_EQ(kinds(compare(ours, lief)), std::vector<K>{K::lief_limitation});
  Facts skip = base();
  skip.imports.push_back({"d\x11", {}, false, true});
  EXPECT_EQ(kinds(compare(skip, base())), std::vector<K>{K::lief_limitation});
}

TEST(Compare, AnExplainedModuleDoesNotHideADifferenceInAnother) {
  Facts ours = base(), lief = base();
  ours.imports.insert(ours.imports.begin(), {"virt.dll", {{"F", false, 0, 0, 0x1000}}, true, false});
  ours.imports_lief_reads_other_bytes = true;
  EXPECT_EQ(kinds(compare(ours, lief)), std::vector<K>{K::lief_limitation});
  lief.imports[0].entries[0].iat_rva = 0x2004;  // kernel32.dll itself differs: that is not explained
  EXPECT_EQ(kinds(compare(ours, lief)), (std::vector<K>{K::disagreement, K::lief_limitation}));
}

TEST(Compare, RelocationPrefixIsALimitationOnlyAfterAMalformedOrPageZeroBlock) {
  Facts ours = base(), lief = base();
  lief.relocs.pop_back();
  EXPECT_EQ(compare(ours, lief)[0].kind, K::disagreement);
  ours.relocs_irregular = true;
  EXPECT_EQ(kinds(compare(ours, lief)), std::vector<K>{K::lief_limitation});
  Facts zero = base();
  zero.relocs_zero_page_at = 1;
  EXPECT_EQ(kinds(compare(zero, lief)), std::vector<K>{K::lief_limitation});
}

TEST(Compare, OurHeaderRefusalIsStricterOnlyForAHeaderRule) {
  Facts ours;
  ours.error = "PE32 optional header at offset 0x1c: needs 96 bytes";
  ours.refused_by_header_rule = true;
  EXPECT_EQ(kinds(compare(ours, base())), std::vector<K>{K::stricter});
  ours.refused_by_header_rule = false;
  EXPECT_EQ(kinds(compare(ours, base())), std::vector<K>{K::disagreement});
  Facts lief_refuses;
  lief_refuses.error = "LIEF crashed (signal 11)";
  EXPECT_EQ(kinds(compare(base(), lief_refuses)), std::vector<K>{K::disagreement});
}

}  // namespace
}  // namespace pemap::inspect
