// kernel32.dll's part of the host table (also what kernelbase.dll and ntdll.dll imports bind to). Each function is
// called by Windows x64 code, so each is ms_abi; each sets the TEB's LastErrorValue where Windows does.
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"
#include "process/process.hpp"
#include "process/search_path.hpp"
#include "run/call.hpp"
#include "run/host_parts.hpp"
#include "run/runtime.hpp"
#include "run/sandbox.hpp"
#include "run/teb.hpp"

namespace pemap::run {

namespace {

#define MS PEMAP_MS_ABI

uint64_t this_thread_id() {
  thread_local const auto id = static_cast<uint64_t>(::syscall(SYS_gettid));
  return id;
}

template <class T>
void store(void* at, uint64_t offset, T value) {
  std::memcpy(static_cast<unsigned char*>(at) + offset, &value, sizeof value);
}

// ---- process, modules ----

MS void host_ExitProcess(uint32_t code) { exit_process(code); }
MS uint32_t host_GetCurrentProcessId() { return static_cast<uint32_t>(::getpid()); }
MS uint32_t host_GetCurrentThreadId() { return static_cast<uint32_t>(this_thread_id()); }
MS uint64_t host_GetCurrentProcess() { return ~uint64_t{0}; }     // (HANDLE)-1
MS uint64_t host_GetCurrentThread() { return ~uint64_t{0} - 1; }  // (HANDLE)-2
MS const char* host_GetCommandLineA() { return host_command_line(); }
MS void host_GetStartupInfoA(void* info) {
  // STARTUPINFOA is 104 bytes on x64: cb first, then nothing set (no STARTF_* flags, no handles).
  if (!info) return;
  std::memset(info, 0, 104);
  store<uint32_t>(info, 0, 104);
}
MS void host_Sleep(uint32_t ms) { ::usleep(static_cast<useconds_t>(ms) * 1000); }
MS void host_OutputDebugStringA(const char* s) {
  if (s) {
    (void)!::write(STDERR_FILENO, "[debug] ", 8);
    (void)!::write(STDERR_FILENO, s, std::strlen(s));
    (void)!::write(STDERR_FILENO, "\n", 1);
  }
}

MS uint64_t host_LoadLibraryA(const char* name) {
  Runtime* r = current_runtime();
  if (!r || !name) {
    set_last_error(Win32Error::invalid_parameter);
    return 0;
  }
  // A path loads that file, as LoadLibrary does with a full path; here a Linux one, with '/'.
  auto m = r->process().load_library(name);
  if (!m) {
    report_refused_file("LoadLibraryA", name, m.error());
    set_last_error(m.error(), Win32Error::mod_not_found);
    return 0;
  }
  // What it loaded is initialized now, dependencies first; a DllMain that fails unloads the module again.
  const uint64_t base = (*m)->base;
  const std::string loaded = (*m)->name.str();
  if (!r->initialize()) {
    (void)r->free_library(loaded);
    set_last_error(Win32Error::dll_init_failed);
    return 0;
  }
  return base;
}
MS int32_t host_FreeLibrary(uint64_t module) {
  if (Runtime* r = current_runtime())
    for (const auto& m : r->process().modules())
      if (m->base == module && !m->executable) return r->free_library(m->name.str()) ? 1 : 0;
  set_last_error(Win32Error::mod_not_found);
  return 0;
}
MS uint64_t host_GetModuleHandleA(const char* name) {
  Runtime* r = current_runtime();
  if (r && !name) {
    for (const auto& m : r->process().modules())
      if (m->executable) return m->base;
  } else if (r) {
    if (const ldr::Module* m = r->process().find(ldr::ModuleName(name))) return m->base;
  }
  set_last_error(Win32Error::mod_not_found);
  return 0;
}
MS uint64_t host_GetProcAddress(uint64_t module, const char* name) {
  if (Runtime* r = current_runtime()) {
    for (const auto& m : r->process().modules()) {
      if (m->base != module) continue;
      if (reinterpret_cast<uintptr_t>(name) < 0x10000) {  // by ordinal: the low word
        const auto found = m->exports().by_ordinal(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(name)));
        if (found.entry && !found.entry->is_forwarder()) return m->base + found.entry->rva;
      } else if (auto at = export_address(*m, name)) {
        return *at;
      }
      set_last_error(Win32Error::proc_not_found);
      return 0;
    }
  }
  set_last_error(Win32Error::mod_not_found);
  return 0;
}

// ---- errors, exceptions ----

MS uint32_t host_GetLastError() { return last_error(); }
MS void host_SetLastError(uint32_t code) { set_last_error(code); }
uint64_t g_unhandled_exception_filter = 0;
MS uint64_t host_SetUnhandledExceptionFilter(uint64_t filter) {
  const uint64_t previous = g_unhandled_exception_filter;
  g_unhandled_exception_filter = filter;
  return previous;
}

// ---- memory ----

MS uint64_t host_VirtualQuery(const void* address, void* out, uint64_t length) {
  // MEMORY_BASIC_INFORMATION on x64: 48 bytes.
  if (!out || length < 48) {
    set_last_error(Win32Error::bad_length);
    return 0;
  }
  auto info = win::virtual_query(address);
  if (!info) {
    set_last_error(info.error(), Win32Error::invalid_parameter);
    return 0;
  }
  std::memset(out, 0, 48);
  store<uint64_t>(out, 0, info->base);
  store<uint64_t>(out, 8, info->allocation_base);
  store<uint32_t>(out, 16, info->allocation_protect);
  store<uint64_t>(out, 24, info->region_size);
  store<uint32_t>(out, 32, info->state);
  store<uint32_t>(out, 36, info->protect);
  store<uint32_t>(out, 40, info->type);
  return 48;
}
MS int32_t host_VirtualProtect(void* address, uint64_t size, uint32_t protect, uint32_t* old) {
  if (!old) {
    set_last_error(Win32Error::noaccess);
    return 0;
  }
  // One base protection, plus modifiers pemap cannot give (PAGE_GUARD, PAGE_NOCACHE, PAGE_WRITECOMBINE): ignored.
  const uint32_t base = protect & 0xff;
  const auto start = reinterpret_cast<uint64_t>(address);
  if (size == 0 || base == 0 || (base & (base - 1)) != 0 || (protect & ~uint32_t{0x7ff}) != 0 || start + size < start) {
    set_last_error(Win32Error::invalid_parameter);
    return 0;
  }
  auto info = win::virtual_query(address);
  if (!info || info->state != win::MEM_COMMIT) {
    set_last_error(Win32Error::invalid_address);
    return 0;
  }
  const uint64_t page = start & ~(win::kPageSize - 1);
  const uint64_t end = (start + size + win::kPageSize - 1) & ~(win::kPageSize - 1);
  if (::mprotect(reinterpret_cast<void*>(page), end - page, win::linux_protection(base)) != 0) {
    set_last_error(errno == ENOMEM ? Win32Error::invalid_address : Win32Error::access_denied);
    return 0;
  }
  *old = info->protect;
  return 1;
}
MS uint64_t host_GetProcessHeap() { return process_heap(); }
MS void* host_HeapAlloc(uint64_t, uint32_t flags, uint64_t size) {
  void* p = (flags & 0x8) ? std::calloc(1, size) : std::malloc(size);  // HEAP_ZERO_MEMORY
  if (!p && size != 0) note_failed_allocation(size);
  return p;
}
MS int32_t host_HeapFree(uint64_t, uint32_t, void* p) {
  std::free(p);
  return 1;
}

// ---- synchronization ----

MS int32_t host_InterlockedIncrement(volatile int32_t* p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }
MS int32_t host_InterlockedDecrement(volatile int32_t* p) { return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST); }

