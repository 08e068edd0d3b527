// VirtualQuery against what the kernel really has: views, copy-on-write, mprotect splits, free gaps, reservations
// and registered image views.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "memory/section.hpp"
#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"

namespace pemap::win {
namespace {

constexpr size_t k64K = kAllocationGranularity;

uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

MemoryBasicInformation query_ok(const void* p) {
  auto r = virtual_query(p);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return r.has_value() ? *r : MemoryBasicInformation{};
}

/// A 64 KiB-aligned address with nothing mapped at [a, a + len) right now.
unsigned char* free_aligned_address(size_t len) {
  void* p = mmap(nullptr, len + k64K, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  munmap(p, len + k64K);
  return reinterpret_cast<unsigned char*>((addr(p) + k64K - 1) & ~uint64_t{k64K - 1});
}

class VirtualQuery : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/pemap_vq.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/data";
    const int fd = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 0x40000), 0);
    ::close(fd);
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  /// A view of the 256 KiB data file through a section of `protect`.
  unsigned char* map(uint32_t protect, uint32_t access, size_t size = 0, void* base = nullptr) {
    auto f = FileHandle::open(path_, true);
    EXPECT_TRUE(f.has_value());
    auto s = create_file_mapping(&*f, protect, 0);
    EXPECT_TRUE(s.has_value()) << s.error().to_string();
    auto v = map_view_of_file_ex(*s, access, 0, size, base);
    EXPECT_TRUE(v.has_value()) << v.error().to_string();
    return v.has_value() ? static_cast<unsigned char*>(*v) : nullptr;
  }

  std::string dir_, path_;
};

