// The host table. Each function is called by Windows x64 code, so each is ms_abi.
#include "run/host.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "process/process.hpp"
#include "process/search_path.hpp"
#include "run/call.hpp"
#include "run/runtime.hpp"

namespace pemap::run {

namespace {

#define MS __attribute__((ms_abi))

ldr::Process* process() {
  Runtime* r = current_runtime();
  return r ? &r->process() : nullptr;
}

MS void host_ExitProcess(uint32_t code) {
  // DLL_PROCESS_DETACH in reverse initialization order, then the exit code.
  if (Runtime* r = current_runtime()) r->shutdown();
  std::fflush(stdout);
  ::_exit(static_cast<int>(code & 0xff));
}
MS uint32_t host_GetCurrentProcessId() { return static_cast<uint32_t>(::getpid()); }
MS void host_Sleep(uint32_t ms) { ::usleep(static_cast<useconds_t>(ms) * 1000); }
MS void host_OutputDebugStringA(const char* s) {
  if (s) {
    (void)!::write(STDERR_FILENO, "[debug] ", 8);
    (void)!::write(STDERR_FILENO, s, std::strlen(s));
    (void)!::write(STDERR_FILENO, "\n", 1);
  }
}
MS int32_t host_InterlockedIncrement(volatile int32_t* p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }
MS int32_t host_InterlockedDecrement(volatile int32_t* p) { return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST); }
MS uint64_t host_LoadLibraryA(const char* name) {
  Runtime* r = current_runtime();
  if (!r || !name) return 0;
  auto m = r->process().load_library(ldr::normalize_module_name(name));
  if (!m) return 0;
  // What it loaded is initialized now, dependencies first; a DllMain that fails unloads the module again.
  const uint64_t base = (*m)->base;
  const std::string loaded = (*m)->name;
  if (!r->initialize()) {
    (void)r->free_library(loaded);
    return 0;
  }
  return base;
}
MS int32_t host_FreeLibrary(uint64_t module) {
  Runtime* r = current_runtime();
  if (!r) return 0;
  for (const auto& m : r->process().modules())
    if (m->base == module && !m->executable) return r->free_library(std::string(m->name)) ? 1 : 0;
  return 0;
}
MS uint64_t host_GetModuleHandleA(const char* name) {
  ldr::Process* p = process();
  if (!p) return 0;
  if (!name) {
    for (const auto& m : p->modules())
      if (m->executable) return m->base;
    return 0;
  }
  const ldr::Module* m = p->find(ldr::normalize_module_name(name));
  return m ? m->base : 0;
}
MS uint64_t host_GetProcAddress(uint64_t module, const char* name) {
  ldr::Process* p = process();
  if (!p) return 0;
  for (const auto& m : p->modules()) {
    if (m->base != module) continue;
    if (reinterpret_cast<uintptr_t>(name) < 0x10000) {  // by ordinal: the low word
      const auto found = m->exports().by_ordinal(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(name)));
      return found.entry && !found.entry->is_forwarder() ? m->base + found.entry->rva : 0;
    }
    auto at = export_address(*m, name);
    return at ? *at : 0;
  }
  return 0;
}
MS int32_t host_VirtualProtect(void* address, uint64_t size, uint32_t protect, uint32_t* old) {
  if (old) *old = 0x02;  // PAGE_READONLY: what it was is not tracked
  int prot = PROT_NONE;
  switch (protect & 0xff) {
    case 0x02:
      prot = PROT_READ;
      break;
    case 0x04:
    case 0x08:
      prot = PROT_READ | PROT_WRITE;
      break;
    case 0x10:
      prot = PROT_EXEC;
      break;
    case 0x20:
      prot = PROT_READ | PROT_EXEC;
      break;
    case 0x40:
    case 0x80:
      prot = PROT_READ | PROT_WRITE | PROT_EXEC;
      break;
    default:
      break;
  }
  const uintptr_t page = reinterpret_cast<uintptr_t>(address) & ~uintptr_t{0xfff};
  const uintptr_t end = reinterpret_cast<uintptr_t>(address) + size;
  return ::mprotect(reinterpret_cast<void*>(page), end - page, prot) == 0;
}
MS void* host_malloc(uint64_t n) { return std::malloc(n); }
MS void* host_calloc(uint64_t n, uint64_t size) { return std::calloc(n, size); }
MS void host_free(void* p) { std::free(p); }
MS void* host_memcpy(void* d, const void* s, uint64_t n) { return std::memcpy(d, s, n); }
MS void* host_memset(void* d, int c, uint64_t n) { return std::memset(d, c, n); }
MS uint64_t host_strlen(const char* s) { return std::strlen(s); }
MS int host_puts(const char* s) {
  std::fputs(s, stdout);
  std::fputc('\n', stdout);
  return 1;
}

