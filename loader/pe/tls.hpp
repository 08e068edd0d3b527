// TLS directory: raw data template, index slot and the callback array (callbacks are VAs, so they get relocated).
#pragma once

#include <cstdint>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

struct Tls {
  bool present = false;
  uint64_t start_of_raw_data = 0, end_of_raw_data = 0, address_of_index = 0, address_of_callbacks = 0;
  uint32_t size_of_zero_fill = 0, characteristics = 0;
  std::vector<uint64_t> callbacks;  ///< VAs at the preferred base, up to the NULL terminator
  std::vector<Error> warnings;
};

/// The loader ignores the directory's Size field (corkami tls*.exe set it to 0), and so do we.
Result<Tls> parse_tls(const Image& image);
/// AddressOfIndex alone (a VA), without the callback list; none without a readable TLS directory.
std::optional<uint64_t> tls_address_of_index(const Image& image);

}  // namespace pemap::pe
