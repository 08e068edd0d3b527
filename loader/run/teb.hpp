// The Windows x64 thread and process environment blocks that image code reaches through gs: (NtCurrentTeb is
// gs:[0x30]), and each module's block of __declspec(thread) data behind the TEB's ThreadLocalStoragePointer.
// glibc on x86-64 keeps its own thread pointer in fs, so gs is free: arch_prctl(ARCH_SET_GS) points it at the TEB.
#pragma once

#include <cstdint>

#include "pe/error.hpp"
#include "process/process.hpp"

namespace pemap::run {

/// Where Windows x64 code finds things in the TEB (winternl.h, NT_TIB) and PEB; pemap fills only these.
namespace teb_offset {
inline constexpr uint32_t stack_base = 0x08, stack_limit = 0x10, self = 0x30, client_id_process = 0x40,
                          client_id_thread = 0x48, thread_local_storage_pointer = 0x58, peb = 0x60,
                          last_error_value = 0x68, deallocation_stack = 0x1478, tls_slots = 0x1480,
                          tls_expansion_slots = 0x1780;
inline constexpr uint32_t size = 0x2000;  ///< 0x1838 on Windows 10, rounded up to pages
}  // namespace teb_offset
namespace peb_offset {
inline constexpr uint32_t being_debugged = 0x02, mutant = 0x08, image_base_address = 0x10, ldr = 0x18,
                          process_parameters = 0x20, process_heap = 0x30, number_of_processors = 0xb8,
                          nt_global_flag = 0xbc, os_major_version = 0x118, os_minor_version = 0x11c,
                          os_build_number = 0x120, os_platform_id = 0x124;
inline constexpr uint32_t size = 0x1000;
}  // namespace peb_offset

/// TlsAlloc indexes: 64 in the TEB's TlsSlots, 1024 more behind TlsExpansionSlots, as on Windows.
inline constexpr uint32_t kTlsMinimumAvailable = 64, kTlsExpansionSlots = 1024;

/// Gives the calling thread a TEB and points gs at it, once per thread (later calls only refresh the PEB's
/// ImageBaseAddress). The TEB holds: NT_TIB with StackBase/StackLimit of this thread's stack (pthread_getattr_np),
/// Self, ClientId (getpid, gettid), ThreadLocalStoragePointer (the slot array allocate_tls fills), the PEB and
/// LastErrorValue. The PEB, one per process, holds ImageBaseAddress (`image_base`: the executable's, 0 when there is
/// none), BeingDebugged 0, ProcessHeap (process_heap()), NumberOfProcessors and an OS version of 10.0.19045; Ldr and
/// ProcessParameters stay NULL: pemap keeps its module list in ldr::Process, not in PEB_LDR_DATA. Both blocks live
/// until the process ends. Errors: not an x86-64 host, or arch_prctl refused.
Result<uint64_t> install_teb(uint64_t image_base);
/// The calling thread's TEB, or 0 before install_teb.
uint64_t current_teb();
/// The value of the PEB's ProcessHeap, and the handle GetProcessHeap gives: never NULL.
uint64_t process_heap();

/// Module `m`'s TLS block for the calling thread, as the loader makes it before the module's TLS callbacks run (and,
/// since Vista, for a module LoadLibrary brings in later): [StartAddressOfRawData, EndAddressOfRawData) copied from
/// the mapped (relocated) image, then SizeOfZeroFill zero bytes, aligned as the directory's Characteristics ask (at
/// least 16). The block goes into ThreadLocalStoragePointer[index], where index is what the loader wrote at
/// AddressOfIndex (ldr::Process::assign_tls_index). A module without a TLS directory gets nothing. Needs install_teb
/// first. Errors: a template or index outside the mapped image, a slot another module holds, no memory.
Result<bool> allocate_tls(const ldr::Module& m);
/// Frees `m`'s block and clears its slot (FreeLibrary, after its DETACH calls). Nothing when it has none.
void release_tls(const ldr::Module& m);

/// TlsGetValue/TlsSetValue storage: the calling thread's slot `index` (TlsSlots, then TlsExpansionSlots, made on
/// first use when `create`), or nullptr when the index is out of range, the thread has no TEB, or the expansion
/// slots are not there and `create` is false.
uint64_t* tls_value_slot(uint32_t index, bool create);

/// GetLastError/SetLastError: the TEB's LastErrorValue (a thread-local fallback before install_teb).
uint32_t last_error();
void set_last_error(uint32_t code);
inline void set_last_error(Win32Error code) { set_last_error(static_cast<uint32_t>(code)); }
/// The code of the call that failed with `e`, or `otherwise` when `e` carries none.
inline void set_last_error(const Error& e, Win32Error otherwise) {
  e.win32 ? set_last_error(e.win32) : set_last_error(otherwise);
}

}  // namespace pemap::run
