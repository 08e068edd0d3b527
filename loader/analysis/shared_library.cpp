// dlopen and dlsym.
#include "analysis/shared_library.hpp"

#include <dlfcn.h>

namespace pemap::analysis {

Result<SharedLibrary> SharedLibrary::open(const std::string& soname) {
  void* h = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = dlerror();
    return make_error(Status::success, soname, Location{},
                      std::string("cannot be loaded: ") + (why ? why : "no reason given"));
  }
  return SharedLibrary(h, soname);
}

SharedLibrary::~SharedLibrary() {
  // Left loaded: what was bound from it may still be called through the pointers a caller keeps.
  (void)handle_;
}

void* SharedLibrary::symbol(const char* name) const { return dlsym(handle_, name); }

Error SharedLibrary::missing(const char* name) const {
  return make_error(Status::success, name_, Location{}, std::string("has no symbol ") + name);
}

}  // namespace pemap::analysis
