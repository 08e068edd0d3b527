// The checks the memory manager makes before it maps a file as an image (SEC_IMAGE).
#pragma once

#include <optional>

#include "pe/image.hpp"

namespace pemap::win {

/// The first rule `image` breaks (pe::mapping_rule_breaks), as the NTSTATUS Windows returns (and
/// ERROR_BAD_EXE_FORMAT), or none.
std::optional<Error> check_image_for_mapping(const pe::Image& image);

}  // namespace pemap::win
