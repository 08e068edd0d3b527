#include "run/sandbox.hpp"

#include <asm/prctl.h>
#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace pemap::run {

namespace {

// ---- Landlock: the kernel's ABI, numbered by version (bookworm's headers stop at version 3) ----
namespace landlock {
constexpr uint32_t kCreateRulesetVersion = 1;
constexpr int kRulePathBeneath = 1;
// File system rights, version 1 unless said.
constexpr uint64_t kExecute = 1 << 0, kWriteFile = 1 << 1, kReadFile = 1 << 2, kReadDir = 1 << 3;
constexpr uint64_t kFirstThirteen = (1 << 13) - 1;  // version 1's rights: execute ... make_sym
constexpr uint64_t kRefer = 1 << 13, kTruncate = 1 << 14, kIoctlDev = 1 << 15;  // versions 2, 3, 5
// Network rights (version 4) and scopes (version 6).
constexpr uint64_t kBindTcp = 1 << 0, kConnectTcp = 1 << 1;
constexpr uint64_t kScopeAbstractUnixSocket = 1 << 0, kScopeSignal = 1 << 1;

struct RulesetAttr {
  uint64_t handled_access_fs = 0, handled_access_net = 0, scoped = 0;
};
struct __attribute__((packed)) PathBeneath {
  uint64_t allowed_access;
  int32_t parent_fd;
};

long version() { return ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion); }

uint64_t file_rights(long abi) {
  uint64_t all = kFirstThirteen;
  if (abi >= 2) all |= kRefer;
  if (abi >= 3) all |= kTruncate;
  if (abi >= 5) all |= kIoctlDev;
  return all;
}
}  // namespace landlock

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error sandbox_error(const std::string& what, int err) {
  return make_error(Status::access_denied, "sandbox", Location{},
                    fmt::format("{}: {}: the program is not run without it", what, std::strerror(err)));
}

// Read beneath the directories the loader searches (and this process's own /proc entry: maps for VirtualQuery
// and the stack bounds, mem for image dumps), write beneath those the user allowed, no TCP, and with version 6
// no abstract Unix socket or signal outside this process. `false`: the kernel has no Landlock.
Result<bool> confine_files(const Sandbox& s) {
  const long abi = landlock::version();
  if (abi < 1) return false;
  landlock::RulesetAttr attr;
  attr.handled_access_fs = landlock::file_rights(abi);
  size_t size = sizeof attr.handled_access_fs;
  if (abi >= 4) {
    attr.handled_access_net = landlock::kBindTcp | landlock::kConnectTcp;
    size += sizeof attr.handled_access_net;
  }
  if (abi >= 6) {
    attr.scoped = landlock::kScopeAbstractUnixSocket | landlock::kScopeSignal;
    size += sizeof attr.scoped;
  }
  const Fd ruleset{static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0))};
  if (ruleset.fd < 0) return sandbox_error("landlock_create_ruleset", errno);
  auto allow = [&](const std::string& dir, uint64_t rights) -> std::optional<Error> {
    const Fd at{::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
    if (at.fd < 0) return std::nullopt;  // not there (or not a directory): nothing to allow
    landlock::PathBeneath rule{rights & attr.handled_access_fs, at.fd};
    if (::syscall(SYS_landlock_add_rule, ruleset.fd, landlock::kRulePathBeneath, &rule, 0) != 0)
      return sandbox_error("landlock_add_rule " + dir, errno);
    return std::nullopt;
  };
  const uint64_t read = landlock::kReadFile | landlock::kReadDir;
  for (const auto& dir : s.read_dirs)
    if (auto e = allow(dir.empty() ? "." : dir, read)) return *e;
  for (const auto& dir : s.write_dirs)
    if (auto e = allow(dir, attr.handled_access_fs & ~landlock::kExecute)) return *e;
  if (auto e = allow(fmt::format("/proc/{}", ::getpid()), read)) return *e;
  if (::syscall(SYS_landlock_restrict_self, ruleset.fd, 0) != 0) return sandbox_error("landlock_restrict_self", errno);
  return true;
}

// ---- seccomp ----

