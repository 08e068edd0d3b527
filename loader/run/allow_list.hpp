// The system calls a sandboxed child may make from pemap's own code (run/sandbox.hpp): what the loader, the host
// functions and glibc under them need. The build turns this list into BPF with libseccomp
// (run/allow_list_gen.cpp), so that a child loads a finished program instead of building one.
#pragma once

namespace pemap::run::allow_list {

/// Allowed whatever their arguments (docs/running.md lists them; a test holds the two together).
// clang-format off
inline constexpr const char* kAlways[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close",           // descriptors
    "fstat", "newfstatat", "statx", "stat", "lstat", "access", "faccessat", "faccessat2",  // the module search
    "getdents64", "readlink", "readlinkat", "getcwd",
    "mmap", "munmap", "mprotect", "mremap", "madvise", "brk",                              // memory
    "memfd_create", "ftruncate",                                                           // image objects
    "sendto", "recvfrom", "sendmsg", "recvmsg",                                            // the parent's socket
    "futex", "sched_yield", "sched_getaffinity", "nanosleep", "clock_nanosleep",           // time, locks
    "clock_gettime", "clock_getres", "gettimeofday",
    "getpid", "gettid", "getppid", "getrlimit", "getrandom", "uname",                      // about itself
    "rt_sigreturn", "rt_sigprocmask", "sigaltstack", "exit", "exit_group"};
// clang-format on

/// Allowed with some arguments only: openat (for writing only where Landlock confines it; O_TRUNC only where
/// Landlock confines truncation too, from its version 3), fcntl (descriptor and seal flags: F_GETFD, F_SETFD,
/// F_GETFL, F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS; never F_SETOWN or F_SETSIG, which would signal another
/// process), prlimit64 (reading a limit), ioctl (TCGETS: isatty), arch_prctl (ARCH_SET_GS, ARCH_GET_GS: the TEB).
inline constexpr const char* kWithArguments[] = {"openat", "fcntl", "prlimit64", "ioctl", "arch_prctl"};

/// Only in a build with AddressSanitizer, whose runtime tells readable memory by writing it into a pipe.
inline constexpr const char* kSanitizerOnly[] = {"pipe2"};

}  // namespace pemap::run::allow_list
