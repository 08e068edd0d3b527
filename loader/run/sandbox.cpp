#include "run/sandbox.hpp"

#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "run/allow_list.hpp"
#include "run/allow_list_bpf.inc"

namespace pemap::run {

namespace {

// ---- Landlock: the kernel's ABI, numbered by version (bookworm's headers stop at version 3) ----
namespace landlock {
constexpr uint32_t kCreateRulesetVersion = 1;
constexpr int kRulePathBeneath = 1;
// File system rights, version 1 unless said.
constexpr uint64_t kExecute = 1 << 0, kReadFile = 1 << 2, kReadDir = 1 << 3;
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

std::optional<Error> allow_beneath(int ruleset, const std::string& dir, uint64_t rights) {
  const Fd at{::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
  if (at.fd < 0) return std::nullopt;  // not there (or not a directory): nothing to allow
  landlock::PathBeneath rule{rights, at.fd};
  if (::syscall(SYS_landlock_add_rule, ruleset, landlock::kRulePathBeneath, &rule, 0) != 0)
    return sandbox_error("landlock_add_rule " + dir, errno);
  return std::nullopt;
}

// The parent's half of Landlock: a ruleset that handles every right this kernel knows, with a rule per directory
// (read beneath the directories the loader searches, read and write beneath --allow-dir), no TCP, and from
// version 6 no abstract Unix socket or signal outside the process. -1: the kernel has no Landlock.
Result<int> landlock_ruleset(const Sandbox& s, uint64_t& handled_fs, long& abi) {
  abi = landlock::version();
  if (abi < 1) return -1;
  landlock::RulesetAttr attr;
  attr.handled_access_fs = handled_fs = landlock::file_rights(abi);
  size_t size = sizeof attr.handled_access_fs;
  if (abi >= 4) {
    attr.handled_access_net = landlock::kBindTcp | landlock::kConnectTcp;
    size += sizeof attr.handled_access_net;
  }
  if (abi >= 6) {
    attr.scoped = landlock::kScopeAbstractUnixSocket | landlock::kScopeSignal;
    size += sizeof attr.scoped;
  }
  Fd ruleset{static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0))};
  if (ruleset.fd < 0) return sandbox_error("landlock_create_ruleset", errno);
  const uint64_t read = landlock::kReadFile | landlock::kReadDir;
  for (const auto& dir : s.read_dirs)
    if (auto e = allow_beneath(ruleset.fd, dir.empty() ? "." : dir, read & handled_fs)) return *e;
  for (const auto& dir : s.write_dirs)
    if (auto e = allow_beneath(ruleset.fd, dir, handled_fs & ~landlock::kExecute)) return *e;
  return std::exchange(ruleset.fd, -1);
}

// ---- seccomp ----

// The second filter's SECCOMP_RET_DATA, which reaches the SIGSYS handler as si_errno: the call came from memory
// that is not the code of an ELF object (image code, or code it wrote).
constexpr uint16_t kFromImageCode = 1;

struct CodeRange {
  uint64_t begin, end;  // [begin, end]: the address after a `syscall` at the very end is still inside
  std::string owner;
};

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

// One seccomp program, so that the kernel compiles and attaches one (each costs a child about 0.2 ms). First, on
// the calling address: a block of eleven instructions per ELF object's code, [begin, end], with jumps inside it;
// an address inside goes on to the allow-list, one outside every block traps with kFromImageCode. Then the
// allow-list as libseccomp wrote it at build time (run/allow_list_gen.cpp), which traps what it does not allow.
// seccomp_data.instruction_pointer is at offset 8 (low half) and 12 (high half).
std::vector<sock_filter> system_call_filter(const std::vector<CodeRange>& ranges,
                                            std::span<const sock_filter> allow_list) {
  constexpr uint32_t kLow = 8, kHigh = 12;
  const size_t start = ranges.size() * 11 + 1;  // where the allow-list begins
  std::vector<sock_filter> p;
  p.reserve(start + allow_list.size());
  auto load = [&](uint32_t at) { p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, at)); };
  auto jump = [&](uint16_t op, uint32_t k, uint8_t yes, uint8_t no) {
    p.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, k, yes, no));
  };
  for (const auto& r : ranges) {
    const auto lo_hi = static_cast<uint32_t>(r.begin >> 32), lo_lo = static_cast<uint32_t>(r.begin);
    const auto hi_hi = static_cast<uint32_t>(r.end >> 32), hi_lo = static_cast<uint32_t>(r.end);
    load(kHigh);                 // 0
    jump(BPF_JGT, lo_hi, 3, 0);  // 1: high > begin's high: above begin, go to 5
    jump(BPF_JEQ, lo_hi, 0, 8);  // 2: high < begin's high: next block
    load(kLow);                  // 3
    jump(BPF_JGE, lo_lo, 0, 6);  // 4: low < begin's low: next block
    load(kHigh);                 // 5
    jump(BPF_JGT, hi_hi, 4, 0);  // 6: above end's high: next block
    jump(BPF_JEQ, hi_hi, 0, 2);  // 7: below end's high: inside (10)
    load(kLow);                  // 8
    jump(BPF_JGT, hi_lo, 1, 0);  // 9: above end: next block
    p.push_back(BPF_STMT(BPF_JMP | BPF_JA, static_cast<uint32_t>(start - p.size() - 1)));  // 10: to the allow-list
  }
  p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | kFromImageCode));
  p.insert(p.end(), allow_list.begin(), allow_list.end());
  return p;
}