// The second filter's SECCOMP_RET_DATA, which reaches the SIGSYS handler as si_errno: the call came from memory
// that is not the code of an ELF object (image code, or code it wrote).
constexpr uint16_t kFromImageCode = 1;

struct CodeRange {
  uint64_t begin, end;  // [begin, end]: the address after a `syscall` at the very end is still inside
  std::string owner;
};
std::vector<CodeRange> g_trusted;  // filled once, before the filter

int collect_code(dl_phdr_info* info, size_t, void* out) {
  auto& ranges = *static_cast<std::vector<CodeRange>*>(out);
  std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.empty()) name = ranges.empty() ? "pemap" : "(unnamed ELF object)";  // the first is the program itself
  name = name.substr(name.rfind('/') + 1);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || ph.p_memsz == 0) continue;
    const uint64_t begin = info->dlpi_addr + ph.p_vaddr;
    ranges.push_back({begin, begin + ph.p_memsz, name});
  }
  return 0;
}

// Classic BPF on seccomp_data: instruction_pointer is at offset 8 (low half) and 12 (high half). For each range a
// block of eleven instructions with jumps inside it: in the range, allow; otherwise on to the next block. After
// the last, trap with kFromImageCode.
std::vector<sock_filter> code_filter(const std::vector<CodeRange>& ranges) {
  constexpr uint32_t kLow = 8, kHigh = 12;
  std::vector<sock_filter> p;
  auto load = [&](uint32_t at) { p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, at)); };
  auto jump = [&](uint16_t op, uint32_t k, uint8_t yes, uint8_t no) {
    p.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, k, yes, no));
  };
  for (const auto& r : ranges) {
    const auto lo_hi = static_cast<uint32_t>(r.begin >> 32), lo_lo = static_cast<uint32_t>(r.begin);
    const auto hi_hi = static_cast<uint32_t>(r.end >> 32), hi_lo = static_cast<uint32_t>(r.end);
    load(kHigh);                                                // 0
    jump(BPF_JGT, lo_hi, 3, 0);                                 // 1: high > begin's high: above begin, go to 5
    jump(BPF_JEQ, lo_hi, 0, 8);                                 // 2: high < begin's high: next block
    load(kLow);                                                 // 3
    jump(BPF_JGE, lo_lo, 0, 6);                                 // 4: low < begin's low: next block
    load(kHigh);                                                // 5
    jump(BPF_JGT, hi_hi, 4, 0);                                 // 6: above end's high: next block
    jump(BPF_JEQ, hi_hi, 0, 2);                                 // 7: below end's high: allow (10)
    load(kLow);                                                 // 8
    jump(BPF_JGT, hi_lo, 1, 0);                                 // 9: above end: next block
    p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));  // 10
  }
  p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | kFromImageCode));
  return p;
}