#undef MS

template <class F>
const void* fn(F* f) {
  return reinterpret_cast<const void*>(f);
}

}  // namespace

const std::vector<HostFunction>& host_functions() {
  static const std::vector<HostFunction> table = {
      {"kernel32.dll", "ExitProcess", fn(host_ExitProcess), "DllMain(DLL_PROCESS_DETACH) in reverse order, then exit"},
      {"kernel32.dll", "FreeLibrary", fn(host_FreeLibrary), "pemap's FreeLibrary: DllMain(DLL_PROCESS_DETACH) first"},
      {"kernel32.dll", "GetCurrentProcessId", fn(host_GetCurrentProcessId), "getpid()"},
      {"kernel32.dll", "GetModuleHandleA", fn(host_GetModuleHandleA), "a loaded module's base; NULL: the executable"},
      {"kernel32.dll", "GetProcAddress", fn(host_GetProcAddress), "an export of a loaded module, by name or ordinal"},
      {"kernel32.dll", "InterlockedDecrement", fn(host_InterlockedDecrement), "atomic decrement"},
      {"kernel32.dll", "InterlockedIncrement", fn(host_InterlockedIncrement), "atomic increment"},
      {"kernel32.dll", "LoadLibraryA", fn(host_LoadLibraryA), "pemap's loader, then DllMain(DLL_PROCESS_ATTACH)"},
      {"kernel32.dll", "OutputDebugStringA", fn(host_OutputDebugStringA), "the string on stderr"},
      {"kernel32.dll", "Sleep", fn(host_Sleep), "usleep"},
      {"kernel32.dll", "VirtualProtect", fn(host_VirtualProtect), "mprotect (the old protection is not tracked)"},
      {"msvcrt.dll", "calloc", fn(host_calloc), "calloc"},
      {"msvcrt.dll", "free", fn(host_free), "free"},
      {"msvcrt.dll", "malloc", fn(host_malloc), "malloc"},
      {"msvcrt.dll", "memcpy", fn(host_memcpy), "memcpy"},
      {"msvcrt.dll", "memset", fn(host_memset), "memset"},
      {"msvcrt.dll", "puts", fn(host_puts), "puts"},
      {"msvcrt.dll", "strlen", fn(host_strlen), "strlen"},
  };
  return table;
}

bool is_host_module(std::string_view dll) {
  for (const char* m : {"kernel32.dll", "kernelbase.dll", "ntdll.dll", "msvcrt.dll"})
    if (ldr::same_module_name(dll, m)) return true;
  return false;
}

std::optional<uint64_t> host_address(std::string_view dll, std::string_view name) {
  // kernelbase.dll and ntdll.dll serve what kernel32.dll does (API sets land on kernelbase).
  const bool kernel = ldr::same_module_name(dll, "kernel32.dll") || ldr::same_module_name(dll, "kernelbase.dll") ||
                      ldr::same_module_name(dll, "ntdll.dll");
  for (const auto& f : host_functions())
    if ((kernel ? std::string_view(f.dll) == "kernel32.dll" : ldr::same_module_name(dll, f.dll)) && name == f.name)
      return reinterpret_cast<uint64_t>(f.address);
  return std::nullopt;
}

}  // namespace pemap::run
