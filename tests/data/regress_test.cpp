// One test per bug found: the minimized inputs in testdata/regress, each with the property that broke.
#include <gtest/gtest.h>

#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/resources.hpp"
#include "pe/scan_budget.hpp"
#include "support/files.hpp"

namespace pemap::test {
namespace {

// fuzz_parse: a debug directory whose Size claims millions of entries over zero fill listed every one
// of them (1.1 GB, timeout). Entries now have to come from file bytes.
TEST(Regress, DebugDirectoryWithHugeSizeOverZeroFillStaysSmall) {
  const auto bytes = read_file(testdata_dir() / "regress" / "debug-dir-huge-size.bin");
  auto img = pe::Image::parse(bytes);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  ASSERT_GT(img->directory(pe::kDirDebug).Size / sizeof(pe::DebugDirectory), 1000000u);
  auto dbg = pe::parse_debug(*img);
  ASSERT_TRUE(dbg.has_value());
  EXPECT_LE(dbg->entries.size(), bytes.size() / sizeof(pe::DebugDirectory));
  ASSERT_FALSE(dbg->warnings.empty());
  EXPECT_NE(dbg->warnings.back().message.find("outside the file's bytes"), std::string::npos);
}

// fuzz_parse: an export address table in a section whose raw size runs far past the end of the file was
// read one slot at a time through the slow path (timeout). Zero fill is now skipped in one step, and the walk
// stops at the first byte the file, cut short, does not hold.
TEST(Regress, ExportTableOverRawDataPastTheEndOfTheFileIsSkippedAsZeroFill) {
  const auto bytes = read_file(testdata_dir() / "regress" / "export-table-past-eof.bin");
  auto img = pe::Image::parse(bytes);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto ex = pe::parse_exports(*img);  // before the fix this did not return within ctest's timeout
  ASSERT_TRUE(ex.has_value());
  EXPECT_GT(ex->directory.NumberOfFunctions, 1000000u);
  EXPECT_LE(ex->entries.size(), bytes.size() / 4);
}

// fuzz_parse: a resource tree whose long names (up to 64 Ki UTF-16 units each) are shared by thousands of leaves:
// each entry copied its keys' names, 1.1 GB in the fuzzer and 15 GB and 108 s in `pemap resources`. The copies
// are now charged to the names budget, and the walk stops with a warning when it runs out.
TEST(Regress, ResourceNamesSharedByManyEntriesStayWithinTheNamesBudget) {
  const auto bytes = read_file(testdata_dir() / "regress" / "resource-names-copied-per-leaf.bin");
  auto img = pe::Image::parse(bytes);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  auto r = pe::parse_resources(*img);
  ASSERT_TRUE(r.has_value());
  uint64_t held = 0;
  for (const auto& e : r->entries) held += e.type.name.size() + e.name.name.size() + e.language.name.size();
  EXPECT_LE(held, 8 * bytes.size() + pe::ScanBudget::kMaxName);
  EXPECT_GT(r->entries.size(), 0u);
  bool said = false;
  for (const auto& w : r->warnings) said |= w.message.find("names budget") != std::string::npos;
  EXPECT_TRUE(said);
}

}  // namespace
}  // namespace pemap::test
