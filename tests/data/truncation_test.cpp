// Truncation sweep: every prefix of every testdata file shorter than its headers fails cleanly, and
// longer prefixes parse or fail without crashing while every directory is walked.
#include <gtest/gtest.h>

#include <filesystem>

#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"
#include "support/files.hpp"

namespace pemap::test {
namespace {

// Walks everything the inspector would, so a prefix that parses is exercised as deeply as a full file.
void walk(const pe::Image& img) {
  if (auto r = pe::parse_relocations(img)) r->entry_count();
  (void)pe::parse_imports(img);
  (void)pe::parse_delay_imports(img);
  (void)pe::parse_exports(img);
  (void)pe::parse_tls(img);
  (void)pe::parse_load_config(img);
}

std::vector<std::filesystem::path> testdata_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(testdata_dir() / "bin"))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Truncation, EveryPrefixShorterThanTheHeadersFailsWithAContextualError) {
  size_t prefixes = 0;
  for (const auto& path : testdata_files()) {
    SCOPED_TRACE(path.string());
    const auto bytes = read_file(path);
    auto full = pe::Image::parse(bytes);
    ASSERT_TRUE(full.has_value());
    const uint64_t headers_end = full->section_table_offset() + full->sections().size() * sizeof(pe::SectionHeader);
    for (uint64_t len = 0; len < headers_end; ++len) {
      auto r = pe::Image::parse(std::span(bytes).first(len));
      ASSERT_FALSE(r.has_value()) << "prefix of " << len << " bytes parsed";
      EXPECT_NE(r.error().status, Status::success);
      EXPECT_FALSE(r.error().structure.empty());
      EXPECT_FALSE(r.error().message.empty());
      ++prefixes;
    }
  }
  EXPECT_GT(prefixes, 10000u);
}

TEST(Truncation, LongerPrefixesParseOrFailCleanlyWithEveryDirectoryWalked) {
  for (const auto& path : testdata_files()) {
    SCOPED_TRACE(path.string());
    const auto bytes = read_file(path);
    // Every byte for small files; a stride keeps the 3 MB relocation DLL fast.
    const size_t step = bytes.size() > 65536 ? bytes.size() / 512 : 1;
    for (size_t len = 0; len <= bytes.size(); len += step) {
      auto r = pe::Image::parse(std::span(bytes).first(len));
      if (r)
        walk(*r);
      else
        EXPECT_FALSE(r.error().to_string().empty());
    }
  }
}

}  // namespace
}  // namespace pemap::test