// The code of the ELF objects of this process, listed once: nothing is loaded after start-up, and a child has the
// same objects at the same addresses as the parent it was forked from.
const std::vector<CodeRange>& trusted_code() {
  static const std::vector<CodeRange> ranges = [] {
    std::vector<CodeRange> out;
    ::dl_iterate_phdr(collect_code, &out);
    return out;
  }();
  return ranges;
}

// ---- resources ----

constexpr rlim_t kMaxDescriptors = 1024;
uint64_t g_memory_limit = 0;  // in force in this process: for the notes
uint32_t g_cpu_limit = 0;
bool g_files_confined = false;
bool g_image_code_may_run = false;  // the load is over: a stop from here on may be image code's doing
uint64_t g_failed_allocations = 0, g_largest_failed = 0;

// The first field of /proc/self/statm: the address space in pages (what RLIMIT_AS counts).
uint64_t address_space_now() {
  char text[64] = {};
  const Fd statm{::open("/proc/self/statm", O_RDONLY | O_CLOEXEC)};
  if (statm.fd < 0 || ::read(statm.fd, text, sizeof text - 1) <= 0) return 0;
  return std::strtoull(text, nullptr, 10) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

Result<bool> set_limits(const Sandbox& s, uint64_t address_space) {
  const rlimit core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &core) != 0) return sandbox_error("setrlimit RLIMIT_CORE", errno);
  if (!s.limits) return true;
  const uint64_t space = address_space + s.memory_bytes;
  const rlimit as{space, space};
  if (::setrlimit(RLIMIT_AS, &as) != 0) return sandbox_error("setrlimit RLIMIT_AS", errno);
  // SIGXCPU at the limit (the handler names it), SIGKILL a second later if the code blocked it.
  const rlimit cpu{s.cpu_seconds, uint64_t{s.cpu_seconds} + 1};
  if (::setrlimit(RLIMIT_CPU, &cpu) != 0) return sandbox_error("setrlimit RLIMIT_CPU", errno);
  // Memory files (memfd) are not address space until mapped: each is bounded by the file size limit, and their
  // number by the descriptor limit. A write past the size fails with EFBIG rather than a signal.
  const rlimit file_size{s.memory_bytes, s.memory_bytes};
  if (::setrlimit(RLIMIT_FSIZE, &file_size) != 0) return sandbox_error("setrlimit RLIMIT_FSIZE", errno);
  ::signal(SIGXFSZ, SIG_IGN);
  const rlimit files{kMaxDescriptors, kMaxDescriptors};
  if (::setrlimit(RLIMIT_NOFILE, &files) != 0) return sandbox_error("setrlimit RLIMIT_NOFILE", errno);
  g_memory_limit = s.memory_bytes;
  g_cpu_limit = s.cpu_seconds;
  return true;
}

}  // namespace

