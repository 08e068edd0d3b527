// corkami images whose load depends on what the loader writes before it reads its own tables: each one loads on
// Windows (../shared/corpus/corkami/MANIFEST.tsv), so each rule here comes from the corpus.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "pe/imports.hpp"
#include "process_support.hpp"

namespace pemap::ldr::test {
namespace {

std::string corkami(const std::string& file) {
  const auto path = pemap::test::corpus_dir() / file;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

bool has_step(const std::vector<Event>& events, Step step) {
  return std::any_of(events.begin(), events.end(), [&](const Event& e) { return e.step == step; });
}

struct Loaded {
  std::vector<Event> events;
  std::unique_ptr<Process> process;
  Module* module = nullptr;
};

Loaded load(const std::string& path) {
  Loaded out;
  LoadOptions o;
  o.allow_missing = true;  // their kernel32.dll and msvcrt.dll are not here
  out.process = std::make_unique<Process>(std::move(o), [&out](const Event& e) { out.events.push_back(e); });
  auto m = out.process->load_executable(path);
  EXPECT_TRUE(m) << m.error().to_string();
  if (m) out.module = *m;
  return out;
}

// ibreloc.exe: a flat image (SectionAlignment below a page) with its ImageBase in kernel space; a fixup on the
// header's ImageBase "corrects the wrong entrypoint". Flat images are relocated; the header's ImageBase ends as the
// actual base (the fixup and the loader's own write agree).
TEST(Corkami, FlatImageIsRelocated) {
  const std::string path = corkami("ibreloc.exe");
  if (path.empty()) GTEST_SKIP() << "corkami corpus not found at " << pemap::test::corpus_dir();
  auto l = load(path);
  ASSERT_NE(l.module, nullptr);
  EXPECT_TRUE(l.module->section->flat());
  EXPECT_TRUE(l.module->relocated);
  EXPECT_NE(l.module->base, l.module->preferred_base);
  EXPECT_EQ(l.module->relocations.per_type.at(pe::reloc_type::highlow), 6u);
  const auto& image = l.module->section->image();
  uint32_t image_base = 0;
  std::memcpy(&image_base, l.module->view->base() + image.optional_header_offset() + 28, 4);
  EXPECT_EQ(image_base, l.module->base);
}

// lfanew_relocW7.exe: a fixup moves e_lfanew onto a second PE header: the loader reads its headers again from the
// mapped image (docs/loader.md says what pemap still misses there).
TEST(Corkami, FixupOnTheHeadersMakesTheLoaderReadThemAgain) {
  const std::string path = corkami("lfanew_relocW7.exe");
  if (path.empty()) GTEST_SKIP() << "corkami corpus not found at " << pemap::test::corpus_dir();
  auto l = load(path);
  ASSERT_NE(l.module, nullptr);
  EXPECT_TRUE(has_step(l.events, Step::reread));
  ASSERT_TRUE(l.module->reread.has_value());
  EXPECT_NE(l.module->image().dos_header().e_lfanew, l.module->section->image().dos_header().e_lfanew);
}

// manyimportsW7.exe: its TLS AddressOfIndex is the FirstThunk field of the third import descriptor, so the index
// the loader writes (0) ends the table after kernel32.dll and msvcrt.dll; the 590,329 junk imports behind it
// are never bound.
TEST(Corkami, TlsIndexWrittenBeforeImportsEndsTheTable) {
  const std::string path = corkami("manyimportsW7.exe");
  if (path.empty()) GTEST_SKIP() << "corkami corpus not found at " << pemap::test::corpus_dir();
  auto l = load(path);
  ASSERT_NE(l.module, nullptr);
  auto file_imports = pe::parse_imports(l.module->section->image());
  ASSERT_TRUE(file_imports);
  EXPECT_GT(file_imports->entry_count(), 500000u);  // what a reader of the file sees, with a warning where it ends
  ASSERT_FALSE(file_imports->warnings.empty());
  EXPECT_EQ(file_imports->warnings[0].structure, "import descriptor #2");
  EXPECT_NE(file_imports->warnings[0].message.find("TLS AddressOfIndex (0x1148)"), std::string::npos);
  EXPECT_NE(file_imports->warnings[0].message.find("sees the list end here"), std::string::npos);
  ASSERT_EQ(l.module->bindings.size(), 2u);
  EXPECT_EQ(l.module->bindings[0].dll(), "kernel32.dll");
  EXPECT_EQ(l.module->bindings[1].dll(), "msvcrt.dll");
  auto index = std::find_if(l.events.begin(), l.events.end(), [](const Event& e) { return e.step == Step::tls_index; });
  ASSERT_NE(index, l.events.end());
  EXPECT_EQ(index->value, 0u);
  EXPECT_EQ(index->address, l.module->base + 0x1148);
}

// tls_aoiOSDET.exe: the same trick as a detector of the Windows version, three descriptors in the file of which a
// loader that writes the TLS index first (as pemap's does) binds two.
TEST(Corkami, TlsIndexInTheThirdDescriptorIsNamedAndBindsTwo) {
  const std::string path = corkami("tls_aoiOSDET.exe");
  if (path.empty()) GTEST_SKIP() << "corkami corpus not found at " << pemap::test::corpus_dir();
  auto l = load(path);
  ASSERT_NE(l.module, nullptr);
  auto file_imports = pe::parse_imports(l.module->section->image());
  ASSERT_TRUE(file_imports);
  EXPECT_EQ(file_imports->modules.size(), 3u);
  ASSERT_EQ(file_imports->warnings.size(), 1u);
  EXPECT_EQ(file_imports->warnings[0].where.value, 0x1088u);
  EXPECT_NE(file_imports->warnings[0].message.find("(0x1094)"), std::string::npos);
  ASSERT_EQ(l.module->bindings.size(), 2u);
  EXPECT_EQ(l.module->bindings[1].dll(), "msvcrt.dll");
}

// relocsstripped.exe / relocsstripped64.exe: RELOCS_STRIPPED with relocations present and an ImageBase that can
// never be had: relocated anyway.
TEST(Corkami, StrippedImageWithUnusableBaseIsRelocated) {
  for (const char* file : {"relocsstripped.exe", "relocsstripped64.exe"}) {
    const std::string path = corkami(file);
    if (path.empty()) GTEST_SKIP() << "corkami corpus not found at " << pemap::test::corpus_dir();
    auto l = load(path);
    ASSERT_NE(l.module, nullptr) << file;
    EXPECT_TRUE(l.module->relocated) << file;
    EXPECT_EQ(l.module->relocations.per_type.at(pe::reloc_type::highlow), 3u) << file;
    EXPECT_NE(l.module->relocation_note.find("RELOCS_STRIPPED"), std::string::npos) << file;
  }
}

}  // namespace
}  // namespace pemap::ldr::test
