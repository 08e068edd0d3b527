// The loader's export lookup reads the directory at each lookup; the parser walks it whole. On every testdata
// and corkami file they must agree: each parsed export found by its name and hint and by its ordinal, with the
// same address, forwarder and ordinal. Both cut the directory's counts with pe::export_counts, so the ordinals
// they list are also checked against a count of the address table made here, slot by slot.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "process/export_lookup.hpp"
#include "support/files.hpp"

namespace pemap::ldr::test {
namespace {

namespace fs = std::filesystem;

struct Checked {
  size_t files = 0, by_name = 0, by_ordinal = 0, slots = 0;
};

/// The ordinals of the address table's non-zero slots, read one by one as far as NumberOfFunctions or the end of
/// the image, whichever comes first: the parser's list must hold exactly these (it leaves zero slots out).
std::vector<uint64_t> nonzero_slot_ordinals(const pe::Image& image, const pe::ExportDirectory& d) {
  std::vector<uint64_t> out;
  const uint64_t table = d.AddressOfFunctions, end = image.mapped_size();
  for (uint64_t i = 0; i < d.NumberOfFunctions && table + 4 * i + 4 <= end; ++i) {
    auto slot = image.read_rva<uint32_t>(table + 4 * i, "export address table");
    if (slot && *slot != 0) out.push_back(static_cast<uint32_t>(d.Base + i));  // ordinals are 32 bits, and wrap
  }
  return out;
}

void check_file(const fs::path& path, Checked& checked) {
  const auto bytes = pemap::test::read_file(path);
  auto image = pe::Image::parse({bytes.data(), bytes.size()});
  if (!image) return;
  auto parsed = pe::parse_exports(*image);
  auto lookup = ExportLookup::create(*image);
  ASSERT_EQ(parsed.has_value(), lookup.has_value()) << path;
  if (!parsed) return;
  ++checked.files;
  SCOPED_TRACE(path.string());
  uint64_t previous_ordinal = UINT64_MAX;
  for (const auto& e : parsed->entries) {
    const auto by_ordinal = lookup->by_ordinal(e.ordinal);
    ASSERT_TRUE(by_ordinal.entry.has_value()) << "#" << e.ordinal;
    EXPECT_EQ(by_ordinal.entry->rva, e.rva) << "#" << e.ordinal;
    EXPECT_EQ(by_ordinal.entry->forwarder, e.forwarder) << "#" << e.ordinal;
    // The parser lists a slot's names in name-table order; the lookup names the slot by the first, cut to 256.
    if (e.ordinal != previous_ordinal && !e.name.empty()) {
      EXPECT_EQ(by_ordinal.entry->name, e.name.substr(0, 256)) << "#" << e.ordinal;
    }
    previous_ordinal = e.ordinal;
    ++checked.by_ordinal;
    // A name the loader compares cut to 64 KiB, or one an unsorted table hides from the search, may find another.
    if (e.name.empty() || e.name.size() > kMaxAnsiName || !parsed->names_sorted) continue;
    const auto hinted = lookup->by_name(e.name, static_cast<uint16_t>(e.name_index));
    ASSERT_TRUE(hinted.entry.has_value()) << e.name;
    if (e.name_index <= UINT16_MAX) {
      EXPECT_EQ(hinted.how, How::hint) << e.name;
    }
    EXPECT_EQ(hinted.entry->name, e.name);
    // Several names may share a slot and a name may appear twice: the address is what must agree.
    EXPECT_EQ(hinted.entry->rva, e.rva) << e.name;
    EXPECT_EQ(hinted.entry->forwarder, e.forwarder) << e.name;
    ++checked.by_name;
  }
  EXPECT_FALSE(lookup->by_name("pemap-no-such-export", 0).entry.has_value());
  std::vector<uint64_t> listed;
  for (const auto& e : parsed->entries)
    if (listed.empty() || listed.back() != e.ordinal) listed.push_back(e.ordinal);
  if (parsed->present) {
    EXPECT_EQ(listed, nonzero_slot_ordinals(*image, parsed->directory));
  }
  checked.slots += listed.size();
}

TEST(ExportLookup, AgreesWithTheParserOnTestdata) {
  Checked checked;
  for (const auto& f : fs::recursive_directory_iterator(pemap::test::testdata_dir() / "bin"))
    if (f.is_regular_file()) check_file(f.path(), checked);
  std::printf("[ lookup   ] testdata: %zu files, %zu by name, %zu by ordinal, %zu slots\n", checked.files,
              checked.by_name, checked.by_ordinal, checked.slots);
  EXPECT_GT(checked.by_name, 20u);
}

TEST(ExportLookup, AgreesWithTheParserOnTheCorpus) {
  const fs::path dir = pemap::test::corpus_dir();
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no corpus at " << dir << " (../shared/corpus/corkami)";
  Checked checked;
  for (const auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file() && f.path().filename() != "MANIFEST.tsv") check_file(f.path(), checked);
  std::printf("[ lookup   ] corkami: %zu files, %zu by name, %zu by ordinal, %zu slots\n", checked.files,
              checked.by_name, checked.by_ordinal, checked.slots);
  EXPECT_GT(checked.by_ordinal, 50u);
}

}  // namespace
}  // namespace pemap::ldr::test
