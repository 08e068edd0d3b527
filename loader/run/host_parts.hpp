// The pieces of the host table, one per DLL file, and what they share (internal to loader/run/host*.cpp).
#pragma once

#include <string>
#include <vector>

#include "run/host.hpp"

#define PEMAP_MS_ABI __attribute__((ms_abi))

namespace pemap::run {

/// kernel32.dll's functions (host_kernel32.cpp), in name order.
std::vector<HostFunction> kernel32_host_functions();
/// msvcrt.dll's functions and variables (host_msvcrt.cpp), in name order.
std::vector<HostFunction> msvcrt_host_functions();

/// What msvcrt.dll does at DLL_PROCESS_DETACH when exit() has not run: the _onexit/atexit functions, last first,
/// then every stream flushed. Once.
void msvcrt_process_detach();
/// The command line as one string (_acmdln, GetCommandLineA); "" before set_host_command_line.
const char* host_command_line();

template <class F>
const void* host_fn(F* f) {
  return reinterpret_cast<const void*>(f);
}

}  // namespace pemap::run
