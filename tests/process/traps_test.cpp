// The trap table: one address per missing function however often it is asked for, and the name back from it.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "process/traps.hpp"

namespace pemap::ldr::test {
namespace {

std::string name_of(unsigned i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "nosuch%u.dll!function%u", i % 7, i);
  return buf;
}

// 100,000 names grow the name index many times over (it once took a size that was not a power of two as its
// mask, and probing a full subset of slots never ended: Bounds.HugeImportTableOfMissingFunctions hung).
TEST(Traps, EachNameKeepsOneAddressAcrossGrowth) {
  TrapTable traps;
  constexpr unsigned kCount = 100000;
  std::set<uint64_t> seen;
  for (unsigned i = 0; i < kCount; ++i) {
    const uint64_t a = traps.address_for(name_of(i));
    ASSERT_NE(a, 0u) << i;
    ASSERT_TRUE(seen.insert(a).second) << name_of(i) << " got the address of another name";
  }
  EXPECT_EQ(traps.size(), kCount);
  uint64_t previous = 0;
  for (unsigned i = 0; i < kCount; i += 997) {
    const uint64_t a = traps.address_for(name_of(i));
    EXPECT_EQ(traps.name_at(a), name_of(i));
    EXPECT_NE(a, previous);
    previous = a;
  }
  EXPECT_EQ(traps.size(), kCount) << "asking again made new traps";
}

TEST(Traps, AddressesBetweenTrapsAndOutsideNameNothing) {
  TrapTable traps;
  const uint64_t a = traps.address_for("nosuch.dll!f");
  const uint64_t b = traps.address_for("nosuch.dll!g");
  EXPECT_EQ(b, a + TrapTable::kSpacing);
  EXPECT_LT(b, uint64_t{1} << 32) << "PE32 IAT slots must be able to hold it";
  EXPECT_EQ(traps.name_at(a), "nosuch.dll!f");
  EXPECT_EQ(traps.name_at(a + 1), "");
  EXPECT_EQ(traps.name_at(b + TrapTable::kSpacing), "") << "not handed out yet";
  EXPECT_EQ(traps.name_at(0), "");
}

// A name as long as the loader lets one be, twice over: held whole in a block of its own.
TEST(Traps, NamesLongerThanABlock) {
  TrapTable traps;
  const std::string long_name = "x.dll!" + std::string(200000, 'n');
  const uint64_t a = traps.address_for("x.dll!short");
  const uint64_t b = traps.address_for(long_name);
  EXPECT_EQ(traps.name_at(b), long_name);
  EXPECT_EQ(traps.name_at(a), "x.dll!short");
  EXPECT_EQ(traps.address_for(long_name), b);
}

}  // namespace
}  // namespace pemap::ldr::test
