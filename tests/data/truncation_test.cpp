// Truncation sweeps: every prefix of every testdata file shorter than its headers fails cleanly; longer prefixes
// of testdata, of the mingw DLLs Debian installs and of a few corkami files report what the full file reports, or
// say that the file is cut short: no directory reads as empty, and no count or name comes out other than the full
// file's, without a warning.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "memory/image_rules.hpp"
#include "pe/certificates.hpp"
#include "pe/clr.hpp"
#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/guard_tables.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/resources.hpp"
#include "pe/tls.hpp"
#include "pe/unwind.hpp"
#include "pe/version_info.hpp"
#include "support/files.hpp"

namespace pemap::test {
namespace {

namespace fs = std::filesystem;

// What a command reports on one directory: a fingerprint of its entries (so a name read as zero fill differs
// as much as a missing entry), their count, and the warnings or the error it gives with them.
struct Fact {
  uint64_t count = 0;
  uint64_t hash = 1469598103934665603u;
  std::vector<Error> warnings;
  void add(uint64_t v) {
    ++count;
    for (int i = 0; i < 8; ++i) hash = (hash ^ ((v >> (8 * i)) & 0xff)) * 1099511628211u;
  }
  void add(std::string_view s) {
    uint64_t h = 0;
    for (char c : s) h = h * 131 + static_cast<unsigned char>(c);
    add(h + s.size());
  }
  bool same_as(const Fact& o) const { return count == o.count && hash == o.hash; }
};

// The file is cut short, in the words of the resolver ("cut short") or of the bounds primitive ("the file ends").
bool says_cut_short(const Error& e) {
  return e.message.find("cut short") != std::string::npos || e.message.find("the file ends") != std::string::npos;
}
bool any_cut_short(const std::vector<Error>& v) { return std::any_of(v.begin(), v.end(), says_cut_short); }

template <class T>
const T* take(const Result<T>& r, Fact& f) {
  if (!r) {
    f.warnings.push_back(r.error());
    return nullptr;
  }
  f.warnings = r->warnings;
  return &*r;
}

// An import reader's modules and entries hashed into `f`, with its warnings, or its error as one.
template <class Module>
void hash_imports(const pe::Image& img, Fact& f) {
  pe::ImportReader<Module> reader(img);
  while (auto m = reader.next_module()) {
    f.add(m->dll);
    while (auto e = reader.next_entry()) e->by_ordinal ? f.add(e->ordinal) : f.add(e->name);
  }
  auto warnings = reader.finish();
  f.warnings = warnings ? std::move(*warnings) : std::vector<Error>{warnings.error()};
}

// The data directories each fact reads, and the facts themselves, as pemap's commands would report them.
struct Report {
  static constexpr uint32_t kDirs[] = {pe::kDirImport,   pe::kDirDelayImport, pe::kDirExport,   pe::kDirBaseReloc,
                                       pe::kDirTls,      pe::kDirLoadConfig,  pe::kDirDebug,    pe::kDirBoundImport,
                                       pe::kDirResource, pe::kDirException,   pe::kDirSecurity, pe::kDirClr};
  std::map<uint32_t, Fact> facts;

