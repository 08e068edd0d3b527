// The relocation engine: the arithmetic of each type on known values (docs/loader.md, "Relocation"),
// and apply_relocations on mapped synthetic images, each expected value worked out by hand from the PE/COFF
// specification (section 6.6), with the page protections the kernel reports before and after.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "memory/image_section.hpp"
#include "pe/relocs.hpp"
#include "relocate.hpp"
#include "support/kernel_maps.hpp"
#include "support/pe_builder.hpp"

namespace pemap {
namespace {

using namespace pe::reloc_type;
using test::PeBuilder;
using test::RelocBlock;
using test::Section;

TEST(RelocatedValue, EachTypeAddsItsPartOfTheDelta) {
  EXPECT_EQ(relocated_value(highlow, 0x10001234, 0x10000000, 0), 0x20001234u);
  EXPECT_EQ(relocated_value(highlow, 0xfffffff0, 0x20, 0), 0x10u);  // 32-bit wrap
  EXPECT_EQ(relocated_value(dir64, 0x180001000ull, -0x170000000ll, 0), 0x10001000u);
  EXPECT_EQ(relocated_value(low, 0x1234, 0x00015678, 0), 0x68acu);
  EXPECT_EQ(relocated_value(high, 0x1000, 0x00020000, 0), 0x1002u);
  // HIGHADJ: high half 0x1000, low half 0x8000 (negative): 0x0fff8000 + 0x00018000 = 0x10010000, rounded.
  EXPECT_EQ(relocated_value(highadj, 0x1000, 0x00018000, 0x8000), 0x1001u);
  EXPECT_EQ(relocated_value(highadj, 0x1000, 0x00008000, 0x7fff), 0x1001u);
  EXPECT_EQ(relocated_value(absolute, 0xdead, 0x10000, 0), 0xdeadu);  // padding: untouched
}

constexpr uint32_t kCode = 0x60000020, kReadOnly = 0x40000040, kData = 0xC0000040, kShared = 0xD0000040;

std::vector<std::byte> page() { return std::vector<std::byte>(0x1000); }

void put(std::vector<std::byte>& data, uint32_t at, uint64_t value, unsigned width) {
  std::memcpy(data.data() + at, &value, width);
}

uint64_t get(const std::byte* at, unsigned width) {
  uint64_t v = 0;
  std::memcpy(&v, at, width);
  return v;
}

uint16_t entry(uint8_t type, uint16_t offset) { return static_cast<uint16_t>(type << 12 | offset); }

/// A built image as the memory manager maps it (from a memfd: no file is left behind), one view of it, and its
/// relocations; the view stays at whatever base it got, since apply_relocations takes the delta it is given.
struct Mapped {
  std::shared_ptr<win::ImageSection> section;
  std::optional<win::ImageView> view;
  std::optional<pe::Relocations> relocs;

