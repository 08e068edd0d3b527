#include "run/runtime.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "run/call.hpp"
#include "run/host.hpp"
#include "run/teb.hpp"

namespace pemap::run {

namespace {
Runtime* g_runtime = nullptr;

void call_tls_callbacks(const ldr::Module& m, uint32_t reason) {
  for (uint64_t cb : m.tls_callbacks) {
    const uint64_t args[] = {m.base, reason, 0};
    (void)call(m, cb, args);
  }
}
}  // namespace

Runtime* current_runtime() { return g_runtime; }
void set_current_runtime(Runtime* runtime) { g_runtime = runtime; }

Result<bool> Runtime::initialize() {
  const ldr::Module* exe = nullptr;
  for (const auto& m : process_.modules())
    if (m->executable) exe = m.get();
  for (const ldr::Module* m : process_.initialization_order()) {
    if (std::find(initialized_.begin(), initialized_.end(), m) != initialized_.end()) continue;
    if (auto ok = can_run(*m); !ok) return ok.take_error();
    if (auto teb = install_teb(exe ? exe->base : 0); !teb) return teb.take_error();
    if (!started_) {
      started_ = true;
      if (arguments_.empty()) arguments_.push_back(exe ? exe->path : m->path);
      set_host_command_line(arguments_);
    }
    // The TLS block exists before the module's first TLS callback runs (LdrpHandleTlsData, then the callbacks).
    if (auto block = allocate_tls(*m); !block) return block.take_error();
    initialized_.push_back(m);
    call_tls_callbacks(*m, kDllProcessAttach);
    if (m->executable) continue;
    auto result = call_dll_main(*m, kDllProcessAttach);
    if (!result) return result.take_error();
    if (static_cast<uint32_t>(*result) == 0)
      return make_error(Status::dll_init_failed, "DllMain", Location{},
                        fmt::format("{}'s DllMain(DLL_PROCESS_ATTACH) returned FALSE", m->name));
  }
  return true;
}

void Runtime::detach(const ldr::Module& m) {
  auto it = std::find(initialized_.begin(), initialized_.end(), &m);
  if (it == initialized_.end()) return;  // never initialized: nothing to undo
  initialized_.erase(it);
  if (!m.executable) (void)call_dll_main(m, kDllProcessDetach);
  call_tls_callbacks(m, kDllProcessDetach);
  release_tls(m);
}

Result<bool> Runtime::free_library(std::string_view name) {
  return process_.free_library(name, [this](const ldr::Module& m) { detach(m); });
}

void Runtime::shutdown() {
  while (!initialized_.empty()) detach(*initialized_.back());
}

}  // namespace pemap::run
