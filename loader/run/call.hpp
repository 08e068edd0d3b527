// Running image code in this process: a function of a loaded PE32+ x86-64 module called with the Microsoft x64
// calling convention (first four integer arguments in RCX, RDX, R8, R9; 32 bytes of shadow space the compiler's
// ms_abi call provides). PE32 code is never run: it needs the CPU in 32-bit mode.
#pragma once

#include <cstdint>
#include <span>

#include "pe/error.hpp"
#include "process/process.hpp"

namespace pemap::run {

/// Whether `m`'s code can run here; the error says why not (PE32, another machine, or not an x86-64 host).
Result<bool> can_run(const ldr::Module& m);

/// Calls `address` in `m` with up to four integer or pointer arguments; returns RAX.
Result<uint64_t> call(const ldr::Module& m, uint64_t address, std::span<const uint64_t> args);

/// DllMain(hinstance = base, reason, reserved = 0) at the module's entry point; 0 = FALSE. DLL_PROCESS_ATTACH is 1,
/// DLL_PROCESS_DETACH 0. A module without an entry point returns TRUE without a call, as the loader does.
inline constexpr uint32_t kDllProcessDetach = 0, kDllProcessAttach = 1;
Result<uint64_t> call_dll_main(const ldr::Module& m, uint32_t reason);

/// The address of an export of `m` by name (forwarders not followed), or an error naming module and function.
Result<uint64_t> export_address(const ldr::Module& m, std::string_view name);

}  // namespace pemap::run
