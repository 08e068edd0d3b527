// Process::create: a real child process that maps an executable or a DLL, and its imports, in an address space of
// its own, and runs their code when the parent asks. The parent drives it over a socket: it gets a report of what
// was loaded (the module list, each module's region table, the load's events), asks it to initialize the modules,
// call exports, FreeLibrary, run the entry point or ExitProcess, and reads any range of its memory (image dumps).
// The child dies with its parent, and runs in a sandbox (run/sandbox.hpp). Code that faults stops the child with a
// message naming what it did: a call to an import bound to a trap names module!function, an instruction reading gs:
// names the TEB, a system call the sandbox stopped names the call and where it was made, and a limit reached names
// the limit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pe/error.hpp"
#include "process/process.hpp"
#include "run/sandbox.hpp"

namespace pemap::run {

class ImageObjectRegistry;

struct ChildOptions {
  ldr::LoadOptions load;
  bool library = false;      ///< LoadLibrary instead of CreateProcess
  bool host_imports = true;  ///< a PE32+ image's kernel32/kernelbase/ntdll/msvcrt imports bind to the host table
  int stdout_fd = -1;        ///< the child's stdout and stderr (what its code prints); -1: this process's own
  int stderr_fd = -1;
  ldr::EventSink on_event;  ///< called here, in the parent, for each step of the child's load
  /// Entered by the child before it reads the file. Its read_dirs get the file's directory, the application
  /// directory and the search directories added: what the loader searches.
  Sandbox sandbox;
};

/// One module as loaded in the child.
struct ChildModule {
  struct Region {
    uint64_t rva = 0, size = 0;
    std::string name;
    uint32_t protect = 0;  ///< PAGE_*
    bool shared = false;   ///< a MEM_SHARED section: one object for every instance
  };
  std::string name, path;
  uint64_t base = 0, preferred_base = 0, size = 0, entry_point = 0;
  bool executable = false;
  std::vector<Region> regions;
};

/// An import the child's loader bound to a trap (ldr::Unresolved, copied out of the child).
struct UnresolvedImport {
  std::string importer, dll, function;
  Status status = Status::success;
  std::string reason;
  uint64_t trap = 0;
};

struct ChildReport {
  pid_t pid = 0;
  std::string module;  ///< the one asked for
  std::vector<ChildModule> modules;
  std::vector<UnresolvedImport> unresolved;
  std::vector<ldr::Event> events;
  std::string cannot_run;                   ///< why this image's code cannot run here (PE32...); empty when it can
  std::vector<std::string> sandbox_weaker;  ///< where the child's sandbox is weaker than asked (SandboxNotes)

  const ChildModule* find(std::string_view name) const;
};

/// How a request that ran image code ended.
struct Outcome {
  enum class Kind : uint8_t {
    returned,  ///< `value` is what the call returned (RAX), or TRUE for initialize and free_library
    exited,    ///< the code ended the process (ExitProcess, exit, or the entry point returned): `value` is the code
    fault,     ///< the code faulted: `message` says how; the child is gone
  };
  Kind kind = Kind::returned;
  uint64_t value = 0;
  std::string message;
};

/// The kernel's count of a range's resident pages, from /proc/PID/smaps.
struct Residency {
  uint64_t shared_kb = 0;   ///< Shared_Clean + Shared_Dirty: pages another process maps too
  uint64_t private_kb = 0;  ///< Private_Clean + Private_Dirty: pages only this process maps
};

/// An argument for call(): an integer or pointer, or a string the child copies and passes a pointer to.
using Argument = std::variant<uint64_t, std::string>;

class Child {
 public:
  /// Forks the child and has it load `file`. The error is the load's own (or why no child could be made).
  static Result<Child> create(const std::string& file, ChildOptions options);
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  ~Child();  ///< the child is killed if it is still running

  const ChildReport& report() const { return report_; }
  pid_t pid() const { return report_.pid; }
  bool running() const { return fd_ >= 0; }

  /// TLS callbacks, then DllMain(DLL_PROCESS_ATTACH), for every module not initialized yet, dependencies first.
  Result<Outcome> initialize();
  /// module!function(args...) with the Microsoft x64 calling convention, at most four arguments.
  Result<Outcome> call(std::string_view module, std::string_view function, std::span<const Argument> args = {});
  /// LoadLibraryA in the child, then initialize; the value is the new module's base.
  Result<Outcome> load_library(std::string_view name);
  /// FreeLibrary: DETACH for each module that goes, then the unmapping.
  Result<Outcome> free_library(std::string_view module);
  /// The executable's entry point; returning from it ends the process (Kind::exited).
  Result<Outcome> run_entry();
  /// ExitProcess(code): DETACH in reverse order, then the end of the child.
  Result<Outcome> exit_process(uint32_t code);
  /// `length` bytes of the child's memory at `address`, whatever their protection (pages never committed are an
  /// error naming the address).
  Result<std::vector<std::byte>> read(uint64_t address, uint64_t length);

  /// Resident pages of the mappings that start in [address, address + size), as the kernel counts them.
  Residency resident(uint64_t address, uint64_t size) const;
  /// The physical page frame of each page in [address, address + size), from /proc/PID/pagemap: 0 for a page that
  /// is not resident, and for every page when the kernel hides frame numbers (without CAP_SYS_ADMIN).
  std::vector<uint64_t> page_frames(uint64_t address, uint64_t size) const;

 private:
  Child() = default;
  /// The child's next frame that is not a question about image objects (those it answers on the way).
  std::optional<std::string> receive();
  /// Sends one request and reads its reply; `bytes` receives the data of a read.
  Result<Outcome> request(std::string payload, std::string* bytes = nullptr);
  /// The child has gone: how (exit code or signal), and reap it.
  Outcome ended();

  int fd_ = -1;
  ChildReport report_;
  std::shared_ptr<ImageObjectRegistry> image_objects_;  ///< shared by every Child of this process
  Sandbox sandbox_;                                     ///< what the child entered: to name a limit it reached
};

}  // namespace pemap::run
