// The host table: kernel32.dll's part and msvcrt.dll's part put together, the lookup the loader binds imports with,
// and the one way the process ends (ExitProcess, exit, returning from the entry point).
#include "run/host.hpp"

#include <unistd.h>

#include <cstdio>

#include "process/search_path.hpp"
#include "run/host_parts.hpp"
#include "run/runtime.hpp"

namespace pemap::run {

const std::vector<HostFunction>& host_functions() {
  static const std::vector<HostFunction> table = [] {
    std::vector<HostFunction> all = kernel32_host_functions();
    for (auto& f : msvcrt_host_functions()) all.push_back(f);
    return all;
  }();
  return table;
}

bool is_host_module(const ldr::ModuleName& dll) {
  for (const char* m : {"kernel32.dll", "kernelbase.dll", "ntdll.dll", "msvcrt.dll"})
    if (dll.key() == m) return true;
  return false;
}

std::optional<uint64_t> host_address(const ldr::ModuleName& dll, std::string_view name) {
  // kernelbase.dll and ntdll.dll serve what kernel32.dll does (API sets land on kernelbase).
  const std::string& key = dll.key();
  const bool kernel = key == "kernel32.dll" || key == "kernelbase.dll" || key == "ntdll.dll";
  const std::string_view table = kernel ? "kernel32.dll" : std::string_view(key);
  for (const auto& f : host_functions())
    if (f.dll == table && name == f.name) return reinterpret_cast<uint64_t>(f.address);
  return std::nullopt;
}

void exit_process(uint32_t code) {
  static bool exiting = false;
  if (!exiting) {
    exiting = true;
    // msvcrt.dll was initialized before every module that imports it, so it is detached after them.
    if (Runtime* r = current_runtime()) r->shutdown();
    msvcrt_process_detach();
  }
  std::fflush(nullptr);
  ::_exit(static_cast<int>(code & 0xff));
}

}  // namespace pemap::run
