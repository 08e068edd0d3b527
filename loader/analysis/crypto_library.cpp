// Opening libcrypto and binding its functions.
#include "analysis/crypto_library.hpp"

#include <stdexcept>
#include <string>

#include "analysis/shared_library.hpp"

namespace pemap::analysis {

const Result<Crypto>& crypto() {
  static const Result<Crypto> loaded = []() -> Result<Crypto> {
    auto lib = SharedLibrary::open("libcrypto.so." + std::to_string(OPENSSL_VERSION_MAJOR));
    if (!lib) return lib.take_error();
    Crypto c;
#define PEMAP_CRYPTO_BIND(name) \
  if (auto e = lib->bind(#name, c.name)) return *e;
    PEMAP_CRYPTO_FUNCTIONS(PEMAP_CRYPTO_BIND)
#undef PEMAP_CRYPTO_BIND
    return c;
  }();
  return loaded;
}

const Crypto& crypto_or_throw() {
  const auto& c = crypto();
  if (!c) throw std::runtime_error(c.error().to_string());
  return *c;
}

}  // namespace pemap::analysis
