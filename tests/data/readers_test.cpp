// The import and export readers read on demand: a caller that stops early reads no further, a caller that skips a
// module's entries gets the warnings of one that reads them, and what a reader gives read whole is what parse_*
// keeps. Over every testdata image and the corkami corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "support/files.hpp"

namespace pemap::test {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> images() {
  std::vector<fs::path> out;
  for (const fs::path& root : {testdata_dir(), corpus_dir()}) {
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file() && e.file_size() >= 64 && e.path().extension() != ".tsv" &&
          e.path().extension() != ".md" && e.path().extension() != ".txt")
        out.push_back(e.path());
  }
  return out;
}

std::vector<std::string> texts(const std::vector<Error>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.to_string());
  return out;
}

std::string outcome(const Result<std::vector<Error>>& r) {
  if (!r) return "error: " + r.error().to_string();
  std::string s;
  for (const auto& t : texts(*r)) s += t + "\n";
  return s;
}

// One directory read three ways: whole, modules only (entries passed over), and the first module's first entry only.
template <class Module, class Parsed>
void check_imports(const pe::Image& image, const Result<Parsed>& parsed, const std::string& file, size_t& modules) {
  SCOPED_TRACE(file);
  pe::ImportReader<Module> whole(image);
  std::vector<Module> read;
  std::vector<std::vector<pe::ImportEntry>> entries;
  while (auto m = whole.next_module()) {
    read.push_back(*m);
    entries.emplace_back();
    while (auto e = whole.next_entry()) entries.back().push_back(*e);
  }
  const auto whole_outcome = whole.finish();
  ASSERT_EQ(whole_outcome.has_value(), parsed.has_value());
  if (parsed) {
    ASSERT_EQ(read.size(), parsed->modules.size());
    for (size_t i = 0; i < read.size(); ++i) {
      EXPECT_EQ(read[i].dll, parsed->modules[i].dll);
      ASSERT_EQ(entries[i].size(), parsed->modules[i].entries.size());
      for (size_t k = 0; k < entries[i].size(); ++k) {
        EXPECT_EQ(entries[i][k].iat_rva, parsed->modules[i].entries[k].iat_rva);
        EXPECT_EQ(entries[i][k].name, parsed->modules[i].entries[k].name);
        EXPECT_EQ(entries[i][k].ordinal, parsed->modules[i].entries[k].ordinal);
      }
    }
    EXPECT_EQ(texts(*whole_outcome), texts(parsed->warnings));
  }
  modules += read.size();

  pe::ImportReader<Module> skipping(image);
  size_t skipped = 0;
  while (skipping.next_module()) ++skipped;
  EXPECT_EQ(skipped, read.size());
  EXPECT_EQ(outcome(skipping.finish()), outcome(whole_outcome));

  // A caller that stops reads no further: the next call after the first entry gives the second, and the second
  // module comes only when asked for.
  pe::ImportReader<Module> stopping(image);
  if (auto first = stopping.next_module()) {
    EXPECT_EQ(first->dll, read[0].dll);
    if (!entries[0].empty()) {
      const auto e = stopping.next_entry();
      ASSERT_TRUE(e.has_value());
      EXPECT_EQ(e->iat_rva, entries[0][0].iat_rva);
    }
    if (read.size() > 1) {
      const auto second = stopping.next_module();
      ASSERT_TRUE(second.has_value());
      EXPECT_EQ(second->descriptor_rva, read[1].descriptor_rva);
    }
  }
}

TEST(Readers, ImportReadersGiveWhatParseKeepsHoweverMuchIsRead) {
  size_t files = 0, modules = 0, delay_modules = 0;
  for (const fs::path& path : images()) {
    const auto bytes = read_file(path);
    auto image = pe::Image::parse(bytes);
    if (!image) continue;
    ++files;
    check_imports<pe::ImportModule>(*image, pe::parse_imports(*image), path.string(), modules);
    check_imports<pe::DelayImportModule>(*image, pe::parse_delay_imports(*image), path.string(), delay_modules);
  }
  EXPECT_GT(files, 20u);
  EXPECT_GT(modules, 20u);
  EXPECT_GT(delay_modules, 0u);
  std::cout << "[ readers  ] " << files << " images, " << modules << " import and " << delay_modules
            << " delay-load modules\n";
}

TEST(Readers, ExportReaderGivesWhatParseKeepsAndStopsWhereTheCallerStops) {
  size_t files = 0, exports = 0;
  for (const fs::path& path : images()) {
    const auto bytes = read_file(path);
    auto image = pe::Image::parse(bytes);
    if (!image) continue;
    SCOPED_TRACE(path.string());
    ++files;
    const auto parsed = pe::parse_exports(*image);
    auto reader = pe::ExportReader::open(*image);
    ASSERT_EQ(reader.has_value(), parsed.has_value());
    if (!reader) continue;
    EXPECT_EQ(reader->header().present, parsed->present);
    EXPECT_EQ(reader->header().dll_name, parsed->dll_name);
    std::vector<pe::ExportEntry> read;
    while (auto e = reader->next()) read.push_back(*e);
    ASSERT_EQ(read.size(), parsed->entries.size());
    for (size_t i = 0; i < read.size(); ++i) {
      EXPECT_EQ(read[i].ordinal, parsed->entries[i].ordinal);
      EXPECT_EQ(read[i].rva, parsed->entries[i].rva);
      EXPECT_EQ(read[i].name, parsed->entries[i].name);
      EXPECT_EQ(read[i].forwarder, parsed->entries[i].forwarder);
    }
    EXPECT_EQ(texts(reader->finish().warnings), texts(parsed->warnings));
    EXPECT_FALSE(reader->next().has_value()) << "a finished reader gives nothing more";
    exports += read.size();
    if (read.size() > 1) {  // the second entry comes from a fresh reader exactly as from the whole read
      auto again = pe::ExportReader::open(*image);
      (void)again->next();
      const auto second = again->next();
      ASSERT_TRUE(second.has_value());
      EXPECT_EQ(second->ordinal, read[1].ordinal);
      EXPECT_EQ(second->name, read[1].name);
    }
  }
  EXPECT_GT(files, 20u);
  EXPECT_GT(exports, 20u);
  std::cout << "[ readers  ] " << files << " images, " << exports << " exports\n";
}

}  // namespace
}  // namespace pemap::test
