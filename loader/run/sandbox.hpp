// The sandbox a child process enters before it loads anything: image code is foreign code, so the kernel, not
// pemap's good manners, keeps it from the machine. Four fences, each enforced for the whole process:
//   * system calls: a seccomp filter stops every system call made from memory that is not one of the ELF objects
//     of this process (pemap, libc, the vDSO...), so image code can make none of its own; a second filter lets the
//     rest make only the calls pemap's loader and host functions need (no socket, no exec, no ptrace, no fork);
//   * files: Landlock lets the process read beneath the directories its loader searches and write only beneath the
//     directories the user allows (without Landlock in the kernel: no opening for write at all, reads unconfined);
//   * network: no socket can be made (seccomp), and with Landlock no TCP bind or connect, no abstract Unix socket
//     outside the process, no signal to a process outside it;
//   * resources: address space and CPU time are bounded (rlimits), core dumps are off.
// A system call the filters stop, or a limit reached, ends the child with a report naming it (child.cpp).
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pe/error.hpp"

namespace pemap::run {

struct Sandbox {
  bool system_calls = true;                   ///< the two seccomp filters; false only with --unsafe-allow-syscalls
  bool files = true;                          ///< Landlock; false only with --unsafe-all-files
  bool limits = true;                         ///< rlimits; false only with --unsafe-no-limits
  std::vector<std::string> read_dirs;         ///< readable beneath: the directories the loader searches
  std::vector<std::string> write_dirs;        ///< readable and writable beneath: --allow-dir
  uint64_t memory_bytes = uint64_t{1} << 30;  ///< address space the child may add to what it has at the start
  uint32_t cpu_seconds = 60;                  ///< CPU time (user + system), the load's included

  bool off() const { return !system_calls && !files && !limits; }
  /// "" when every fence is up; otherwise which are down and by which option, for the warning the commands print.
  std::string missing() const;
};

/// What the child enforces, for its report: one line per fence that is weaker than asked (a kernel without
/// Landlock, say); empty when all hold as asked.
struct SandboxNotes {
  std::vector<std::string> weaker;
};

/// What the parent prepares before it forks: the Landlock ruleset with a rule per directory, and the seccomp
/// program (the calling-address check for this process's ELF objects, then the allow-list). Built in the parent,
/// where it costs a fraction of what it costs a freshly forked child, whose every first touch of a page faults.
class SandboxPlan {
 public:
  static Result<SandboxPlan> prepare(const Sandbox& sandbox);
  SandboxPlan(SandboxPlan&& other) noexcept;
  SandboxPlan& operator=(SandboxPlan&&) = delete;
  ~SandboxPlan();  ///< closes the ruleset, in the parent once the child has its copy

  /// In the child, before it closes what it does not need: the ruleset's descriptor goes above every low one
  /// (park), then to `fd`.
  void park_ruleset();
  void move_ruleset_to(int fd);
  int ruleset() const { return ruleset_; }

 private:
  friend Result<SandboxNotes> enter_sandbox(SandboxPlan& plan);
  SandboxPlan() = default;
  Sandbox sandbox_;
  int ruleset_ = -1;
  bool landlock_ = false;  ///< planned: a child without the ruleset then fails rather than run unconfined
  uint64_t handled_fs_ = 0;
  uint64_t address_space_ = 0;  ///< the parent's, which the child starts with: RLIMIT_AS adds the limit to it
  std::vector<sock_filter> program_;
  SandboxNotes notes_;
};

/// In the child, single-threaded, before anything of the image is read: no new privileges, rlimits, Landlock, then
/// the seccomp program. On error the child must not run image code (the caller reports and exits).
Result<SandboxNotes> enter_sandbox(SandboxPlan& plan);

/// Every system call the allow-list lets through, by name: those allowed whatever their arguments, then those it
/// allows only with the arguments docs/running.md gives (allow_list::kWithArguments).
std::vector<std::string> allowed_system_calls();

/// For a SIGSYS from the filters (in the child's signal handler): which system call, from where, and why it was
/// stopped. `describe` names an address of image code ("0x...(liba.dll+0x1010, .text)"), or returns "".
std::string stopped_system_call(int number, bool i386, uint64_t call_address, int filter_data,
                                std::string (*describe)(uint64_t address));

/// The load is over and the child serves requests, which run image code: from here on a stopped call is blamed on
/// it (before, on pemap's allow-list).
void image_code_may_run();

/// The ELF object whose code holds `address` ("libc.so.6"), from the list the filter was built with; "" if none.
std::string code_owner(uint64_t address);

/// The host's allocation functions call this when an allocation failed: with the memory limit in force it is
/// counted, and a later report says so (`limit_notes`).
void note_failed_allocation(uint64_t size);
/// "" or "; before this, the memory limit (--limit-mem 1024 MiB) refused 3 allocations (the largest 1048576 bytes)".
std::string limit_notes();
/// A host function (LoadLibraryA) failed with `e`: when Landlock refused the file, say so on stderr, naming the
/// call and the path, since the code itself only sees an error code.
void report_refused_file(std::string_view call, std::string_view path, const Error& e);

/// The CPU time limit in force in this child, 0 when none: for the SIGXCPU report.
uint32_t cpu_limit_seconds();

/// In the parent, for a child that ended without a last message (killed, or ended by the handler without one): the
/// limit its end and its CPU time point to, or nothing.
std::optional<std::string> limit_reached(const Sandbox& sandbox, int signal, double cpu_seconds_used);

}  // namespace pemap::run
