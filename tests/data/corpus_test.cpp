// The corkami corpus: every file parses or is refused with a clean error; a known-failure list fails the
// test when a listed file starts passing; header counts are cross-checked with pefile's (MANIFEST.tsv).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"
#include "support/files.hpp"

namespace pemap::test {
namespace {

struct KnownFailure {
  Status status;
  const char* why;
};

// Files we refuse, with the reason. Each is refused by Windows 7 and later too, is not an image at all,
// or is an XP-only trick that relies on the header page being zero-extended past the end of the file.
const std::map<std::string, KnownFailure> kKnownFailures{
    {"d_resource.dll", {Status::invalid_image_format, "data-file DLL: 65535 section headers past the end of the file"}},
    {"d_tiny.dll", {Status::invalid_image_protect, "data-file DLL of 61 bytes: no room for e_lfanew"}},
    {"dosZMXP.exe", {Status::invalid_image_not_mz, "DOS 'ZM' executable, not PE"}},
    {"exe2pe.exe", {Status::invalid_image_win_16, "NE executable whose stub rewrites itself as PE at run time"}},
    {"tinyXP.exe", {Status::invalid_image_format, "XP only: optional header truncated by the end of the file"}},
    {"tinydllXP.dll", {Status::invalid_image_format, "XP only: optional header truncated by the end of the file"}},
    {"tinydrivXP.sys", {Status::invalid_image_format, "XP only: optional header truncated by the end of the file"}},
    {"virtrelocXP.exe", {Status::invalid_image_format, "XP only: section table past the end of the file"}},
    {"virtsectblXP.exe", {Status::invalid_image_format, "XP only: section table past the end of the file"}},
};

bool is_pe_candidate(const std::filesystem::path& p) {
  const auto ext = p.extension().string();
  return ext == ".exe" || ext == ".dll" || ext == ".sys";
}

std::string corpus_name(const std::filesystem::path& p) { return std::filesystem::relative(p, corpus_dir()).string(); }

TEST(Corpus, EveryFileParsesOrFailsCleanlyAndKnownFailuresStillFail) {
  if (!std::filesystem::exists(corpus_dir())) GTEST_SKIP() << "corkami corpus not found at " << corpus_dir();
  size_t parsed = 0, refused = 0;
  std::set<std::string> seen_failures;
  for (const auto& e : std::filesystem::recursive_directory_iterator(corpus_dir())) {
    if (!e.is_regular_file() || !is_pe_candidate(e.path())) continue;
    const std::string name = corpus_name(e.path());
    SCOPED_TRACE(name);
    const auto bytes = read_file(e.path());
    auto img = pe::Image::parse(bytes);
    const auto known = kKnownFailures.find(name);
    if (img) {
      EXPECT_EQ(known, kKnownFailures.end()) << "listed as a known failure but now parses: remove it from the list";
      // Every directory must come back as a value or an error, never a crash or a hang.
      if (auto r = pe::parse_relocations(*img)) r->entry_count();
      (void)pe::parse_imports(*img);
      (void)pe::parse_delay_imports(*img);
      (void)pe::parse_bound_imports(*img);
      (void)pe::parse_exports(*img);
      (void)pe::parse_tls(*img);
      (void)pe::parse_load_config(*img);
      ++parsed;
    } else {
      ASSERT_NE(known, kKnownFailures.end()) << "refused: " << img.error().to_string();
      EXPECT_EQ(img.error().status, known->second.status) << img.error().to_string();
      seen_failures.insert(name);
      ++refused;
    }
  }
  EXPECT_EQ(seen_failures.size(), kKnownFailures.size());
  EXPECT_GE(parsed, 220u);
}

// pefile's counts from MANIFEST.tsv: a second opinion on what every parser should agree on.
TEST(Corpus, SectionCountsAndImportModulesAgreeWithPefile) {
  const auto manifest = corpus_dir() / "MANIFEST.tsv";
  if (!std::filesystem::exists(manifest)) GTEST_SKIP() << "corkami MANIFEST.tsv not found";
  // Where pefile and Windows part ways, Windows (and we) count differently; each was checked by hand.
  const std::map<std::string, const char*> kImportCountDiffers{
      {"manyimportsW7.exe",
       "5 descriptors on disk; 3 are zeroed through TLS AddressOfIndex at load time, pefile "
       "stops at the first bad name"},
      {"imports_badterm.exe", "a descriptor with Name 0 ends the list for the loader; pefile reads 2 more"},
      {"ctxt-ld.exe", "imports ctxt.dll's export with the empty name; pefile drops that module"},
      {"dllemptyexp-ld.exe", "imports dllemptyexp.dll's export with the empty name; pefile drops that module"},
      {"dllweirdexp-ld.exe", "imports a 64 KB export name; pefile drops that module"},
      {"lfanew_relocW7.exe", "the imports on disk are decoys (e_lfanew is relocated at load); pefile keeps 1 of 2"},
  };
  size_t compared = 0;
  for (const auto& row : read_tsv(manifest)) {
    const std::string file = tsv_get(row, "file");
    const std::string notes = tsv_get(row, "notes");
    SCOPED_TRACE(file);
    const auto bytes = read_file(corpus_dir() / file);
    auto img = pe::Image::parse(bytes);
    if (!img) continue;
    auto field = [&](const std::string& key) -> std::optional<uint64_t> {
      const auto at = notes.find(" " + key + "=");
      if (at == std::string::npos) return std::nullopt;
      return std::stoull(notes.substr(at + key.size() + 2));
    };
    if (auto nsec = field("nsec")) {
      EXPECT_EQ(img->sections().size(), *nsec);
    }
    if (auto impdlls = field("impdlls"); impdlls && !kImportCountDiffers.count(file)) {
      auto im = pe::parse_imports(*img);
      ASSERT_TRUE(im.has_value());
      EXPECT_EQ(im->modules.size(), *impdlls);
    }
    ++compared;
  }
  EXPECT_GT(compared, 200u);
}

}  // namespace
}  // namespace pemap::test
