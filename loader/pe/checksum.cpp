// The PE checksum.
#include "pe/checksum.hpp"

#include <algorithm>
#include <cstring>

namespace pemap::pe {

uint32_t compute_checksum(const Image& image) {
  const Bytes file = image.file();
  const auto* p = reinterpret_cast<const unsigned char*>(file.data());
  // The 16-bit words summed and folded once at the end: end-around carry addition gives the same sum in any order.
  // Eight bytes at a time, the words of each half in 32-bit lanes, flushed before a lane could overflow, so that a
  // 23 MB DLL takes milliseconds.
  constexpr uint64_t kLanes = 0x0000FFFF0000FFFFull;
  uint64_t sum = 0, i = 0;
  const uint64_t size = file.size();
  while (size - i >= 8) {
    uint64_t even = 0, odd = 0;
    const uint64_t end = i + std::min<uint64_t>((size - i) / 8, 32768) * 8;  // 32768 * 0xFFFF fits a lane
    for (; i < end; i += 8) {
      uint64_t x;
      std::memcpy(&x, p + i, 8);
      even += x & kLanes;
      odd += (x >> 16) & kLanes;
    }
    sum += (even & 0xFFFFFFFF) + (even >> 32) + (odd & 0xFFFFFFFF) + (odd >> 32);
  }
  for (; i + 1 < size; i += 2) sum += uint64_t{p[i]} | uint64_t{p[i + 1]} << 8;
  if (size % 2) sum += p[size - 1];
  // CheckSum's own two words are left out.
  const uint64_t at = checksum_offset(image);
  for (uint64_t w = at; w < at + 4 && w + 1 < size; w += 2) sum -= uint64_t{p[w]} | uint64_t{p[w + 1]} << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint32_t>(sum + size);
}

}  // namespace pemap::pe