// What pemap's own code makes, once the sandbox is up: the loader (a LoadLibraryA from image code opens, maps and
// seals files and memfds, and asks the parent for image objects over its socket), the host functions (memory,
// console, Sleep, the TEB's gs), the socket to the parent, and glibc's own needs (abort's signal to itself).
// Everything else traps. `confined_opens`: Landlock holds, so openat may ask for write; without it, read only.
Result<bool> allow_host_calls(bool landlock_holds) {
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_TRAP);
  if (!ctx) return sandbox_error("seccomp_init", ENOMEM);
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { ::seccomp_release(ctx); }
  } release{ctx};
  int rc = 0;
  auto allow = [&](int nr, auto... conditions) {
    if (rc == 0) rc = ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, sizeof...(conditions), conditions...);
  };
  for (int nr : {SCMP_SYS(read),          SCMP_SYS(write),
                 SCMP_SYS(readv),         SCMP_SYS(writev),
                 SCMP_SYS(pread64),       SCMP_SYS(pwrite64),
                 SCMP_SYS(lseek),         SCMP_SYS(close),
                 SCMP_SYS(fstat),         SCMP_SYS(newfstatat),
                 SCMP_SYS(statx),         SCMP_SYS(stat),
                 SCMP_SYS(lstat),         SCMP_SYS(access),
                 SCMP_SYS(faccessat),     SCMP_SYS(faccessat2),
                 SCMP_SYS(getdents64),    SCMP_SYS(readlink),
                 SCMP_SYS(readlinkat),    SCMP_SYS(getcwd),
                 SCMP_SYS(mmap),          SCMP_SYS(munmap),
                 SCMP_SYS(mprotect),      SCMP_SYS(mremap),
                 SCMP_SYS(madvise),       SCMP_SYS(brk),
                 SCMP_SYS(memfd_create),  SCMP_SYS(fcntl),
                 SCMP_SYS(ftruncate),     SCMP_SYS(sendto),
                 SCMP_SYS(recvfrom),      SCMP_SYS(sendmsg),
                 SCMP_SYS(recvmsg),       SCMP_SYS(futex),
                 SCMP_SYS(sched_yield),   SCMP_SYS(sched_getaffinity),
                 SCMP_SYS(nanosleep),     SCMP_SYS(clock_nanosleep),
                 SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
                 SCMP_SYS(gettimeofday),  SCMP_SYS(getpid),
                 SCMP_SYS(gettid),        SCMP_SYS(getppid),
                 SCMP_SYS(rt_sigreturn),  SCMP_SYS(rt_sigprocmask),
                 SCMP_SYS(sigaltstack),   SCMP_SYS(getrlimit),
                 SCMP_SYS(getrandom),     SCMP_SYS(uname),
                 SCMP_SYS(exit),          SCMP_SYS(exit_group)})
    allow(nr);
  if (landlock_holds)
    allow(SCMP_SYS(openat));
  else
    allow(SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC, 0));
  allow(SCMP_SYS(prlimit64), SCMP_A2(SCMP_CMP_EQ, 0));  // reading a limit, never raising one
  allow(SCMP_SYS(tgkill),
        SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid())));  // abort() signals this process only
  allow(SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, TCGETS));                // isatty
  allow(SCMP_SYS(arch_prctl), SCMP_A0(SCMP_CMP_EQ, ARCH_SET_GS));      // the TEB
  allow(SCMP_SYS(arch_prctl), SCMP_A0(SCMP_CMP_EQ, ARCH_GET_GS));
  if (rc != 0) return sandbox_error("seccomp_rule_add", -rc);
  if (const int load = ::seccomp_load(ctx); load != 0) return sandbox_error("seccomp_load", -load);
  return true;
}

// The code filter goes first: once the allow-list is in, prctl is not allowed. Whichever traps, the handler tells
// image code from pemap's by the address (code_owner), so the order of the two does not change the report.
Result<bool> filter_system_calls(bool landlock_holds) {
  g_trusted.clear();
  ::dl_iterate_phdr(collect_code, &g_trusted);
  if (g_trusted.empty() || g_trusted.size() > 300) return sandbox_error("listing this process's code", EINVAL);
  auto program = code_filter(g_trusted);
  sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) return sandbox_error("seccomp filter", errno);
  return allow_host_calls(landlock_holds);
}

// ---- resources ----

uint64_t g_memory_limit = 0;  // in force in this process: for the notes
uint32_t g_cpu_limit = 0;
bool g_files_confined = false;
uint64_t g_failed_allocations = 0, g_largest_failed = 0;

uint64_t address_space_now() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

Result<bool> set_limits(const Sandbox& s) {
  const rlimit core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &core) != 0) return sandbox_error("setrlimit RLIMIT_CORE", errno);
  if (!s.limits) return true;
  const uint64_t space = address_space_now() + s.memory_bytes;
  const rlimit as{space, space};
  if (::setrlimit(RLIMIT_AS, &as) != 0) return sandbox_error("setrlimit RLIMIT_AS", errno);
  // SIGXCPU at the limit (the handler names it), SIGKILL a second later if the code blocked it.
  const rlimit cpu{s.cpu_seconds, uint64_t{s.cpu_seconds} + 1};
  if (::setrlimit(RLIMIT_CPU, &cpu) != 0) return sandbox_error("setrlimit RLIMIT_CPU", errno);
  g_memory_limit = s.memory_bytes;
  g_cpu_limit = s.cpu_seconds;
  return true;
}

}  // namespace