// RTL_CRITICAL_SECTION on x64: DebugInfo +0, LockCount +8, RecursionCount +12, OwningThread +16 (the owner's thread
// id), LockSemaphore +24, SpinCount +32; 40 bytes. The lock is OwningThread, taken with a compare-exchange.
constexpr uint64_t kCsRecursion = 12, kCsOwner = 16, kCsSpinCount = 32, kCsSize = 40;
uint64_t* cs_owner(void* cs) { return reinterpret_cast<uint64_t*>(static_cast<unsigned char*>(cs) + kCsOwner); }
int32_t* cs_recursion(void* cs) { return reinterpret_cast<int32_t*>(static_cast<unsigned char*>(cs) + kCsRecursion); }
bool cs_try_enter(void* cs) {
  const uint64_t me = this_thread_id();
  if (__atomic_load_n(cs_owner(cs), __ATOMIC_ACQUIRE) == me) {
    ++*cs_recursion(cs);
    return true;
  }
  uint64_t free = 0;
  if (!__atomic_compare_exchange_n(cs_owner(cs), &free, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return false;
  *cs_recursion(cs) = 1;
  return true;
}
MS void host_InitializeCriticalSection(void* cs) {
  std::memset(cs, 0, kCsSize);
  store<uint64_t>(cs, 0, ~uint64_t{0});  // no debug info (RTL_CRITICAL_SECTION_FLAG_NO_DEBUG_INFO)
  store<int32_t>(cs, 8, -1);             // LockCount -1: free
}
MS int32_t host_InitializeCriticalSectionAndSpinCount(void* cs, uint32_t spin) {
  host_InitializeCriticalSection(cs);
  store<uint64_t>(cs, kCsSpinCount, spin);
  return 1;
}
MS int32_t host_InitializeCriticalSectionEx(void* cs, uint32_t spin, uint32_t) {
  return host_InitializeCriticalSectionAndSpinCount(cs, spin);
}
MS void host_EnterCriticalSection(void* cs) {
  while (!cs_try_enter(cs)) ::sched_yield();
}
MS int32_t host_TryEnterCriticalSection(void* cs) { return cs_try_enter(cs) ? 1 : 0; }
MS void host_LeaveCriticalSection(void* cs) {
  // Leaving a section this thread does not own is a program error Windows does not check; here it does nothing.
  if (__atomic_load_n(cs_owner(cs), __ATOMIC_RELAXED) != this_thread_id()) return;
  if (--*cs_recursion(cs) == 0) __atomic_store_n(cs_owner(cs), 0, __ATOMIC_RELEASE);
}
MS void host_DeleteCriticalSection(void* cs) { std::memset(cs, 0, kCsSize); }

// ---- thread local storage (TlsAlloc) ----

std::bitset<kTlsMinimumAvailable + kTlsExpansionSlots> g_tls_allocated;

MS uint32_t host_TlsAlloc() {
  for (uint32_t i = 0; i < g_tls_allocated.size(); ++i) {
    if (g_tls_allocated[i]) continue;
    uint64_t* slot = tls_value_slot(i, true);
    if (!slot) break;
    g_tls_allocated[i] = true;
    *slot = 0;
    return i;
  }
  set_last_error(Win32Error::no_more_items);
  return 0xffffffff;  // TLS_OUT_OF_INDEXES
}
MS int32_t host_TlsFree(uint32_t index) {
  if (index >= g_tls_allocated.size() || !g_tls_allocated[index]) {
    set_last_error(Win32Error::invalid_parameter);
    return 0;
  }
  g_tls_allocated[index] = false;
  if (uint64_t* slot = tls_value_slot(index, false)) *slot = 0;
  return 1;
}
MS uint64_t host_TlsGetValue(uint32_t index) {
  if (index >= g_tls_allocated.size()) {
    set_last_error(Win32Error::invalid_parameter);
    return 0;
  }
  const uint64_t* slot = tls_value_slot(index, false);
  set_last_error(Win32Error::success);  // so that a stored 0 can be told from a failure
  return slot ? *slot : 0;
}
MS int32_t host_TlsSetValue(uint32_t index, uint64_t value) {
  uint64_t* slot = index < g_tls_allocated.size() ? tls_value_slot(index, true) : nullptr;
  if (!slot) {
    set_last_error(Win32Error::invalid_parameter);
    return 0;
  }
  *slot = value;
  return 1;
}

// ---- code pages ----

constexpr uint32_t kCpUtf8 = 65001, kCpLatin1 = 28591, kCp1252 = 1252;
constexpr uint32_t kMbErrInvalidChars = 0x08, kWcErrInvalidChars = 0x80;

// CP_ACP (0) and CP_THREAD_ACP (3) are Windows-1252, what an en-US Windows has; 0 for a code page pemap lacks.
uint32_t supported_code_page(uint32_t cp) {
  switch (cp) {
    case 0:
    case 3:
    case kCp1252:
      return kCp1252;
    case kCpLatin1:
    case kCpUtf8:
      return cp;
    default:
      return 0;
  }
}

// Windows-1252 0x80..0x9F; the five bytes 1252 leaves undefined map to the C1 control of the same value, as
// MultiByteToWideChar maps them.
constexpr char16_t kCp1252High[32] = {0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
                                      0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// UTF-8 to UTF-16; an ill-formed sequence is U+FFFD per bad byte run, or false with MB_ERR_INVALID_CHARS.
bool decode_utf8(const unsigned char* s, size_t n, bool strict, std::u16string& out) {
  for (size_t i = 0; i < n;) {
    const unsigned char b = s[i];
    uint32_t c = 0;
    size_t len = 0;
    uint32_t min = 0;
    if (b < 0x80) {
      c = b, len = 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      c = b & 0x1f, len = 2, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      c = b & 0x0f, len = 3, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      c = b & 0x07, len = 4, min = 0x10000;
    }
    size_t k = 1;
    for (; len > 1 && k < len && i + k < n && (s[i + k] & 0xc0) == 0x80; ++k) c = (c << 6) | (s[i + k] & 0x3f);
    if (len == 0 || k < len || c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
      if (strict) return false;
      out.push_back(0xfffd);
      i += std::max<size_t>(1, len == 0 ? 1 : k);
      continue;
    }
    if (c >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xd800 + ((c - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + ((c - 0x10000) & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(c));
    }
    i += len;
  }
  return true;
}

MS int32_t host_MultiByteToWideChar(uint32_t code_page, uint32_t flags, const char* src, int32_t src_length,
                                    uint16_t* dst, int32_t dst_length) {
  const uint32_t cp = supported_code_page(code_page);
  if (!src || src_length == 0 || dst_length < 0 || (dst_length > 0 && !dst) || cp == 0) {
    set_last_error(Win32Error::invalid_parameter);
    return 0;
  }
  if (cp == kCpUtf8 ? (flags & ~kMbErrInvalidChars) != 0 : (flags & ~uint32_t{0x0f}) != 0) {
    set_last_error(Win32Error::invalid_flags);
    return 0;
  }
  const size_t n = src_length < 0 ? std::strlen(src) + 1 : static_cast<size_t>(src_length);
  const auto* bytes = reinterpret_cast<const unsigned char*>(src);
  try {
    std::u16string wide;
    if (cp == kCpUtf8) {
      if (!decode_utf8(bytes, n, (flags & kMbErrInvalidChars) != 0, wide)) {
        set_last_error(Win32Error::no_unicode_translation);
        return 0;
      }
    } else {
      for (size_t i = 0; i < n; ++i)
        wide.push_back(cp == kCp1252 && bytes[i] >= 0x80 && bytes[i] < 0xa0 ? kCp1252High[bytes[i] - 0x80]
                                                                            : char16_t{bytes[i]});
    }
    if (wide.size() > INT32_MAX) {
      set_last_error(Win32Error::insufficient_buffer);
      return 0;
    }
    const auto needed = static_cast<int32_t>(wide.size());
    if (dst_length == 0) return needed;
    if (needed > dst_length) {
      set_last_error(Win32Error::insufficient_buffer);
      return 0;
    }
    std::memcpy(dst, wide.data(), wide.size() * 2);
    return needed;
  } catch (const std::bad_alloc&) {
    set_last_error(Win32Error::not_enough_memory);
    return 0;
  }
}

MS int32_t host_WideCharToMultiByte(uint32_t code_page, uint32_t flags, const uint16_t* src, int32_t src_length,
                                    char* dst, int32_t dst_length, const char* default_char,
                                    int32_t* used_default_char) {
  const uint32_t cp = supported_code_page(code_page);
  if (!src || src_length == 0 || dst_length < 0 || (dst_length > 0 && !dst) || cp == 0 ||
      (cp == kCpUtf8 && (default_char || used_default_char))) {
    set_last_error(Win32Error::invalid_parameter);
    return 0;
  }
  if (cp == kCpUtf8 && (flags & ~kWcErrInvalidChars) != 0) {
    set_last_error(Win32Error::invalid_flags);
    return 0;
  }
  auto unit = [&](size_t i) {
    uint16_t u = 0;
    std::memcpy(&u, src + i, sizeof u);
    return u;
  };
  size_t n = 0;
  if (src_length < 0) {
    while (unit(n) != 0) ++n;
    ++n;  // the terminating NUL is converted too
  } else {
    n = static_cast<size_t>(src_length);
  }
  const char fallback = default_char ? *default_char : '?';
  bool used = false;
  try {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      uint32_t c = unit(i);
      if (cp == kCpUtf8) {
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && unit(i + 1) >= 0xdc00 && unit(i + 1) <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (unit(i + 1) - 0xdc00);
          ++i;
        } else if (c >= 0xd800 && c <= 0xdfff) {
          if (flags & kWcErrInvalidChars) {
            set_last_error(Win32Error::no_unicode_translation);
            return 0;
          }
          c = 0xfffd;
        }
        if (c < 0x80) {
          out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
          out.push_back(static_cast<char>(0xc0 | (c >> 6)));
          out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
        } else if (c < 0x10000) {
          out.push_back(static_cast<char>(0xe0 | (c >> 12)));
          out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
          out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
        } else {
          out.push_back(static_cast<char>(0xf0 | (c >> 18)));
          out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
          out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
          out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
        }
        continue;
      }
      // Windows-1252 or Latin-1: one byte per unit, the default character where there is none (no best fit).
      int byte = c <= 0x7f || (c >= 0xa0 && c <= 0xff) ? static_cast<int>(c) : -1;
      if (cp == kCpLatin1 && c >= 0x80 && c <= 0x9f) byte = static_cast<int>(c);
      if (cp == kCp1252 && byte < 0)
        for (int k = 0; k < 32; ++k)
          if (kCp1252High[k] == c) byte = 0x80 + k;
      if (byte < 0) {
        used = true;
        out.push_back(fallback);
      } else {
        out.push_back(static_cast<char>(byte));
      }
    }
    if (used_default_char) *used_default_char = used ? 1 : 0;
    if (out.size() > INT32_MAX) {
      set_last_error(Win32Error::insufficient_buffer);
      return 0;
    }
    const auto needed = static_cast<int32_t>(out.size());
    if (dst_length == 0) return needed;
    if (needed > dst_length) {
      set_last_error(Win32Error::insufficient_buffer);
      return 0;
    }
    std::memcpy(dst, out.data(), out.size());
    return needed;
  } catch (const std::bad_alloc&) {
    set_last_error(Win32Error::not_enough_memory);
    return 0;
  }
}

MS uint32_t host_GetACP() { return kCp1252; }
MS int32_t host_IsDBCSLeadByteEx(uint32_t code_page, uint8_t) {
  if (supported_code_page(code_page) == 0) set_last_error(Win32Error::invalid_parameter);
  return 0;
}
MS int32_t host_IsDBCSLeadByte(uint8_t) { return 0; }

#undef MS

}  // namespace

std::vector<HostFunction> kernel32_host_functions() {
  const char* k = "kernel32.dll";
  return {
      {k, "DeleteCriticalSection", host_fn(host_DeleteCriticalSection), "clears the CRITICAL_SECTION"},
      {k, "EnterCriticalSection", host_fn(host_EnterCriticalSection),
       "a recursive lock on OwningThread (compare-exchange; a waiter yields); LockCount stays -1"},
      {k, "ExitProcess", host_fn(host_ExitProcess),
       "DllMain(DLL_PROCESS_DETACH) and TLS callbacks in reverse order, msvcrt's atexit functions, then exit with the "
       "code's low 8 bits"},
      {k, "FreeLibrary", host_fn(host_FreeLibrary), "pemap's FreeLibrary: DllMain(DLL_PROCESS_DETACH) first"},
      {k, "GetACP", host_fn(host_GetACP), "1252: CP_ACP is Windows-1252 here"},
      {k, "GetCommandLineA", host_fn(host_GetCommandLineA), "argv joined, quoted where an argument has a space"},
      {k, "GetCurrentProcess", host_fn(host_GetCurrentProcess), "the pseudo-handle (HANDLE)-1"},
      {k, "GetCurrentProcessId", host_fn(host_GetCurrentProcessId), "getpid()"},
      {k, "GetCurrentThread", host_fn(host_GetCurrentThread), "the pseudo-handle (HANDLE)-2"},
      {k, "GetCurrentThreadId", host_fn(host_GetCurrentThreadId), "gettid(), as the TEB's ClientId has it"},
      {k, "GetLastError", host_fn(host_GetLastError), "the TEB's LastErrorValue"},
      {k, "GetModuleHandleA", host_fn(host_GetModuleHandleA), "a loaded module's base; NULL: the executable"},
      {k, "GetProcAddress", host_fn(host_GetProcAddress), "an export of a loaded module, by name or ordinal"},
      {k, "GetProcessHeap", host_fn(host_GetProcessHeap), "the PEB's ProcessHeap, a handle to the one heap (malloc)"},
      {k, "GetStartupInfoA", host_fn(host_GetStartupInfoA), "cb = 104 and nothing else: no STARTF_ flags, no handles"},
      {k, "HeapAlloc", host_fn(host_HeapAlloc), "malloc (calloc for HEAP_ZERO_MEMORY), whatever the heap handle"},
      {k, "HeapFree", host_fn(host_HeapFree), "free"},
      {k, "InitializeCriticalSection", host_fn(host_InitializeCriticalSection),
       "a free CRITICAL_SECTION: LockCount -1, no owner, no debug info"},
      {k, "InitializeCriticalSectionAndSpinCount", host_fn(host_InitializeCriticalSectionAndSpinCount),
       "InitializeCriticalSection; the spin count is stored, not used"},
      {k, "InitializeCriticalSectionEx", host_fn(host_InitializeCriticalSectionEx),
       "InitializeCriticalSection; the spin count is stored, flags are ignored"},
      {k, "InterlockedDecrement", host_fn(host_InterlockedDecrement), "atomic decrement"},
      {k, "InterlockedIncrement", host_fn(host_InterlockedIncrement), "atomic increment"},
      {k, "IsDBCSLeadByte", host_fn(host_IsDBCSLeadByte), "FALSE: Windows-1252 has no lead bytes"},
      {k, "IsDBCSLeadByteEx", host_fn(host_IsDBCSLeadByteEx),
       "FALSE: the code pages pemap has (1252, 28591, UTF-8) have no lead bytes"},
      {k, "LeaveCriticalSection", host_fn(host_LeaveCriticalSection),
       "releases one level of the lock; nothing when this thread does not own it"},
      {k, "LoadLibraryA", host_fn(host_LoadLibraryA),
       "pemap's loader, then TLS blocks, TLS callbacks and DllMain(DLL_PROCESS_ATTACH)"},
      {k, "MultiByteToWideChar", host_fn(host_MultiByteToWideChar),
       "code pages 0 and 3 (as 1252), 1252, 28591 and 65001 (ill-formed UTF-8: U+FFFD, or "
       "ERROR_NO_UNICODE_TRANSLATION with MB_ERR_INVALID_CHARS); others ERROR_INVALID_PARAMETER; MB_COMPOSITE "
       "is ignored"},
      {k, "OutputDebugStringA", host_fn(host_OutputDebugStringA), "the string on stderr"},
      {k, "SetLastError", host_fn(host_SetLastError), "the TEB's LastErrorValue"},
      {k, "SetUnhandledExceptionFilter", host_fn(host_SetUnhandledExceptionFilter),
       "keeps the filter, returns the previous one; never calls it: pemap has no SEH, a fault stops the program"},
      {k, "Sleep", host_fn(host_Sleep), "usleep"},
      {k, "TlsAlloc", host_fn(host_TlsAlloc), "a free index of the 64 TEB TlsSlots and 1024 expansion slots"},
      {k, "TlsFree", host_fn(host_TlsFree), "frees the index; clears its slot"},
      {k, "TlsGetValue", host_fn(host_TlsGetValue), "the TEB slot; last error 0"},
      {k, "TlsSetValue", host_fn(host_TlsSetValue), "the TEB slot"},
      {k, "TryEnterCriticalSection", host_fn(host_TryEnterCriticalSection), "EnterCriticalSection without waiting"},
      {k, "VirtualProtect", host_fn(host_VirtualProtect),
       "mprotect of the pages; the old protection is VirtualQuery's; PAGE_GUARD and PAGE_NOCACHE are ignored"},
      {k, "VirtualQuery", host_fn(host_VirtualQuery),
       "MEMORY_BASIC_INFORMATION from pemap's VirtualQuery (/proc/self/maps and pemap's own views)"},
      {k, "WideCharToMultiByte", host_fn(host_WideCharToMultiByte),
       "the code pages of MultiByteToWideChar; an unmappable character is the default character (no best fit); "
       "a lone surrogate is U+FFFD in UTF-8 (ERROR_NO_UNICODE_TRANSLATION with WC_ERR_INVALID_CHARS)"},
  };
}

}  // namespace pemap::run
