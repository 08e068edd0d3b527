// The optional header's CheckSum, computed as imagehlp's CheckSumMappedFile computes it.
#pragma once

#include <cstdint>

#include "pe/image.hpp"

namespace pemap::pe {

/// The file's 16-bit words summed with end-around carry, the CheckSum field itself left out (an odd last byte is a
/// word of its own), plus the file's size. Windows checks it only for drivers and a few boot-time images.
uint32_t compute_checksum(const Image& image);

/// Where CheckSum lies in the file: at the same offset in PE32 and PE32+.
inline uint64_t checksum_offset(const Image& image) {
  return image.optional_header_offset() + offsetof(OptionalHeader32, CheckSum);
}

}  // namespace pemap::pe