std::vector<std::string> allowed_system_calls() {
  std::vector<std::string> out(std::begin(allow_list::kAlways), std::end(allow_list::kAlways));
  out.insert(out.end(), std::begin(allow_list::kWithArguments), std::end(allow_list::kWithArguments));
  return out;
}

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

Result<SandboxPlan> SandboxPlan::prepare(const Sandbox& s) {
  SandboxPlan plan;
  plan.sandbox_ = s;
  plan.address_space_ = address_space_now();  // the child's, as fork makes it
  // Which opens the allow-list lets through depends on what Landlock confines: with version 3 or later,
  // everything (Landlock decides); with 1 or 2, which do not confine truncation, no O_TRUNC; without it, reading.
  std::span<const sock_filter> allow_list = allow_list::kProgramAnyOpen;
  if (s.files) {
    long abi = 0;
    auto ruleset = landlock_ruleset(s, plan.handled_fs_, abi);
    if (!ruleset) return ruleset.take_error();
    plan.ruleset_ = *ruleset;
    plan.landlock_ = plan.ruleset_ >= 0;
    if (!plan.landlock_) {
      allow_list = allow_list::kProgramReadOnlyOpen;
      plan.notes_.weaker.push_back(
          s.system_calls ? "this kernel has no Landlock: image code cannot open a file for writing, but it can read "
                           "any file you can"
                         : "this kernel has no Landlock, and system calls are not filtered: files are not confined");
    } else if (abi < 3) {
      allow_list = allow_list::kProgramNoTruncateOpen;
    }
  }
  if (s.system_calls) {
    const auto& code = trusted_code();
    if (code.empty() || code.size() > 300) return sandbox_error("listing this process's code", EINVAL);
    plan.program_ = system_call_filter(code, allow_list);
  }
  return plan;
}

SandboxPlan::SandboxPlan(SandboxPlan&& other) noexcept
    : sandbox_(std::move(other.sandbox_)),
      ruleset_(std::exchange(other.ruleset_, -1)),
      landlock_(other.landlock_),
      handled_fs_(other.handled_fs_),
      address_space_(other.address_space_),
      program_(std::move(other.program_)),
      notes_(std::move(other.notes_)) {}

SandboxPlan::~SandboxPlan() {
  if (ruleset_ >= 0) ::close(ruleset_);
}

// A failure leaves ruleset_ at -1, which enter_sandbox refuses when Landlock was planned: the child fails closed.
void SandboxPlan::park_ruleset() {
  if (ruleset_ < 0) return;
  const int parked = ::fcntl(ruleset_, F_DUPFD_CLOEXEC, 5);  // above 3 and 4, where the socket and it go next
  ::close(ruleset_);
  ruleset_ = parked;
}

void SandboxPlan::move_ruleset_to(int fd) {
  if (ruleset_ < 0 || ruleset_ == fd) return;
  const int moved = ::dup2(ruleset_, fd);  // without O_CLOEXEC, which does not matter: the child never executes
  ::close(ruleset_);
  ruleset_ = moved;
}

