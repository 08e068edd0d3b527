// Demangling: GCC's Itanium demangler (libstdc++'s __cxa_demangle, what c++filt runs) and LLVM's Microsoft one.
#include "analysis/demangle.hpp"

#include <cxxabi.h>
#include <llvm/Demangle/Demangle.h>

#include <cstdlib>
#include <memory>

namespace pemap::analysis {

std::optional<std::string> demangle(std::string_view name) {
  // Mangled names are short; a "name" of a MiB is no symbol, and the demangler's recursion is not bounded.
  constexpr size_t kMaxMangled = 4096;
  if (name.size() > kMaxMangled) return std::nullopt;
  const std::string text(name);
  int status = 0;
  char* out = nullptr;
  bool ok = false;
  if (text.starts_with("?")) {
    out = llvm::microsoftDemangle(text.c_str(), nullptr, nullptr, nullptr, &status);
    ok = status == llvm::demangle_success;
  } else if (text.starts_with("_Z") || text.starts_with("__Z")) {
    // GCC's demangler rather than LLVM 14's, which drops the name of a constructor whose class has an ABI tag.
    out = abi::__cxa_demangle(text.c_str() + (text.starts_with("__Z") ? 1 : 0), nullptr, nullptr, &status);
    ok = status == 0;
  }
  const std::unique_ptr<char, decltype(&std::free)> owned(out, &std::free);
  if (!out || !ok) return std::nullopt;
  return std::string(out);
}

}  // namespace pemap::analysis
