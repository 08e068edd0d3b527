// A module's name as the loader knows it: made once from what an importer, a forwarder, LoadLibrary or the command
// line wrote, then used as it is by the search, the module list, binding and messages.
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace pemap::ldr {

/// ASCII lower case, as Windows folds module and file names when it compares them (other bytes stay as they are).
std::string ascii_lower(std::string_view s);

class ModuleName {
 public:
  ModuleName() = default;
  /// What was written, as the loader reads it: any directory part (either slash) and trailing spaces dropped,
  /// ".dll" appended when the name has no dot ("KERNEL32" is "KERNEL32.dll"). Implicit, as a path is from a
  /// string: wherever a module is named by text, this is how the loader reads that text.
  ModuleName(std::string_view written);  // NOLINT(google-explicit-constructor)
  ModuleName(const std::string& written) : ModuleName(std::string_view(written)) {}  // NOLINT
  ModuleName(const char* written) : ModuleName(std::string_view(written)) {}         // NOLINT

  /// As written, normalized: the spelling messages and the module list show.
  const std::string& str() const { return text_; }
  operator const std::string&() const { return text_; }  // NOLINT(google-explicit-constructor): it is that text
  /// Lower case: what two names are compared by and what the search looks up.
  const std::string& key() const { return key_; }
  /// An API-set contract ("api-ms-win-core-...", "ext-ms-..."): the schema names its host; no file has the name.
  bool is_api_set() const { return key_.starts_with("api-") || key_.starts_with("ext-"); }
  bool empty() const { return text_.empty(); }

  /// Without regard to ASCII case, as the loader matches module names.
  friend bool operator==(const ModuleName& a, const ModuleName& b) { return a.key_ == b.key_; }
  friend std::ostream& operator<<(std::ostream& os, const ModuleName& n) { return os << n.text_; }

 private:
  std::string text_, key_;
};

}  // namespace pemap::ldr

template <>
struct fmt::formatter<pemap::ldr::ModuleName> : fmt::formatter<std::string_view> {
  auto format(const pemap::ldr::ModuleName& n, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(n.str(), ctx);
  }
};
