// `pemap rva FILE ADDR` and `pemap offset FILE OFF`: an address and a file offset, each through the other, by the
// layout Windows maps.
#pragma once

#include <cstdint>

#include "commands.hpp"

namespace pemap::inspect {

enum class AddressKind : uint8_t { rva, offset };

/// `rva`: ADDR below SizeOfImage is an RVA, one in [ImageBase, ImageBase + SizeOfImage) a VA; the file offset that
/// backs it, and its section, or why no file byte does. `offset`: every RVA the file byte at OFF is mapped at
/// (sections may share raw data), or why it is not mapped.
int run_address(const CommonOptions& opts, AddressKind kind, uint64_t value);

/// `value` as an RVA: itself below SizeOfImage, value - ImageBase for a VA of the image at its preferred base;
/// else an error that gives both ranges.
Result<uint64_t> address_to_rva(const pe::Image& image, uint64_t value);

}  // namespace pemap::inspect