  explicit Mapped(const test::BuiltPe& pe) {
    const int fd = ::memfd_create("relocate_test", MFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, pe.bytes.data(), pe.bytes.size()), static_cast<ssize_t>(pe.bytes.size()));
    auto s = win::ImageSection::create_from_fd(fd, "relocate_test.dll");
    ::close(fd);
    if (!s) ADD_FAILURE() << s.error().to_string();
    if (!s) return;
    section = *s;
    auto v = win::ImageView::map(section);
    if (!v) ADD_FAILURE() << v.error().to_string();
    if (v) view.emplace(std::move(*v));
    auto r = pe::parse_relocations(section->image());
    if (!r) ADD_FAILURE() << r.error().to_string();
    if (r) relocs.emplace(std::move(*r));
  }
  bool ok() const { return view && relocs; }
  std::byte* at(uint32_t rva) const { return view->base() + rva; }
  Result<RelocationStats> apply(int64_t delta) const {
    return apply_relocations(*section, view->base(), *relocs, delta);
  }
  /// The kernel's protection of every page of the view.
  std::vector<std::string> kernel_perms() const {
    std::vector<std::string> out;
    for (uint64_t off = 0; off < view->size(); off += 0x1000) out.push_back(test::kernel_perms(view->base() + off));
    return out;
  }
};

// A PE32 image at 0x10000000: .text (RX) at 0x1000, .rdata (R) at 0x2000, .data (RW) at 0x3000, and a HIGHLOW
// whose 4 bytes straddle the end of .text and the start of .rdata.
test::BuiltPe x86_image() {
  auto text = page(), rdata = page(), data = page();
  put(text, 0x10, 0x10001234, 4);  // HIGHLOW in code
  put(text, 0xffe, 0x1234, 2);     // HIGHLOW across .text | .rdata: low half here ...
  put(rdata, 0x0, 0x1000, 2);      // ... high half there: 0x10001234
  put(rdata, 0x10, 0x1000, 2);     // HIGH
  put(rdata, 0x20, 0x1234, 2);     // LOW
  put(data, 0x10, 0x1000, 2);      // HIGHADJ, low half 0x8000 (negative)
  put(data, 0x20, 0x1000, 2);      // HIGHADJ, low half 0x7fff
  put(data, 0x30, 0xfffffff0, 4);  // HIGHLOW that wraps
  put(data, 0x40, 0x12345678, 4);  // no fixup: must stay
  PeBuilder b(false);
  b.image_base(0x10000000).characteristics(0x2102);  // DLL, 32-bit, executable
  b.add_section({.name = ".text", .data = text, .characteristics = kCode});
  b.add_section({.name = ".rdata", .data = rdata, .characteristics = kReadOnly});
  b.add_section({.name = ".data", .data = data, .characteristics = kData});
  b.add_relocs({{.page_rva = 0x1000, .entries = {entry(highlow, 0x10), entry(highlow, 0xffe)}},
                {.page_rva = 0x2000, .entries = {entry(high, 0x10), entry(low, 0x20)}},
                {.page_rva = 0x3000,
                 .entries = {entry(highadj, 0x10), 0x8000, entry(highadj, 0x20), 0x7fff, entry(highlow, 0x30),
                             entry(absolute, 0)}}});
  return b.build();
}

// apply_relocations' own code for each type, on a mapped PE32 image, for a delta whose low half is not zero
// (0x18000), so HIGH, LOW and HIGHADJ each give a value no other type would.
TEST(ApplyRelocations, EveryX86TypeOnAMappedImage) {
  Mapped m(x86_image());
  ASSERT_TRUE(m.ok());
  auto stats = m.apply(0x18000);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(get(m.at(0x1010), 4), 0x10019234u);  // 0x10001234 + 0x18000
  EXPECT_EQ(get(m.at(0x2010), 2), 0x1001u);      // HIGH: 0x1000 + high half of 0x18000
  EXPECT_EQ(get(m.at(0x2020), 2), 0x9234u);      // LOW: 0x1234 + low half of 0x18000
  EXPECT_EQ(get(m.at(0x3010), 2), 0x1001u);      // HIGHADJ: 0x0fff8000 + 0x18000 = 0x10010000 -> 0x1001
  EXPECT_EQ(get(m.at(0x3020), 2), 0x1002u);      // HIGHADJ: 0x10007fff + 0x18000 = 0x1001ffff, rounded -> 0x1002
  EXPECT_EQ(get(m.at(0x3030), 4), 0x00017ff0u);  // 0xfffffff0 + 0x18000, mod 2^32
  EXPECT_EQ(get(m.at(0x3040), 4), 0x12345678u);
  EXPECT_EQ(stats->per_type, (std::map<uint8_t, uint64_t>{{high, 1}, {low, 1}, {highlow, 3}, {highadj, 2}}));
}

// A HIGHLOW whose bytes lie half in .text and half in .rdata: both halves are written, and both pages get their
// protections back.
TEST(ApplyRelocations, FixupStraddlingTwoSections) {
  Mapped m(x86_image());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m.apply(0x18000));
  EXPECT_EQ(get(m.at(0x1ffe), 4), 0x10019234u);
  EXPECT_EQ(test::kernel_perms(m.at(0x1fff)), "r-xp");
  EXPECT_EQ(test::kernel_perms(m.at(0x2000)), "r--p");
}

