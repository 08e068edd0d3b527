// The corkami corpus: every file parses or is refused with a clean error; a known-failure list fails the
// test when a listed file starts passing; what each file reports is a known result (corpus_results.tsv); header
// counts are cross-checked with pefile's (MANIFEST.tsv).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

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

/// What one directory parse reported: its counts and warnings, or the status it was refused with.
template <class T, class Counts>
std::string outcome(const Result<T>& r, Counts counts) {
  if (!r) return std::string(status_name(r.error().status));
  return counts(*r) + " w" + std::to_string(r->warnings.size());
}

/// One line of corpus_results.tsv: what the parser reports for the file, every directory.
std::string report(const std::string& name, const std::vector<std::byte>& bytes) {
  auto img = pe::Image::parse(bytes);
  if (!img) return name + "\t" + std::string(status_name(img.error().status));
  const auto n = [](size_t v) { return std::to_string(v); };
  const std::vector<std::string> columns{
      name,
      "ok",
      n(img->sections().size()),
      outcome(pe::parse_imports(*img), [&](const auto& i) { return n(i.modules.size()) + "/" + n(i.entry_count()); }),
      outcome(pe::parse_delay_imports(*img), [&](const auto& i) { return n(i.modules.size()); }),
      outcome(pe::parse_bound_imports(*img), [&](const auto& i) { return n(i.modules.size()); }),
      outcome(pe::parse_exports(*img), [&](const auto& e) { return n(e.entries.size()); }),
      outcome(pe::parse_relocations(*img),
              [&](const auto& r) { return n(r.blocks.size()) + "/" + n(r.entry_count()); }),
      outcome(pe::parse_tls(*img), [&](const auto& t) { return t.present ? n(t.callbacks.size()) : std::string("-"); }),
      outcome(pe::parse_load_config(*img),
              [&](const auto& c) { return c.present ? n(c.fields.size()) : std::string("-"); }),
  };
  std::string line;
  for (const auto& c : columns) line += (line.empty() ? "" : "\t") + c;
  return line;
}

// Every file parses or is refused with the status listed, and each directory reports what corpus_results.tsv
// says it did (counts and warnings, or the status it was refused with): the test fails when any file's result
// changes. After a change on purpose, PEMAP_UPDATE_CORPUS_RESULTS=1 rewrites the table; review its diff.
TEST(Corpus, EveryFileReportsItsKnownResult) {
  if (!std::filesystem::exists(corpus_dir())) GTEST_SKIP() << "corkami corpus not found at " << corpus_dir();
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::recursive_directory_iterator(corpus_dir()))
    if (e.is_regular_file() && is_pe_candidate(e.path())) names.push_back(corpus_name(e.path()));
  std::sort(names.begin(), names.end());
  std::string actual = "file\tparse\tsections\timports\tdelay\tbound\texports\trelocs\ttls\tload_config\n";
  size_t parsed = 0;
  std::set<std::string> seen_failures;
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const std::string line = report(name, read_file(corpus_dir() / name));
    actual += line + "\n";
    const bool ok = line.find("\tok\t") != std::string::npos;
    const auto known = kKnownFailures.find(name);
    if (ok) {
      EXPECT_EQ(known, kKnownFailures.end()) << "listed as a known failure but now parses: remove it from the list";
      ++parsed;
    } else {
      ASSERT_NE(known, kKnownFailures.end()) << "refused: " << line;
      EXPECT_EQ(line, name + "\t" + std::string(status_name(known->second.status)));
      seen_failures.insert(name);
    }
  }
  EXPECT_EQ(seen_failures.size(), kKnownFailures.size());
  EXPECT_GE(parsed, 220u);

  const auto table = tests_dir() / "data" / "corpus_results.tsv";
  if (std::getenv("PEMAP_UPDATE_CORPUS_RESULTS")) std::ofstream(table) << actual;
  std::ifstream in(table);
  const std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (expected == actual) return;
  std::istringstream want(expected), got(actual);
  std::map<std::string, std::string> want_lines, got_lines;
  for (std::string l; std::getline(want, l);) want_lines[l.substr(0, l.find('\t'))] = l;
  for (std::string l; std::getline(got, l);) got_lines[l.substr(0, l.find('\t'))] = l;
  for (const auto& [file, line] : got_lines)
    EXPECT_EQ(want_lines[file], line) << "the result of " << file << " changed (corpus_results.tsv)";
  for (const auto& [file, line] : want_lines)
    EXPECT_TRUE(got_lines.count(file)) << file << " is listed in corpus_results.tsv but not in the corpus";
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
