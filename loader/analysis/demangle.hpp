// C++ names as a person reads them: the Itanium scheme (GCC, Clang, mingw-w64), through GCC's demangler
// (libiberty's), and Microsoft's (MSVC, clang-cl), through LLVM's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pemap::analysis {

/// The demangled form of `name` when it is a mangled C++ name ("_Z...", "__Z..." or "?..."), none otherwise, when
/// the demangler rejects it, or when the name is over 4 KiB or its demangled form over 64 KiB.
std::optional<std::string> demangle(std::string_view name);

}  // namespace pemap::analysis
