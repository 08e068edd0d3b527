// Demangling: GCC's Itanium demangler (libiberty's, the one c++filt and libstdc++ run) and LLVM's Microsoft one.
#include "analysis/demangle.hpp"

#include <libiberty/demangle.h>
#include <llvm/Demangle/Demangle.h>

#include <csetjmp>
#include <cstdlib>
#include <memory>

namespace pemap::analysis {
namespace {

// Mangled names are short; a "name" of a MiB is no symbol, and the demangler's recursion is not bounded.
constexpr size_t kMaxMangled = 4096;
// A name's back-references may each stand for everything before them, so that 300 bytes print as 2^40: the
// Itanium demangler prints through a callback, which stops it here.
constexpr size_t kMaxDemangled = size_t{1} << 16;

struct Printed {
  std::string text;
  std::jmp_buf too_long;
};

// libiberty's callback interface keeps all its state on the stack (it is meant for crash handlers, which cannot
// allocate), and its frames are C's: jumping out of it leaks nothing and skips no destructor.
void append(const char* s, size_t n, void* opaque) {
  auto* out = static_cast<Printed*>(opaque);
  if (out->text.size() + n > kMaxDemangled) std::longjmp(out->too_long, 1);
  out->text.append(s, n);
}

std::optional<std::string> itanium(const char* mangled) {
  // On the heap, so that nothing the callback changes is a local of the function that called setjmp.
  const auto out = std::make_unique<Printed>();
  if (setjmp(out->too_long) != 0) return std::nullopt;
  // DMGL_PARAMS | DMGL_TYPES: what __cxa_demangle asks for.
  if (!cplus_demangle_v3_callback(mangled, DMGL_PARAMS | DMGL_TYPES, append, out.get())) return std::nullopt;
  return std::move(out->text);
}

}  // namespace

std::optional<std::string> demangle(std::string_view name) {
  if (name.size() > kMaxMangled) return std::nullopt;
  const std::string text(name);
  if (text.starts_with("_Z") || text.starts_with("__Z"))
    return itanium(text.c_str() + (text.starts_with("__Z") ? 1 : 0));
  if (!text.starts_with("?")) return std::nullopt;
  int status = 0;
  // Microsoft's back-references are ten names and ten types, each a name or type already read: no blow-up.
  const std::unique_ptr<char, decltype(&std::free)> out(
      llvm::microsoftDemangle(text.c_str(), nullptr, nullptr, nullptr, &status), &std::free);
  if (!out || status != llvm::demangle_success) return std::nullopt;
  return std::string(out.get());
}

}  // namespace pemap::analysis
