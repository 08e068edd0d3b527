// The loader checked against LIEF 0.9's parse of the same files: every import bound to a module's own export
// lands where LIEF's export table says it is, and a displaced image changes exactly the bytes LIEF's relocation
// list names, by exactly the delta.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "pe/relocs.hpp"
#include "process/process.hpp"
#include "support/files.hpp"
#include "verify/facts.hpp"

namespace pemap::inspect {
namespace {

namespace fs = std::filesystem;

struct Graph {
  const char* arch;
  const char* exe;
};

class LoadVsLief : public ::testing::TestWithParam<Graph> {};

// Each binding whose chain ends in an ordinary export: target module base + LIEF's RVA for that name or ordinal.
TEST_P(LoadVsLief, BindingsLandOnLiefsExportAddresses) {
  const fs::path dir = test::testdata_dir() / "bin" / GetParam().arch;
  ldr::LoadOptions options;
  options.search_dirs = {(dir / "system").string()};
  options.bind_delay = true;
  options.allow_missing = true;
  ldr::Process process(std::move(options));
  auto app = process.load_executable((dir / GetParam().exe).string());
  ASSERT_TRUE(app) << app.error().to_string();
  std::map<std::string, Facts> lief;  // per module path
  uint64_t checked = 0, lief_gaps = 0;
  for (const auto& m : process.modules()) {
    for (const auto& b : m->bindings) {
      if (b.how == ldr::How::trap || b.how == ldr::How::bound) continue;
      const auto bang = b.target().find('!');
      ASSERT_NE(bang, std::string::npos) << b.target();
      const ldr::Module* target = process.find(b.target().substr(0, bang));
      ASSERT_NE(target, nullptr) << b.target();
      auto [it, fresh] = lief.try_emplace(target->path);
      if (fresh) it->second = facts_from_lief(target->path);
      ASSERT_TRUE(it->second.error.empty()) << it->second.error;
      const std::string function = b.target().substr(bang + 1);
      const auto& exports = it->second.exports;
      auto match = std::find_if(exports.begin(), exports.end(), [&](const Facts::Export& e) {
        return function[0] == '#' ? "#" + std::to_string(e.ordinal) == function : e.name == function;
      });
      if (match == exports.end() && function[0] == '#') {
        // LIEF 0.9 drops exports without a name (pemap verify names that gap): only those may be absent.
        auto ours = target->exports().by_ordinal(static_cast<uint32_t>(std::stoul(function.substr(1))));
        ASSERT_TRUE(ours.entry.has_value()) << b.target();
        EXPECT_TRUE(ours.entry->name.empty()) << b.target() << " has a name, yet LIEF does not list it";
        EXPECT_EQ(b.address, target->base + ours.entry->rva) << b.target();
        ++lief_gaps;
        continue;
      }
      ASSERT_NE(match, exports.end()) << b.target() << " is not in LIEF's export table";
      EXPECT_EQ(b.address, target->base + match->rva) << m->name << " " << b.dll() << "!" << b.function();
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
  RecordProperty("checked_against_lief", static_cast<int>(checked));
  RecordProperty("noname_exports_lief_drops", static_cast<int>(lief_gaps));
}

INSTANTIATE_TEST_SUITE_P(Testdata, LoadVsLief,
                         ::testing::Values(Graph{"x86", "app.exe"}, Graph{"x64", "app.exe"}, Graph{"x86", "fwdapp.exe"},
                                           Graph{"x64", "fwdapp.exe"}, Graph{"x86", "ordapp.exe"},
                                           Graph{"x64", "ordapp.exe"}, Graph{"x86", "apiset.exe"},
                                           Graph{"x64", "apiset.exe"}, Graph{"x86", "delayapp.exe"},
                                           Graph{"x64", "delayapp.exe"}),
                         [](const auto& param_info) {
                           std::string name = std::string(param_info.param.arch) + "_" + param_info.param.exe;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

// Loads `path` alone (no imports) at a base 4 GiB (PE32+) or 256 MiB (PE32) away from its preferred one and
// compares the view with the unrelocated image: each LIEF fixup holds old + delta, every other byte is unchanged
// except the header's ImageBase.
void expect_relocation_matches_lief(const fs::path& path) {
  SCOPED_TRACE(path.string());
  const Facts lief = facts_from_lief(path.string());
  ASSERT_TRUE(lief.error.empty()) << lief.error;
  ldr::LoadOptions options;
  options.resolve_imports = false;
  ldr::Process probe(options);
  auto preferred = probe.load_library(path.string());
  ASSERT_TRUE(preferred) << preferred.error().to_string();
  const ldr::Module& p = **preferred;
  const uint64_t base = p.section->pe32plus() ? p.preferred_base + 0x1'0000'0000 : 0x20000000;
  const std::vector<std::byte> before = p.image_bytes();
  probe.free_library(p.name).value();
  options.forced_bases[ldr::ModuleName(fs::path(path).filename().string()).key()] = base;
  ldr::Process process(options);
  auto moved = process.load_library(path.string());
  ASSERT_TRUE(moved) << moved.error().to_string();
  const ldr::Module& m = **moved;
  ASSERT_NE(m.base, m.preferred_base);
  const std::vector<std::byte> after = m.image_bytes();
  ASSERT_EQ(before.size(), after.size());
  const uint64_t delta = m.base - m.preferred_base;

  std::set<uint64_t> covered;
  const auto& image = m.section->image();
  const uint64_t image_base_field = image.optional_header_offset() + (image.is_pe32plus() ? 24 : 28);
  for (unsigned i = 0; i < image.pointer_size(); ++i) covered.insert(image_base_field + i);
  uint64_t fixups = 0;
  for (const auto& r : lief.relocs) {
    if (r.type != pe::reloc_type::highlow && r.type != pe::reloc_type::dir64) continue;
    const unsigned width = r.type == pe::reloc_type::dir64 ? 8 : 4;
    uint64_t old = 0, now = 0;
    std::memcpy(&old, before.data() + r.rva, width);
    std::memcpy(&now, after.data() + r.rva, width);
    const uint64_t mask = width == 8 ? ~uint64_t{0} : 0xffffffffu;
    EXPECT_EQ(now, (old + delta) & mask) << "fixup at RVA 0x" << std::hex << r.rva;
    for (unsigned i = 0; i < width; ++i) covered.insert(r.rva + i);
    ++fixups;
  }
  uint64_t changed = 0;
  for (uint64_t i = 0; i < before.size(); ++i)
    if (before[i] != after[i]) {
      ++changed;
      EXPECT_TRUE(covered.count(i)) << "byte at RVA 0x" << std::hex << i << " changed outside every LIEF fixup";
    }
  EXPECT_GT(fixups, 0u);
  EXPECT_GT(changed, 0u);
}

TEST(LoadVsLief, RelocatedBytesAreLiefsFixups) {
  for (const char* file : {"x86/liba.dll", "x86/libb.dll", "x64/liba.dll", "x64/libb.dll", "x64/bigreloc.dll",
                           "x86/app.exe", "x86/tls.exe", "x64/tls.exe", "x86/msvc/liba.dll", "x64/msvc/liba.dll"})
    expect_relocation_matches_lief(test::testdata_dir() / "bin" / file);
}

}  // namespace
}  // namespace pemap::inspect