  explicit Report(const pe::Image& img) {
    hash_imports<pe::ImportModule>(img, facts[pe::kDirImport]);
    hash_imports<pe::DelayImportModule>(img, facts[pe::kDirDelayImport]);
    {
      Fact& f = facts[pe::kDirExport];
      if (auto reader = pe::ExportReader::open(img)) {
        while (auto e = reader->next()) {
          f.add(uint64_t{e->ordinal} << 32 | e->rva);
          f.add(e->name);
          f.add(e->forwarder);
        }
        pe::Exports ex = reader->finish();
        f.warnings = std::move(ex.warnings);
        if (ex.present) f.add(ex.dll_name);
      } else {
        f.warnings.push_back(reader.error());
      }
    }
    const auto rel = pe::parse_relocations(img);
    if (const auto* r = take(rel, facts[pe::kDirBaseReloc]))
      r->for_each([&](const pe::RelocEntry& e) { facts[pe::kDirBaseReloc].add(uint64_t{e.rva} << 8 | e.type); });
    const auto tls = pe::parse_tls(img);
    if (const auto* t = take(tls, facts[pe::kDirTls]))
      for (uint64_t cb : t->callbacks) facts[pe::kDirTls].add(cb);
    const auto lc = pe::parse_load_config(img);
    if (const auto* l = take(lc, facts[pe::kDirLoadConfig])) {
      Fact& f = facts[pe::kDirLoadConfig];
      for (const auto& field : l->fields) f.add(field.value);
      auto guard = pe::parse_guard_tables(img, *l);
      for (const uint32_t rva : guard.cf_functions) f.add(rva);
      for (const uint32_t rva : guard.se_handlers) f.add(rva);
      f.warnings.insert(f.warnings.end(), guard.warnings.begin(), guard.warnings.end());
    }
    const auto dbg = pe::parse_debug(img);
    if (const auto* d = take(dbg, facts[pe::kDirDebug]))
      for (const auto& e : d->entries) {
        facts[pe::kDirDebug].add(e.raw.Type);
        if (e.codeview) facts[pe::kDirDebug].add(e.codeview->pdb_path);
      }
    const auto res = pe::parse_resources(img);
    if (const auto* r = take(res, facts[pe::kDirResource]))
      for (const auto& e : r->entries) {
        Fact& f = facts[pe::kDirResource];
        f.add(e.path());
        f.add(uint64_t{e.rva} << 32 | e.size);
        if (e.type.named || e.type.id != 16) continue;
        const auto bytes = pe::resource_bytes(img, e);
        if (!bytes) continue;  // the tree's walk has said why
        if (auto v = pe::parse_version_info(*bytes, e.rva)) {
          if (v->fixed) f.add(uint64_t{v->fixed->file_version_ms} << 32 | v->fixed->file_version_ls);
          for (const auto& table : v->string_tables)
            for (const auto& [key, value] : table.strings) f.add(key + "=" + value);
        }
      }
    const auto exceptions = pe::parse_exceptions(img, true);
    if (const auto* x = take(exceptions, facts[pe::kDirException]))
      for (const auto& fn : x->functions) {
        Fact& f = facts[pe::kDirException];
        f.add(uint64_t{fn.begin} << 32 | fn.end);
        if (fn.info)
          for (const auto& code : fn.info->codes) f.add(code.text);
        f.add(fn.arm64_detail);
      }
    const auto certificates = pe::parse_certificate_table(img);
    if (const auto* c = take(certificates, facts[pe::kDirSecurity]))
      for (const auto& e : c->entries) facts[pe::kDirSecurity].add(uint64_t{e.length} << 32 | e.type);
    const auto clr = pe::parse_clr(img);
    if (const auto* c = take(clr, facts[pe::kDirClr])) {
      Fact& f = facts[pe::kDirClr];
      f.add(uint64_t{c->flags} << 32 | c->entry_point);
      if (c->metadata_root)
        for (const auto& s : c->metadata_root->streams) f.add(s.name);
    }
    const auto bound = pe::parse_bound_imports(img);
    if (const auto* b = take(bound, facts[pe::kDirBoundImport]))
      for (const auto& m : b->modules) facts[pe::kDirBoundImport].add(m.dll);
  }
};

// The file offset just past the bytes of directory `index` in the full image, or 0 when it has none there.
uint64_t directory_file_end(const pe::Image& full, uint32_t index) {
  const auto d = full.used_directory(index);
  if (!d) return 0;
  if (index == pe::kDirBoundImport)  // a file offset in the headers
    return d->VirtualAddress < full.optional_header().size_of_headers ? uint64_t{d->VirtualAddress} + 1 : 0;
  if (index == pe::kDirSecurity)  // a file offset, never mapped
    return std::min<uint64_t>(uint64_t{d->VirtualAddress} + d->Size, full.file().size());
  uint64_t end = 0;
  for (const uint64_t rva :
       {uint64_t{d->VirtualAddress}, uint64_t{d->VirtualAddress} + std::max<uint32_t>(d->Size, 1) - 1})
    if (const auto off = full.rva_to_offset(rva)) end = std::max(end, *off + 1);
  return end;
}

// The prefix lengths worth cutting at: a grid over the file, and the bytes around where each directory starts and
// ends in it (where a walk switches from whole to cut).
std::set<uint64_t> cut_points(const pe::Image& full, uint64_t grid) {
  std::set<uint64_t> out;
  const uint64_t size = full.file().size();
  for (uint64_t len = 0; len < size; len += grid) out.insert(len);
  for (const uint32_t i : Report::kDirs) {
    const auto d = full.used_directory(i);
    if (!d) continue;
    const uint64_t start =
        i == pe::kDirSecurity ? d->VirtualAddress : full.rva_to_offset(d->VirtualAddress).value_or(0);
    for (const uint64_t edge : {start, directory_file_end(full, i)})
      for (const uint64_t len : {edge - 1, edge, edge + 1})
        if (edge != 0 && len < size) out.insert(len);
  }
  return out;
}

struct Checked {
  size_t prefixes = 0, unusable = 0, cut = 0, refused = 0;
};

// For each prefix that parses: every fact the full file contradicts, and every directory whose bytes the prefix
// cuts, comes with a warning that the file is cut short; the image says so too; and mapping it is refused
// exactly when Windows refuses it (the last section's raw data runs past the end of the file).
void check_prefixes(const fs::path& path, const std::vector<std::byte>& bytes, const std::set<uint64_t>& lengths,
                    Checked& checked) {
  SCOPED_TRACE(path.string());
  auto full = pe::Image::parse(bytes);
  ASSERT_TRUE(full.has_value());
  const Report whole(*full);
  for (const auto& [dir, fact] : whole.facts) ASSERT_FALSE(any_cut_short(fact.warnings)) << "directory " << dir;
  const pe::Section* last = full->sections().empty() ? nullptr : &full->sections().back();
  for (const uint64_t len : lengths) {
    auto img = pe::Image::parse(std::span(bytes).first(len));
    ++checked.prefixes;
    if (!img) {
      EXPECT_NE(img.error().status, Status::success) << len;
      EXPECT_FALSE(img.error().message.empty()) << len;
      ++checked.unusable;
      continue;
    }
    const Report part(*img);
    bool any_cut = false;
    for (const uint32_t dir : Report::kDirs) {
      const Fact& f = part.facts.at(dir);
      const bool cut = any_cut_short(f.warnings);
      any_cut |= cut && dir != pe::kDirSecurity;  // the certificate table is never mapped: the image is whole
      if (!f.same_as(whole.facts.at(dir))) {
        EXPECT_TRUE(cut) << "prefix " << len << ": directory " << dir << " reports " << f.count << " entries (the full "
                         << "file " << whole.facts.at(dir).count << ") without saying the file is cut short";
      }
      if (len < directory_file_end(*full, dir)) {
        EXPECT_TRUE(cut) << "prefix " << len << ": directory " << dir << " ends at file offset "
                         << directory_file_end(*full, dir) << " but no warning says the file is cut short";
      }
    }
    checked.cut += any_cut;
    if (any_cut) {
      EXPECT_TRUE(img->truncation().has_value()) << "prefix " << len;
    }
    const bool refused_by_windows = !img->is_flat() && last && last->header.SizeOfRawData != 0 &&
                                    uint64_t{last->header.PointerToRawData} + last->header.SizeOfRawData > len;
    const auto refusal = win::check_image_for_mapping(*img);
    if (refused_by_windows) {
      ++checked.refused;
      EXPECT_TRUE(refusal && refusal->status == Status::invalid_image_format) << "prefix " << len;
    } else if (refusal) {  // only for a rule the full file breaks too
      EXPECT_TRUE(win::check_image_for_mapping(*full).has_value()) << "prefix " << len << ": " << refusal->to_string();
    }
  }
}

std::vector<fs::path> testdata_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(testdata_dir() / "bin"))
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

TEST(Truncation, EveryTestdataPrefixReportsTheFullFilesFactsOrSaysItIsCutShort) {
  Checked checked;
  for (const auto& path : testdata_files()) {
    const auto bytes = read_file(path);
    auto full = pe::Image::parse(bytes);
    ASSERT_TRUE(full.has_value()) << path;
    // Every 16 bytes of the small files; a grid of about 512 cuts keeps the 3 MB relocation DLL fast.
    check_prefixes(path, bytes, cut_points(*full, std::max<uint64_t>(16, bytes.size() / 512)), checked);
  }
  EXPECT_GT(checked.prefixes, 10000u);
  EXPECT_GT(checked.cut, 1000u);
  EXPECT_GT(checked.refused, 8000u);
  std::cout << checked.prefixes << " prefixes, " << checked.unusable << " unusable, " << checked.cut << " cut short, "
            << checked.refused << " refused by the mapper\n";
}

// Real binaries nobody here wrote, built by mingw-w64 (scripts/install-deps.sh installs them).
TEST(Truncation, EveryMingwDllPrefixReportsTheFullFilesFactsOrSaysItIsCutShort) {
  const std::vector<fs::path> dlls{"/usr/lib/gcc/x86_64-w64-mingw32/12-win32/libstdc++-6.dll",
                                   "/usr/lib/gcc/x86_64-w64-mingw32/12-win32/libgcc_s_seh-1.dll",
                                   "/usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll"};
  Checked checked;
  for (const auto& path : dlls) {
    if (!fs::exists(path))
      GTEST_SKIP() << path << " is absent (Debian packages g++-mingw-w64-x86-64, mingw-w64-x86-64-dev)";
    const auto bytes = read_file(path);
    auto full = pe::Image::parse(bytes);
    ASSERT_TRUE(full.has_value()) << path;
    // Every 512 bytes up to 256 KiB, coarser beyond (libstdc++-6.dll is 23 MB, mostly DWARF after the image).
    check_prefixes(path, bytes, cut_points(*full, std::max<uint64_t>(512, align_up(bytes.size() / 512, 512))), checked);
  }
  EXPECT_GT(checked.prefixes, 1200u);
  EXPECT_GT(checked.cut, 200u);
  std::cout << checked.prefixes << " prefixes, " << checked.unusable << " unusable, " << checked.cut << " cut short, "
            << checked.refused << " refused by the mapper\n";
}

TEST(Truncation, CorkamiPrefixesReportTheFullFilesFactsOrSayItIsCutShort) {
  if (!fs::exists(corpus_dir())) GTEST_SKIP() << "corkami corpus not found at " << corpus_dir();
  // Imports, exports, bound and delay imports, relocations, TLS, a debug directory, a certificate table, CLR
  // headers, version resources and guard tables, in files built by hand.
  Checked checked;
  for (const char* name : {"normal.exe", "normal64.exe", "dll.dll", "dllbound-ld.exe", "delayimports.exe", "tls.exe",
                           "debug.exe", "ibreloc.exe", "signature.exe", "dotnet20.exe", "tinynet.exe",
                           "version_std.exe", "safeseh.exe", "dllcfgdup.dll"}) {
    const fs::path path = corpus_dir() / name;
    if (!fs::exists(path)) continue;
    const auto bytes = read_file(path);
    auto full = pe::Image::parse(bytes);
    ASSERT_TRUE(full.has_value()) << path;
    std::set<uint64_t> every;
    for (uint64_t len = 0; len < bytes.size(); ++len) every.insert(len);
    check_prefixes(path, bytes, every, checked);
  }
  EXPECT_GT(checked.prefixes, 2000u);
  std::cout << checked.prefixes << " prefixes, " << checked.unusable << " unusable, " << checked.cut << " cut short, "
            << checked.refused << " refused by the mapper\n";
}

}  // namespace
}  // namespace pemap::test