Result<SandboxNotes> enter_sandbox(SandboxPlan& plan) {
  const Sandbox& s = plan.sandbox_;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sandbox_error("PR_SET_NO_NEW_PRIVS", errno);
  if (auto limits = set_limits(s, plan.address_space_); !limits) return limits.take_error();
  if (plan.landlock_ && plan.ruleset_ < 0) return sandbox_error("keeping the Landlock ruleset", EBADF);
  if (plan.landlock_) {
    // Its own /proc/PID (its memory map: VirtualQuery, the stack's bounds), which only the child can name.
    char self[32];
    std::snprintf(self, sizeof self, "/proc/%d", static_cast<int>(::getpid()));
    if (auto e = allow_beneath(plan.ruleset_, self, (landlock::kReadFile | landlock::kReadDir) & plan.handled_fs_))
      return *e;
    if (::syscall(SYS_landlock_restrict_self, plan.ruleset_, 0) != 0)
      return sandbox_error("landlock_restrict_self", errno);
    ::close(std::exchange(plan.ruleset_, -1));
    g_files_confined = true;
  }
  if (!plan.program_.empty()) {
    sock_fprog prog{static_cast<unsigned short>(plan.program_.size()), plan.program_.data()};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) return sandbox_error("seccomp filter", errno);
  }
  return plan.notes_;
}

std::string code_owner(uint64_t address) {
  for (const auto& r : trusted_code())
    if (address >= r.begin && address <= r.end) return r.owner;
  return {};
}

std::string stopped_system_call(int number, bool i386, uint64_t call_address, int filter_data,
                                std::string (*describe)(uint64_t address)) {
  const char* known =
      !i386 && static_cast<size_t>(number) < std::size(allow_list::kNames) ? allow_list::kNames[number] : nullptr;
  const std::string name = known ? known : i386 ? "an i386 system call (int 0x80)" : "an unknown system call";
  // The kernel reports the address after the instruction: syscall (0f 05) and int 0x80 (cd 80) are two bytes.
  const uint64_t at = call_address - 2;
  const std::string owner = code_owner(call_address);
  if (filter_data == kFromImageCode || owner.empty()) {
    std::string where = describe ? describe(at) : "";
    if (where.empty()) where = fmt::format("{:#x}, memory no module maps", at);
    return fmt::format(
        "the sandbox stopped a Linux system call made by image code itself: {} ({}) by the instruction at {}; image "
        "code may make no system call",
        name, number, where);
  }
  if (!g_image_code_may_run)
    return fmt::format(
        "the sandbox stopped the system call {} ({}), made in {} at {:#x} while pemap loaded the file, before any "
        "image code ran: pemap's allow-list lacks a call its own code needs (a bug; --unsafe-allow-syscalls runs "
        "without the filter)",
        name, number, owner, at);
  return fmt::format(
      "the sandbox stopped the system call {} ({}), made in {} at {:#x}: pemap's host functions never make it, so "
      "image code called into {} to make it",
      name, number, owner, at, owner);
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

void image_code_may_run() { g_image_code_may_run = true; }

void report_refused_file(std::string_view call, std::string_view path, const Error& e) {
  if (!g_files_confined ||
      (e.status != Status::access_denied && e.win32 != static_cast<uint32_t>(Win32Error::access_denied)))
    return;
  std::fflush(stdout);
  std::fprintf(stderr,
               "pemap: the sandbox refused %.*s(\"%.*s\"): %s: image code may read only beneath the application "
               "directory, the system directories and the --path directories, and write only beneath --allow-dir\n",
               static_cast<int>(call.size()), call.data(), static_cast<int>(path.size()), path.data(),
               e.to_string().c_str());
  std::fflush(stderr);
}

std::optional<std::string> limit_reached(const Sandbox& s, int signal, double cpu_seconds_used) {
  // The kernel sends SIGXCPU, and SIGKILL a second later, once the CPU time reaches the limit.
  if (s.limits && (signal == SIGXCPU || signal == SIGKILL) && cpu_seconds_used + 0.01 >= s.cpu_seconds)
    return fmt::format("the program used up its CPU time limit ({} s, --limit-time) and was killed", s.cpu_seconds);
  if (s.system_calls && signal == SIGSYS) return "the sandbox stopped a system call (SIGSYS)";
  return std::nullopt;
}

}  // namespace pemap::run