std::string Sandbox::missing() const {
  if (off())
    return "the sandbox is off (--unsafe-no-sandbox): the code runs with your rights: any system call, any file you "
           "can open, the network, and no limit on memory or CPU time";
  std::string out;
  auto add = [&](const char* what) {
    out += fmt::format("{}{}", out.empty() ? "the sandbox is weakened: " : "; ", what);
  };
  if (!system_calls) add("system calls are not filtered (--unsafe-allow-syscalls): the code may make any");
  if (!files) add("files are not confined (--unsafe-all-files): the code may read and write what you can");
  if (!limits) add("memory and CPU time are not limited (--unsafe-no-limits)");
  return out;
}

Result<SandboxNotes> enter_sandbox(const Sandbox& s) {
  SandboxNotes notes;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sandbox_error("PR_SET_NO_NEW_PRIVS", errno);
  if (auto limits = set_limits(s); !limits) return limits.take_error();
  bool landlock_holds = false;
  if (s.files) {
    auto files = confine_files(s);
    if (!files) return files.take_error();
    landlock_holds = g_files_confined = *files;
    if (!landlock_holds)
      notes.weaker.push_back(
          "this kernel has no Landlock: image code cannot open a file for writing, but it can read any file you can");
  }
  if (s.system_calls) {
    auto calls = filter_system_calls(landlock_holds || !s.files);
    if (!calls) return calls.take_error();
  }
  return notes;
}

std::string code_owner(uint64_t address) {
  for (const auto& r : g_trusted)
    if (address >= r.begin && address <= r.end) return r.owner;
  return {};
}

std::string stopped_system_call(int number, uint64_t call_address, int filter_data,
                                std::string (*describe)(uint64_t address)) {
  char* resolved = ::seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
  const std::string name = resolved ? resolved : "an unknown system call";
  std::free(resolved);
  const std::string owner = code_owner(call_address);
  if (filter_data == kFromImageCode || owner.empty()) {
    // The kernel reports the address after the instruction: syscall (0f 05) and int 0x80 (cd 80) are two bytes.
    const uint64_t at = call_address - 2;
    std::string where = describe ? describe(at) : "";
    if (where.empty()) where = fmt::format("{:#x}, memory no module maps", at);
    return fmt::format(
        "the sandbox stopped a Linux system call made by image code itself: {} ({}) by the instruction at {}; image "
        "code may make no system call",
        name, number, where);
  }
  return fmt::format(
      "the sandbox stopped the system call {} ({}), made in {} at {:#x}: pemap's host functions never make it, so "
      "image code called into {} to make it",
      name, number, owner, call_address, owner);
}

void note_failed_allocation(uint64_t size) {
  if (g_memory_limit == 0) return;
  ++g_failed_allocations;
  g_largest_failed = std::max(g_largest_failed, size);
}

std::string limit_notes() {
  if (g_failed_allocations == 0) return {};
  return fmt::format(
      "; before this, the memory limit (--limit-mem {} MiB) refused {} allocation{} (the largest {} bytes)",
      g_memory_limit >> 20, g_failed_allocations, g_failed_allocations == 1 ? "" : "s", g_largest_failed);
}

uint32_t cpu_limit_seconds() { return g_cpu_limit; }

void report_refused_file(std::string_view call, std::string_view path, const Error& e) {
  constexpr uint32_t kErrorAccessDenied = 5;
  if (!g_files_confined || (e.status != Status::access_denied && e.win32 != kErrorAccessDenied)) return;
  std::fflush(stdout);
  std::fprintf(stderr,
               "pemap: the sandbox refused %.*s(\"%.*s\"): %s: image code may read only beneath the application "
               "directory and the --path directories, and write only beneath --allow-dir\n",
               static_cast<int>(call.size()), call.data(), static_cast<int>(path.size()), path.data(),
               e.to_string().c_str());
  std::fflush(stderr);
}

std::optional<std::string> limit_reached(const Sandbox& s, int signal, double cpu_seconds_used) {
  if (s.limits && (signal == SIGXCPU || (signal == SIGKILL && cpu_seconds_used >= s.cpu_seconds)))
    return fmt::format("the program used up its CPU time limit ({} s, --limit-time) and was killed", s.cpu_seconds);
  if (s.system_calls && signal == SIGSYS) return "the sandbox stopped a system call (SIGSYS)";
  return std::nullopt;
}

}  // namespace pemap::run
