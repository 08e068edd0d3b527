// The system calls a sandboxed child may make from pemap's own code (run/sandbox.hpp): what the loader, the host
// functions and glibc under them need. The build turns this list into BPF with libseccomp
// (run/allow_list_gen.cpp), so that a child loads a finished program instead of building one.
#pragma once

namespace pemap::run::allow_list {

/// Allowed whatever their arguments (docs/running.md lists them; a test holds the two together).
inline constexpr const char* kAlways[] = {"read",           "write",           "readv",
                                          "writev",         "pread64",         "pwrite64",
                                          "lseek",          "close",  // descriptors
                                          "fstat",          "newfstatat",      "statx",
                                          "stat",           "lstat",           "access",
                                          "faccessat",      "faccessat2",  // the module search
                                          "getdents64",     "readlink",        "readlinkat",
                                          "getcwd",  //
                                          "mmap",           "munmap",          "mprotect",
                                          "mremap",         "madvise",         "brk",        // memory
                                          "memfd_create",   "fcntl",           "ftruncate",  // image objects
                                          "sendto",         "recvfrom",        "sendmsg",
                                          "recvmsg",  // the parent's socket
                                          "futex",          "sched_yield",     "sched_getaffinity",
                                          "nanosleep",      "clock_nanosleep", "clock_gettime",  // time, locks
                                          "clock_getres",   "gettimeofday",    "getpid",
                                          "gettid",         "getppid",         "getrlimit",
                                          "getrandom",      "uname",           "rt_sigreturn",
                                          "rt_sigprocmask", "sigaltstack",     "exit",
                                          "exit_group"};

/// Allowed with some arguments only: openat (for writing only where Landlock confines it), prlimit64 (reading a
/// limit), ioctl (TCGETS: isatty), arch_prctl (ARCH_SET_GS, ARCH_GET_GS: the TEB).
inline constexpr const char* kWithArguments[] = {"openat", "prlimit64", "ioctl", "arch_prctl"};

/// Only in a build with AddressSanitizer, whose runtime tells readable memory by writing it into a pipe.
inline constexpr const char* kSanitizerOnly[] = {"pipe2"};

}  // namespace pemap::run::allow_list
