// Host implementations of Win32 and CRT functions, so that loaded x86-64 code can call its imports: a documented,
// built-in table (docs/running.md) of kernel32 functions (host_kernel32.cpp) and msvcrt functions and variables
// (host_msvcrt.cpp, with msvcrt's printf formatter in host_printf.cpp). An import with no host implementation is
// bound to a trap address, and calling it stops the program with a message naming module!function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process/module_name.hpp"

namespace pemap::ldr {
class Process;
}

namespace pemap::run {

struct HostFunction {
  const char* dll;  ///< lower case, as normalized: "kernel32.dll"
  const char* name;
  const void* address;    ///< an ms_abi function of this process, or the variable of a data import
  const char* behaviour;  ///< what it does here, for the documentation and --list
  bool data = false;      ///< a variable (msvcrt's _fmode...): the IAT slot holds its address, as on Windows
};

/// Every host function, in the order of the documentation: kernel32.dll's, then msvcrt.dll's, each by name.
const std::vector<HostFunction>& host_functions();
/// Whether `dll` is a module whose imports the host table serves instead of a file: kernel32.dll, kernelbase.dll,
/// ntdll.dll and msvcrt.dll.
bool is_host_module(const ldr::ModuleName& dll);
/// The host implementation of dll!name, or nullopt (the import then goes to a trap).
std::optional<uint64_t> host_address(const ldr::ModuleName& dll, std::string_view name);

/// The program's command line, argv[0] first, for __getmainargs, __initenv, _acmdln and GetCommandLineA; the
/// environment they give is this process's. Runtime::initialize calls it once, before any image code runs.
void set_host_command_line(const std::vector<std::string>& arguments);

/// Ends the process the way ExitProcess does: DLL_PROCESS_DETACH in reverse initialization order (Runtime::shutdown),
/// then msvcrt's own detach (the _onexit/atexit functions exit() has not run yet), stdio flushed, and the exit code
/// (its low 8 bits: what Linux keeps). A second call while that runs (ExitProcess from a DllMain) ends at once.
[[noreturn]] void exit_process(uint32_t code);

}  // namespace pemap::run
