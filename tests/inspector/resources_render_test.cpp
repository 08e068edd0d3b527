// The resources command's text, from its document, on inputs the fuzzers found.
#include <gtest/gtest.h>

#include <sstream>

#include "pe/image.hpp"
#include "resources_view.hpp"
#include "support/files.hpp"

namespace pemap::inspect {
namespace {

// fuzz_render: a version resource that does not parse left an object with only its path, and the text read the
// members it lacked (a use after free under ASan). It now says why the resource is not decoded.
TEST(ResourcesRender, AVersionResourceThatDoesNotParseIsSaidSo) {
  const auto bytes = test::read_file(test::testdata_dir() / "regress" / "version-resource-undecodable.bin");
  auto image = pe::Image::parse(bytes);
  ASSERT_TRUE(image.has_value()) << image.error().to_string();
  std::ostringstream text;
  Warnings w;
  {
    TextOut out(text);
    write_resources(*image, out, w);
  }
  EXPECT_NE(text.str().find("Version information (RT_VERSION/#1/#1033)\n  Not decoded"), std::string::npos)
      << text.str();
  EXPECT_FALSE(w.empty());
}

}  // namespace
}  // namespace pemap::inspect
