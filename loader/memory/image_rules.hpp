// The checks the memory manager makes before it maps a file as an image (SEC_IMAGE).
#pragma once

#include <optional>

#include "pe/image.hpp"

namespace pemap::win {

/// The first rule `image` breaks, as the NTSTATUS Windows returns (and ERROR_BAD_EXE_FORMAT), or none.
/// Rules the corkami corpus shows Windows does not apply are left out (docs/parser.md lists them).
std::optional<Error> check_image_for_mapping(const pe::Image& image);

}  // namespace pemap::win
