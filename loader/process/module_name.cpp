// Module names: the one normalization and the one comparison the loader applies to them.
#include "process/module_name.hpp"

#include <algorithm>

namespace pemap::ldr {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

ModuleName::ModuleName(std::string_view written) {
  while (!written.empty() && written.back() == ' ') written.remove_suffix(1);
  if (auto slash = written.find_last_of("/\\"); slash != std::string_view::npos) written.remove_prefix(slash + 1);
  text_ = written;
  if (text_.find('.') == std::string::npos) text_ += ".dll";
  key_ = ascii_lower(text_);
}

}  // namespace pemap::ldr
