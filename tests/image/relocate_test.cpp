// The arithmetic of each relocation type, on known values (LOADER-RULES.md "Placement and relocation").
#include <gtest/gtest.h>

#include "relocate.hpp"

namespace pemap {
namespace {

using namespace pe::reloc_type;

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

}  // namespace
}  // namespace pemap
