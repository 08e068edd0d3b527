// relocs --check's comparison sees a wrong fixup: an image relocated for real passes it, and the same image with one
// fixup's byte corrupted, or a byte changed outside every fixup, is a violation (`relocs --check` exits 1 on any).
#include <gtest/gtest.h>

#include "memory/image_section.hpp"
#include "pe/relocs.hpp"
#include "relocate.hpp"
#include "relocs_check.hpp"
#include "support/files.hpp"

namespace pemap::inspect {
namespace {

struct Relocated {
  std::shared_ptr<win::ImageSection> section;  // the relocations view its image
  std::vector<std::byte> before, after;
  std::optional<pe::Relocations> relocs;
  int64_t delta = 0;
};

/// testdata's x64 libb.dll at its preferred base and relocated at 0x30000000, as `relocs --check` makes them.
Relocated libb_relocated() {
  Relocated out;
  auto section = win::ImageSection::create((test::testdata_dir() / "bin" / "x64" / "libb.dll").string());
  EXPECT_TRUE(section) << section.error().to_string();
  if (!section) return out;
  auto relocs = pe::parse_relocations((*section)->image());
  auto at_preferred = win::ImageView::map(*section, reinterpret_cast<void*>((*section)->preferred_base()));
  auto moved = win::ImageView::map(*section, reinterpret_cast<void*>(0x30000000));
  EXPECT_TRUE(relocs && at_preferred && moved);
  if (!relocs || !at_preferred || !moved) return out;
  out.delta = static_cast<int64_t>(0x30000000 - (*section)->preferred_base());
  EXPECT_TRUE(apply_relocations(**section, moved->base(), *relocs, out.delta));
  out.before = at_preferred->bytes();
  out.after = moved->bytes();
  out.relocs.emplace(std::move(*relocs));
  out.section = *section;
  return out;
}

uint32_t first_dir64(const pe::Relocations& relocs) {
  uint32_t rva = 0;
  relocs.for_each([&](const pe::RelocEntry& e) {
    if (!rva && e.type == pe::reloc_type::dir64) rva = e.rva;
  });
  return rva;
}

TEST(RelocsCheck, ARelocatedImagePasses) {
  auto r = libb_relocated();
  ASSERT_TRUE(r.relocs);
  const auto report = compare_relocated(r.before, r.after, *r.relocs, r.delta);
  EXPECT_EQ(report.violations, 0u);
  EXPECT_EQ(report.bytes_compared, r.after.size());
}

TEST(RelocsCheck, ACorruptedFixupIsAViolation) {
  auto r = libb_relocated();
  ASSERT_TRUE(r.relocs);
  const uint32_t rva = first_dir64(*r.relocs);
  ASSERT_NE(rva, 0u);
  r.after[rva + 1] ^= std::byte{0x40};
  const auto report = compare_relocated(r.before, r.after, *r.relocs, r.delta);
  ASSERT_EQ(report.violations, 1u);
  ASSERT_EQ(report.first.size(), 1u);
  EXPECT_EQ(report.first[0].rva, rva + 1);
  EXPECT_EQ(report.first[0].reason, "not the value its fixups give");
}

TEST(RelocsCheck, AByteChangedOutsideEveryFixupIsAViolation) {
  auto r = libb_relocated();
  ASSERT_TRUE(r.relocs);
  const uint32_t rva = 0x1000;  // the first byte of .text: code, no fixup
  r.after[rva] ^= std::byte{0x01};
  const auto report = compare_relocated(r.before, r.after, *r.relocs, r.delta);
  ASSERT_EQ(report.violations, 1u);
  ASSERT_EQ(report.first.size(), 1u);
  EXPECT_EQ(report.first[0].reason, "changed outside every fixup");
}

}  // namespace
}  // namespace pemap::inspect
