// libFuzzer target: any bytes loaded as an executable and as a DLL (LoadOptions allow_missing and bind_delay, no
// code run) by a process that finds no other module, so every import goes to a trap; then FreeLibrary, and every
// view and trap range the loader reserved must be free again.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "process/process.hpp"
#include "support/fuzz_support.hpp"

namespace {

class FindsNothing : public pemap::ldr::ModuleLocator {
 public:
  pemap::ldr::Located locate(const pemap::ldr::ModuleName&, pemap::ldr::Bitness) override { return {}; }
};

// Loads the file at `path` once, frees it, and checks that what was reserved is released.
uint64_t load_and_free(const std::string& path, bool executable) {
  using namespace pemap;
  std::vector<std::pair<uint64_t, uint64_t>> reserved;  // views and trap pages
  uint64_t sink = 0;
  {
    ldr::LoadOptions options;
    options.allow_missing = true;
    options.bind_delay = true;
    options.locator = std::make_shared<FindsNothing>();
    ldr::Process process(std::move(options));
    auto loaded = executable ? process.load_executable(path) : process.load_library(path);
    if (!loaded) return sink;
    for (const auto& m : process.modules()) {
      if (m->view) reserved.emplace_back(m->base, m->view->size());
      sink += m->bindings.size() + m->relocations.pages_made_private;
    }
    for (const auto& u : process.unresolved())
      if (u.trap()) reserved.emplace_back(u.trap() & ~uint64_t{0xfff}, 0x1000);
    const std::string name = (*loaded)->name;
    if (!process.free_library(name)) sink += 1;
  }
  for (const auto& [base, size] : reserved) fuzz::expect_free(base, size, "a module view or trap range");
  return sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = pemap::fuzz::memfd_with(data, size);
  // The memfd by its /proc path: a directory of numbered fds, so the application directory holds no DLL either.
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  uint64_t sink = load_and_free(path, true);
  sink += load_and_free(path, false);
  ::close(fd);
  return sink == 0x5a5a5a5a5a5a5a5aull ? 1 : 0;  // keeps the loads from being optimized away
}
