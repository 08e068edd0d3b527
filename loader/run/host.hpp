// Host implementations of a few Win32 and CRT functions, so that loaded x86-64 code can call its imports: a
// documented, built-in table (docs/running.md). An import with no host implementation is bound to a trap address,
// and calling it stops the program with a message naming module!function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pemap::ldr {
class Process;
}

namespace pemap::run {

struct HostFunction {
  const char* dll;  ///< lower case, as normalized: "kernel32.dll"
  const char* name;
  const void* address;    ///< an ms_abi function of this process
  const char* behaviour;  ///< what it does here, for the documentation and --list
};

/// Every host function, in the order of the documentation.
const std::vector<HostFunction>& host_functions();
/// Whether `dll` (normalized, any case) is a module whose imports the host table serves instead of a file:
/// kernel32.dll, kernelbase.dll, ntdll.dll and msvcrt.dll.
bool is_host_module(std::string_view dll);
/// The host implementation of dll!name, or nullopt (the import then goes to a trap).
std::optional<uint64_t> host_address(std::string_view dll, std::string_view name);

}  // namespace pemap::run
