// A library opened when first used (dlopen): Capstone and libxml2 cost a process milliseconds to load and relocate
// (libxml2 brings ICU), which every pemap command would pay though few decode code or manifests.
#pragma once

#include <optional>
#include <string>

#include "pe/error.hpp"

namespace pemap::analysis {

class SharedLibrary {
 public:
  /// Opens `soname` (dlopen, RTLD_NOW | RTLD_LOCAL); the error names it and says why not.
  static Result<SharedLibrary> open(const std::string& soname);
  SharedLibrary(SharedLibrary&& o) noexcept : handle_(o.handle_), name_(std::move(o.name_)) { o.handle_ = nullptr; }
  SharedLibrary& operator=(SharedLibrary&&) = delete;
  SharedLibrary(const SharedLibrary&) = delete;
  ~SharedLibrary();

  /// The symbol `name`, as `Fn`, into `out`; the error names it when the library has none.
  template <class Fn>
  std::optional<Error> bind(const char* name, Fn& out) const {
    void* p = symbol(name);
    if (!p) return missing(name);
    out = reinterpret_cast<Fn>(p);
    return std::nullopt;
  }

 private:
  SharedLibrary(void* handle, std::string name) : handle_(handle), name_(std::move(name)) {}
  void* symbol(const char* name) const;
  Error missing(const char* name) const;
  void* handle_;
  std::string name_;
};

}  // namespace pemap::analysis