// Every page of the view has, after the fixups, the protection the kernel gave it before them: the temporary
// writable protections are all taken back, read-only and code pages included.
TEST(ApplyRelocations, KernelProtectionsAreTheSameAfterRelocation) {
  Mapped m(x86_image());
  ASSERT_TRUE(m.ok());
  const auto before = m.kernel_perms();
  ASSERT_TRUE(m.apply(0x18000));
  EXPECT_EQ(m.kernel_perms(), before);
  EXPECT_EQ(before[1], "r-xp");  // .text
  EXPECT_EQ(before[2], "r--p");  // .rdata
}

// PE32+: DIR64 in a data section and in code, for a negative delta and one above 4 GiB.
TEST(ApplyRelocations, Dir64OnAMappedImage) {
  auto text = page(), data = page();
  put(text, 0x8, 0x180001000ull, 8);
  put(data, 0x0, 0x180002000ull, 8);
  put(data, 0x8, 0x0000000000000010ull, 8);
  PeBuilder b(true);
  b.image_base(0x180000000ull).characteristics(0x2022);
  b.add_section({.name = ".text", .data = text, .characteristics = kCode});
  b.add_section({.name = ".data", .data = data, .characteristics = kData});
  b.add_relocs({{.page_rva = 0x1000, .entries = {entry(dir64, 0x8)}},
                {.page_rva = 0x2000, .entries = {entry(dir64, 0x0), entry(dir64, 0x8)}}});
  Mapped m(b.build());
  ASSERT_TRUE(m.ok());
  const auto before = m.kernel_perms();
  auto stats = m.apply(-0x170000000ll);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(get(m.at(0x1008), 8), 0x10001000u);
  EXPECT_EQ(get(m.at(0x2000), 8), 0x10002000u);
  EXPECT_EQ(get(m.at(0x2008), 8), 0xfffffffe90000010ull);  // 0x10 - 0x170000000, mod 2^64
  EXPECT_EQ(stats->per_type, (std::map<uint8_t, uint64_t>{{dir64, 3}}));
  EXPECT_EQ(m.kernel_perms(), before);
  ASSERT_TRUE(m.apply(0x1230000000ll));  // on top, above 4 GiB: 0x10001000 + 0x1230000000
  EXPECT_EQ(get(m.at(0x1008), 8), 0x1240001000ull);
}

// A fixup in a MEM_SHARED section is applied to the section's one shared object (the fixups belong to the image,
// shared pages included: page_writer.hpp), which stays shared, writable, and otherwise untouched.
TEST(ApplyRelocations, FixupInASharedSection) {
  auto shared = page();
  put(shared, 0x0, 0x10003000, 4);
  put(shared, 0x4, 0xabcdef01, 4);
  PeBuilder b(false);
  b.image_base(0x10000000).characteristics(0x2102);
  b.add_section({.name = ".text", .data = page(), .characteristics = kCode});
  b.add_section({.name = "Shared", .data = shared, .characteristics = kShared});
  b.add_relocs({{.page_rva = 0x2000, .entries = {entry(highlow, 0x0)}}});
  Mapped m(b.build());
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(test::kernel_perms(m.at(0x2000)), "rw-s");
  auto stats = m.apply(0x20000);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(get(m.at(0x2000), 4), 0x10023000u);
  EXPECT_EQ(get(m.at(0x2004), 4), 0xabcdef01u);
  EXPECT_EQ(test::kernel_perms(m.at(0x2000)), "rw-s");
  // A second view of the same image object sees the shared page as relocated.
  auto other = win::ImageView::map(m.section);
  ASSERT_TRUE(other) << other.error().to_string();
  EXPECT_EQ(get(other->base() + 0x2000, 4), 0x10023000u);
}

}  // namespace
}  // namespace pemap
