// One test per bug found: the minimized inputs in testdata/regress, each with the property that broke.
#include <gtest/gtest.h>

#include "pe/debug.hpp"
#include "pe/image.hpp"
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

}  // namespace
}  // namespace pemap::test
