// The running program's side of the loader: which modules have been initialized, and the calls Windows makes into
// them as the module list changes. LdrpInitializeProcess (and LoadLibrary) give each new module its TLS block, run
// its TLS callbacks and then its DllMain(DLL_PROCESS_ATTACH), dependencies first; FreeLibrary and process exit run
// DLL_PROCESS_DETACH, TLS callbacks again, in reverse, and free the TLS blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pe/error.hpp"
#include "process/process.hpp"

namespace pemap::run {

class Runtime {
 public:
  explicit Runtime(ldr::Process& process) : process_(process) {}
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  ldr::Process& process() { return process_; }

  /// Every module not initialized yet, in initialization order: its TLS block (allocate_tls), its TLS callbacks
  /// (reason DLL_PROCESS_ATTACH), then, for a DLL, DllMain(DLL_PROCESS_ATTACH). The executable's entry point is not
  /// DllMain and is not called here. The first call also gives the calling thread its TEB and the process its PEB
  /// (install_teb, run/teb.hpp) and hands the command line to the host functions (set_host_command_line); a call that
  /// initializes a module also sets the PEB's ImageBaseAddress. Image code runs on the thread that calls this.
  /// A DllMain that returns FALSE is STATUS_DLL_INIT_FAILED naming the module; the modules before it stay initialized.
  Result<bool> initialize();
  /// FreeLibrary: one reference less; each module that goes gets DllMain(DLL_PROCESS_DETACH) and its TLS callbacks
  /// (reason DLL_PROCESS_DETACH) before it is unmapped, the freed module first, then its dependencies.
  Result<bool> free_library(std::string_view name);
  /// Process exit: DETACH for every initialized module, in the reverse of the order they were initialized in.
  void shutdown();

  /// Modules initialized so far, in order.
  const std::vector<const ldr::Module*>& initialized() const { return initialized_; }

  /// The program's argv (argv[0] first), as msvcrt's __getmainargs and _acmdln and kernel32's GetCommandLineA give
  /// it. Set before the first initialize(); unset, it is the executable's path alone (the first module's path when
  /// there is no executable).
  void set_arguments(std::vector<std::string> arguments) { arguments_ = std::move(arguments); }

 private:
  void detach(const ldr::Module& m);

  ldr::Process& process_;
  std::vector<const ldr::Module*> initialized_;
  std::vector<std::string> arguments_;
  bool started_ = false;
};

/// The runtime whose modules the host functions (LoadLibraryA, GetProcAddress, ExitProcess...) see: one running
/// program per (child) process.
Runtime* current_runtime();
void set_current_runtime(Runtime* runtime);

}  // namespace pemap::run
