// The PE checksum.
#include "pe/checksum.hpp"

namespace pemap::pe {

uint32_t compute_checksum(const Image& image) {
  const Bytes file = image.file();
  const uint64_t skip = checksum_offset(image);
  uint64_t sum = 0;
  const uint64_t words = file.size() / 2;
  for (uint64_t i = 0; i < words; ++i) {
    if (2 * i >= skip && 2 * i < skip + 4) continue;
    sum += load<uint16_t>(file, 2 * i);
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  if (file.size() % 2) {
    sum += static_cast<uint8_t>(file.back());
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint32_t>(sum + file.size());
}

}  // namespace pemap::pe
