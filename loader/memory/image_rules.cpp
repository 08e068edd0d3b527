// The mapper's side of the memory manager's rules: the first one broken refuses the image.
#include "memory/image_rules.hpp"

#include "memory/win32.hpp"
#include "pe/mapping_rules.hpp"

namespace pemap::win {

std::optional<Error> check_image_for_mapping(const pe::Image& image) {
  auto breaks = pe::mapping_rule_breaks(image);
  if (breaks.empty()) return std::nullopt;
  pe::MappingRuleBreak& first = breaks.front();
  return make_error(Status::invalid_image_format, std::move(first.structure), first.where,
                    first.message + " (ERROR_BAD_EXE_FORMAT)", Win32Error::bad_exe_format);
}

}  // namespace pemap::win