TEST_F(VirtualQuery, ReadOnlyViewIsCommittedReadOnlyMapped) {
  auto* v = map(PAGE_READONLY, FILE_MAP_READ, 0x3000);
  ASSERT_NE(v, nullptr);
  const auto m = query_ok(v);
  EXPECT_EQ(m.base, addr(v));
  EXPECT_EQ(m.allocation_base, addr(v));
  EXPECT_EQ(m.region_size, 0x3000u);
  EXPECT_EQ(m.state, MEM_COMMIT);
  EXPECT_EQ(m.protect, PAGE_READONLY);
  EXPECT_EQ(m.allocation_protect, PAGE_READONLY);
  EXPECT_EQ(m.type, MEM_MAPPED);
  EXPECT_TRUE(m.sections.empty());
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(VirtualQuery, ProtectionOfEachViewKind) {
  struct Case {
    uint32_t section_protect, access, protect;
  };
  const Case cases[] = {
      {PAGE_READWRITE, FILE_MAP_WRITE, PAGE_READWRITE},
      {PAGE_READWRITE, FILE_MAP_ALL_ACCESS, PAGE_READWRITE},
      {PAGE_READWRITE, FILE_MAP_COPY, PAGE_WRITECOPY},
      {PAGE_WRITECOPY, FILE_MAP_COPY, PAGE_WRITECOPY},
      {PAGE_EXECUTE_READ, FILE_MAP_READ | FILE_MAP_EXECUTE, PAGE_EXECUTE_READ},
      {PAGE_EXECUTE_READWRITE, FILE_MAP_WRITE | FILE_MAP_EXECUTE, PAGE_EXECUTE_READWRITE},
      {PAGE_EXECUTE_READ, FILE_MAP_COPY | FILE_MAP_EXECUTE, PAGE_EXECUTE_WRITECOPY},
  };
  for (const auto& c : cases) {
    auto* v = map(c.section_protect, c.access, 0x2000);
    ASSERT_NE(v, nullptr);
    const auto m = query_ok(v + 0x1000);
    EXPECT_EQ(m.protect, c.protect) << std::hex << "section " << c.section_protect << " access " << c.access;
    EXPECT_EQ(m.allocation_protect, c.protect);
    EXPECT_EQ(m.type, MEM_MAPPED);
    EXPECT_EQ(m.state, MEM_COMMIT);
    EXPECT_TRUE(unmap_view_of_file(v).has_value());
  }
}

TEST_F(VirtualQuery, InteriorAddressStartsAtItsPage) {
  auto* v = map(PAGE_READWRITE, FILE_MAP_WRITE, 0x10000);
  ASSERT_NE(v, nullptr);
  const auto m = query_ok(v + 0x5123);
  EXPECT_EQ(m.base, addr(v) + 0x5000);
  EXPECT_EQ(m.region_size, 0xb000u);
  EXPECT_EQ(m.allocation_base, addr(v));
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(VirtualQuery, FreeAddressIsMemFree) {
  auto* base = free_aligned_address(0x30000);
  const auto m = query_ok(base + 0x10);
  EXPECT_EQ(m.state, MEM_FREE);
  EXPECT_EQ(m.base, addr(base));
  EXPECT_GE(m.region_size, 0x30000u);
  EXPECT_EQ(m.protect, PAGE_NOACCESS);
  EXPECT_EQ(m.allocation_base, 0u);
  EXPECT_EQ(m.allocation_protect, 0u);
  EXPECT_EQ(m.type, 0u);
}

TEST_F(VirtualQuery, UnmappedViewBecomesFree) {
  auto* v = map(PAGE_READWRITE, FILE_MAP_WRITE, 0x10000);
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_EQ(query_ok(v).state, MEM_FREE);
}

TEST_F(VirtualQuery, MprotectSplitsAViewAsTheKernelDoes) {
  auto* v = map(PAGE_READWRITE, FILE_MAP_WRITE, 0x4000);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(mprotect(v + 0x1000, 0x1000, PROT_READ), 0);
  const auto regions = query_range(v, 0x4000);
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_EQ(regions[0].base, addr(v));
  EXPECT_EQ(regions[0].region_size, 0x1000u);
  EXPECT_EQ(regions[0].protect, PAGE_READWRITE);
  EXPECT_EQ(regions[1].base, addr(v) + 0x1000);
  EXPECT_EQ(regions[1].region_size, 0x1000u);
  EXPECT_EQ(regions[1].protect, PAGE_READONLY);
  EXPECT_EQ(regions[2].base, addr(v) + 0x2000);
  EXPECT_EQ(regions[2].region_size, 0x2000u);
  EXPECT_EQ(regions[2].protect, PAGE_READWRITE);
  for (const auto& r : regions) {
    EXPECT_EQ(r.allocation_base, addr(v));
    EXPECT_EQ(r.allocation_protect, PAGE_READWRITE);
    EXPECT_EQ(r.type, MEM_MAPPED);
  }
  // Back to one protection: the kernel may keep two VMAs, the query still gives one region.
  ASSERT_EQ(mprotect(v + 0x1000, 0x1000, PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(query_ok(v).region_size, 0x4000u);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(VirtualQuery, AdjacentViewsAreSeparateAllocations) {
  auto* base = free_aligned_address(0x20000);
  auto* a = map(PAGE_READWRITE, FILE_MAP_WRITE, 0x10000, base);
  ASSERT_EQ(a, base);
  // The second view continues the file right after the first: the kernel may merge the two into one VMA.
  auto f = FileHandle::open(path_, true);
  ASSERT_TRUE(f.has_value());
  auto s = create_file_mapping(&*f, PAGE_READWRITE, 0);
  ASSERT_TRUE(s.has_value());
  auto b = map_view_of_file_ex(*s, FILE_MAP_WRITE, 0x10000, 0x10000, base + 0x10000);
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  const auto regions = query_range(base, 0x20000);
  ASSERT_EQ(regions.size(), 2u);
  EXPECT_EQ(regions[0].allocation_base, addr(base));
  EXPECT_EQ(regions[0].region_size, 0x10000u);
  EXPECT_EQ(regions[1].allocation_base, addr(base) + 0x10000);
  EXPECT_EQ(regions[1].region_size, 0x10000u);
  EXPECT_TRUE(unmap_view_of_file(a).has_value());
  EXPECT_TRUE(unmap_view_of_file(*b).has_value());
}

TEST_F(VirtualQuery, ViewThenFreeGap) {
  auto* base = free_aligned_address(0x30000);
  auto* v = map(PAGE_READONLY, FILE_MAP_READ, 0x10000, base);
  ASSERT_EQ(v, base);
  const auto regions = query_range(base, 0x30000);
  ASSERT_GE(regions.size(), 2u);
  EXPECT_EQ(regions[0].type, MEM_MAPPED);
  EXPECT_EQ(regions[0].region_size, 0x10000u);
  EXPECT_EQ(regions[1].state, MEM_FREE);
  EXPECT_EQ(regions[1].base, addr(base) + 0x10000);
  EXPECT_GE(regions[1].region_size, 0x20000u);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(VirtualQuery, ReservationHasReservedAndCommittedPages) {
  auto* r = static_cast<unsigned char*>(mmap(nullptr, 0x4000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(r, MAP_FAILED);
  ASSERT_EQ(mprotect(r + 0x1000, 0x1000, PROT_READ | PROT_WRITE), 0);
  register_reservation(r, 0x4000, PAGE_READWRITE);
  const auto regions = query_range(r, 0x4000);
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_EQ(regions[0].state, MEM_RESERVE);
  EXPECT_EQ(regions[0].protect, 0u);
  EXPECT_EQ(regions[0].region_size, 0x1000u);
  EXPECT_EQ(regions[1].state, MEM_COMMIT);
  EXPECT_EQ(regions[1].protect, PAGE_READWRITE);
  EXPECT_EQ(regions[2].state, MEM_RESERVE);
  EXPECT_EQ(regions[2].region_size, 0x2000u);
  for (const auto& m : regions) {
    EXPECT_EQ(m.allocation_base, addr(r));
    EXPECT_EQ(m.allocation_protect, PAGE_READWRITE);
    EXPECT_EQ(m.type, MEM_PRIVATE);
  }
  unregister_reservation(r);
  // Unregistered, PROT_NONE is just committed no-access memory of its own.
  const auto m = query_ok(r);
  EXPECT_EQ(m.state, MEM_COMMIT);
  EXPECT_EQ(m.protect, PAGE_NOACCESS);
  EXPECT_EQ(m.allocation_base, addr(r));
  munmap(r, 0x4000);
}

TEST_F(VirtualQuery, ImageViewRegionsNameTheirSections) {
  // An image laid out by hand: headers R, .text RX, .data RW copy-on-write (private file pages), .rdata R.
  const int fd = ::open(path_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  auto* image = static_cast<unsigned char*>(mmap(nullptr, 0x5000, PROT_READ, MAP_PRIVATE, fd, 0));
  ::close(fd);
  ASSERT_NE(image, MAP_FAILED);
  ASSERT_EQ(mprotect(image + 0x1000, 0x1000, PROT_READ | PROT_EXEC), 0);
  ASSERT_EQ(mprotect(image + 0x2000, 0x2000, PROT_READ | PROT_WRITE), 0);
  bool released = false;
  std::shared_ptr<const void> keepalive(image, [&released](const void* p) {
    munmap(const_cast<void*>(p), 0x5000);
    released = true;
  });
  register_image_view(
      image, 0x5000,
      {{0x2000, 0x2000, ".data"}, {0x0, 0x1000, "(headers)"}, {0x1000, 0x1000, ".text"}, {0x4000, 0x1000, ".rdata"}},
      std::move(keepalive));
  const auto regions = query_range(image, 0x5000);
  ASSERT_EQ(regions.size(), 4u);
  const struct {
    uint64_t offset, size;
    uint32_t protect;
    const char* section;
  } expected[] = {{0, 0x1000, PAGE_READONLY, "(headers)"},
                  {0x1000, 0x1000, PAGE_EXECUTE_READ, ".text"},
                  {0x2000, 0x2000, PAGE_WRITECOPY, ".data"},
                  {0x4000, 0x1000, PAGE_READONLY, ".rdata"}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(regions[i].base, addr(image) + expected[i].offset) << i;
    EXPECT_EQ(regions[i].region_size, expected[i].size) << i;
    EXPECT_EQ(regions[i].protect, expected[i].protect) << i;
    EXPECT_EQ(regions[i].sections, std::vector<std::string>{expected[i].section}) << i;
    EXPECT_EQ(regions[i].type, MEM_IMAGE);
    EXPECT_EQ(regions[i].state, MEM_COMMIT);
    EXPECT_EQ(regions[i].allocation_base, addr(image));
    EXPECT_EQ(regions[i].allocation_protect, PAGE_EXECUTE_WRITECOPY);
  }
  EXPECT_FALSE(released);
  unregister_image_view(image);
  EXPECT_TRUE(released);
  EXPECT_EQ(query_ok(image).state, MEM_FREE);
}

TEST_F(VirtualQuery, AdjacentSectionsWithOneProtectionAreOneRegion) {
  // headers R, .text RX, then .rdata .pdata .xdata R (one VMA apart from the last, which the kernel keeps apart
  // because it is mapped on its own), a reserved gap, .tls R: Windows answers four regions and a reserved one.
  auto* image = static_cast<unsigned char*>(mmap(nullptr, 0x7000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(image, MAP_FAILED);
  ASSERT_EQ(mprotect(image + 0x1000, 0x1000, PROT_READ | PROT_EXEC), 0);
  ASSERT_EQ(mmap(image + 0x4000, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), image + 0x4000);
  ASSERT_EQ(mprotect(image + 0x5000, 0x1000, PROT_NONE), 0);
  register_image_view(image, 0x7000,
                      {{0x0, 0x1000, "(headers)"},
                       {0x1000, 0x1000, ".text"},
                       {0x2000, 0x1000, ".rdata"},
                       {0x3000, 0x1000, ".pdata"},
                       {0x4000, 0x1000, ".xdata"},
                       {0x6000, 0x1000, ".tls"}},
                      {});
  const auto regions = query_range(image, 0x7000);
  ASSERT_EQ(regions.size(), 5u);
  const struct {
    uint64_t offset, size;
    uint32_t state;
    std::vector<std::string> sections;
  } expected[] = {{0, 0x1000, MEM_COMMIT, {"(headers)"}},
                  {0x1000, 0x1000, MEM_COMMIT, {".text"}},
                  {0x2000, 0x3000, MEM_COMMIT, {".rdata", ".pdata", ".xdata"}},
                  {0x5000, 0x1000, MEM_RESERVE, {}},
                  {0x6000, 0x1000, MEM_COMMIT, {".tls"}}};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(regions[i].base, addr(image) + expected[i].offset) << i;
    EXPECT_EQ(regions[i].region_size, expected[i].size) << i;
    EXPECT_EQ(regions[i].state, expected[i].state) << i;
    EXPECT_EQ(regions[i].sections, expected[i].sections) << i;
  }
  // Asked from inside the run, the region starts at the page asked and spans the rest of it.
  const auto mid = query_ok(image + 0x3800);
  EXPECT_EQ(mid.base, addr(image) + 0x3000);
  EXPECT_EQ(mid.region_size, 0x2000u);
  EXPECT_EQ(mid.sections, (std::vector<std::string>{".pdata", ".xdata"}));
  unregister_image_view(image);
  munmap(image, 0x7000);
}

TEST_F(VirtualQuery, StackAndHeapArePrivateReadWrite) {
  int local = 0;
  auto heap = std::make_unique<std::vector<char>>(1 << 20);
  for (const void* p : {static_cast<const void*>(&local), static_cast<const void*>(heap->data())}) {
    const auto m = query_ok(p);
    EXPECT_EQ(m.state, MEM_COMMIT);
    EXPECT_EQ(m.protect, PAGE_READWRITE);
    EXPECT_EQ(m.type, MEM_PRIVATE);
    EXPECT_LE(m.allocation_base, addr(p));
    EXPECT_GT(m.base + m.region_size, addr(p));
  }
}

TEST_F(VirtualQuery, CodeOfThisProgramIsExecuteRead) {
  const auto m = query_ok(reinterpret_cast<const void*>(&query_ok));
  EXPECT_EQ(m.state, MEM_COMMIT);
  EXPECT_EQ(m.protect, PAGE_EXECUTE_READ);
}

TEST_F(VirtualQuery, AddressAboveUserSpaceIsInvalidParameter) {
  auto r = virtual_query(reinterpret_cast<const void*>(uintptr_t{0xffff800000000000}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().win32, static_cast<uint32_t>(Win32Error::invalid_parameter));
  EXPECT_NE(r.error().message.find("ERROR_INVALID_PARAMETER"), std::string::npos);
}

}  // namespace
}  // namespace pemap::win
