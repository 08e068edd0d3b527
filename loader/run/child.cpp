// Both sides of the child process. The child: load, report, then serve requests until the socket closes, with a
// fault handler that turns a signal into a last message. The parent: requests and replies, and the child's end.
#include "run/child.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "run/call.hpp"
#include "run/host.hpp"
#include "run/image_objects.hpp"
#include "run/runtime.hpp"
#include "run/sandbox.hpp"
#include "run/wire.hpp"

namespace pemap::run {

namespace {

using wire::Op;
using wire::Reply;

// ---- encoding ----

void put(wire::Writer& w, const Error& e) {
  w.put(e.status).put(e.structure).put(e.where.kind).put(e.where.value).put(e.message).put(e.win32);
}
Error get_error(wire::Reader& r) {
  Error e;
  e.status = r.get<Status>();
  e.structure = r.str();
  e.where.kind = r.get<Location::Kind>();
  e.where.value = r.get<uint64_t>();
  e.message = r.str();
  e.win32 = r.get<uint32_t>();
  return e;
}

void put(wire::Writer& w, const ldr::Event& e) {
  w.put(e.step).put(e.depth).put(e.module).put(e.target).put(e.function).put(e.path).put(e.where).put(e.how);
  w.put(e.reason).put(e.preferred).put(e.address).put(e.delta).put(e.size).put(e.count).put(e.value).put(e.ok);
  w.put(e.counts.size());
  for (const auto& [k, v] : e.counts) w.put(k).put(v);
}
ldr::Event get_event(wire::Reader& r) {
  ldr::Event e;
  e.step = r.get<ldr::Step>();
  e.depth = r.get<unsigned>();
  e.module = r.str();
  e.target = r.str();
  e.function = r.str();
  e.path = r.str();
  e.where = r.str();
  e.how = r.str();
  e.reason = r.str();
  e.preferred = r.get<uint64_t>();
  e.address = r.get<uint64_t>();
  e.delta = r.get<int64_t>();
  e.size = r.get<uint64_t>();
  e.count = r.get<uint64_t>();
  e.value = r.get<uint64_t>();
  e.ok = r.get<bool>();
  for (uint64_t n = r.count(16); n > 0; --n) {
    std::string k = r.str();
    e.counts[k] = r.get<uint64_t>();
  }
  return e;
}

void put_report(wire::Writer& w, const ldr::Process& process, const ldr::Module& main, const std::string& cannot_run,
                const SandboxNotes& notes) {
  w.put(Reply::report).put(::getpid()).put(main.name.str()).put(cannot_run);
  w.put(notes.weaker.size());
  for (const auto& n : notes.weaker) w.put(n);
  w.put(process.modules().size());
  for (const auto& m : process.modules()) {
    w.put(m->name.str()).put(m->path).put(m->base).put(m->preferred_base).put(m->section->size()).put(m->entry_point);
    w.put(m->executable);
    w.put(m->section->regions().size());
    for (const auto& g : m->section->regions()) w.put(g.rva).put(g.size).put(g.name).put(g.protect).put(g.shared());
  }
  const auto unresolved = process.unresolved();
  w.put(unresolved.size());
  for (const auto& u : unresolved)
    w.put(u.importer_name()).put(u.dll()).put(u.function()).put(u.status()).put(u.reason()).put(u.trap());
}
void get_report(wire::Reader& r, ChildReport& out) {
  out.pid = r.get<pid_t>();
  out.module = r.str();
  out.cannot_run = r.str();
  for (uint64_t n = r.count(8); n > 0; --n) out.sandbox_weaker.push_back(r.str());
  for (uint64_t n = r.count(64); n > 0; --n) {
    ChildModule m;
    m.name = r.str();
    m.path = r.str();
    m.base = r.get<uint64_t>();
    m.preferred_base = r.get<uint64_t>();
    m.size = r.get<uint64_t>();
    m.entry_point = r.get<uint64_t>();
    m.executable = r.get<bool>();
    for (uint64_t k = r.count(40); k > 0; --k) {
      ChildModule::Region g;
      g.rva = r.get<uint64_t>();
      g.size = r.get<uint64_t>();
      g.name = r.str();
      g.protect = r.get<uint32_t>();
      g.shared = r.get<bool>();
      m.regions.push_back(std::move(g));
    }
    out.modules.push_back(std::move(m));
  }
  for (uint64_t n = r.count(48); n > 0; --n) {
    UnresolvedImport u;
    u.importer = r.str();
    u.dll = r.str();
    u.function = r.str();
    u.status = r.get<Status>();
    u.reason = r.str();
    u.trap = r.get<uint64_t>();
    out.unresolved.push_back(std::move(u));
  }
}

Error child_error(std::string message) {
  return make_error(Status::io_error, "child process", Location{}, std::move(message));
}

// ---- the child ----

int g_fd = -1;                            // the socket to the parent
int g_mem = -1;                           // /proc/self/mem, opened before the sandbox closes /proc
const ldr::Process* g_process = nullptr;  // for the fault handler

// "0x7f0010001010 (liba.dll+0x1010, .text)" for an address inside a loaded module; "" elsewhere.
std::string describe_image_address(uint64_t address) {
  if (!g_process) return {};
  for (const auto& m : g_process->modules()) {
    if (address < m->base || address - m->base >= m->section->size()) continue;
    const uint64_t rva = address - m->base;
    std::string section;
    for (const auto& g : m->section->regions())
      if (rva >= g.rva && rva - g.rva < g.size) section = g.name;
    return fmt::format("{:#x} ({}+{:#x}{}{})", address, m->name, rva, section.empty() ? "" : ", ", section);
  }
  return {};
}

std::string describe_fault(int sig, const siginfo_t* info, uint64_t rip) {
  const auto addr = reinterpret_cast<uint64_t>(info->si_addr);
  if (sig == SIGSYS)
    return stopped_system_call(info->si_syscall, info->si_arch == AUDIT_ARCH_I386,
                               reinterpret_cast<uint64_t>(info->si_call_addr), info->si_errno, describe_image_address);
  std::string where = describe_image_address(rip);
  if (where.empty()) where = fmt::format("{:#x}", rip);
  if (sig == SIGXCPU)
    return fmt::format("the program used up its CPU time limit ({} s, --limit-time); it was running at {}",
                       cpu_limit_seconds(), where);
  if (g_process) {
    if (const std::string trap = g_process->traps().name_at(rip); !trap.empty()) {
      std::string why = "it was not resolved at load";
      // The bindings are searched where they are; the handler still formats a message (it never was
      // async-signal-safe: it reports and exits).
      for (const auto& m : g_process->modules())
        for (const auto& b : m->bindings)
          if (b.how == ldr::How::trap && b.address == rip) why = b.resolution->reason;
      return fmt::format("the program called {}, an import bound to the trap address {:#x}: {}", trap, rip, why);
    }
  }
  const bool gs = !describe_image_address(rip).empty() && reinterpret_cast<const unsigned char*>(rip)[0] == 0x65;
  return fmt::format("{} at {} touching {:#x}{}", sig == SIGSEGV ? "access violation" : strsignal(sig), where, addr,
                     gs ? ": the instruction reads gs:, the Windows TEB, beyond what pemap gives it" : "");
}

void on_fault(int sig, siginfo_t* info, void* context) {
  uint64_t rip = 0;
#if defined(__x86_64__)
  rip = static_cast<uint64_t>(static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP]);
#else
  (void)context;
#endif
  // SIGXCPU comes whenever the limit falls, maybe inside malloc or stdio in pemap's own code, where formatting a
  // message could corrupt the heap: then the child ends at once, and the parent names the limit from its CPU time.
  if (sig == SIGXCPU && !code_owner(rip).empty()) ::_exit(128 + SIGXCPU);
  const std::string message = describe_fault(sig, info, rip) + limit_notes();
  std::fflush(stdout);
  wire::Writer w;
  w.put(Reply::fault).put(128 + sig).put(message);
  (void)wire::send(g_fd, w.bytes());
  ::_exit(128 + sig);
}

void install_fault_handler() {
  static char alt_stack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGXCPU}) ::sigaction(sig, &sa, nullptr);
}

void reply(const wire::Writer& w) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (!wire::send(g_fd, w.bytes())) ::_exit(0);  // the parent is gone
}
void reply_error(const Error& e) {
  wire::Writer w;
  w.put(Reply::error);
  put(w, e);
  reply(w);
}
void reply_value(uint64_t v) {
  wire::Writer w;
  w.put(Reply::value).put(v);
  reply(w);
}

[[noreturn]] void exit_process(uint32_t code) {
  const auto exit = host_address(ldr::ModuleName("kernel32.dll"), "ExitProcess");
  using Exit = void(__attribute__((ms_abi))*)(uint32_t);
  if (exit) reinterpret_cast<Exit>(static_cast<uintptr_t>(*exit))(code);
  ::_exit(static_cast<int>(code & 0xff));
}

// Memory of this process, whatever its protection: /proc/self/mem reads through PROT_NONE as a debugger does.
void serve_read(uint64_t address, uint64_t length) {
  if (length > wire::kMaxFrame - 64) return reply_error(child_error("read: at most 64 MiB at a time"));
  std::string bytes(length, '\0');
  const ssize_t n = g_mem < 0 ? -1 : ::pread(g_mem, bytes.data(), length, static_cast<off_t>(address));
  if (n != static_cast<ssize_t>(length))
    return reply_error(child_error(fmt::format("{:#x} bytes at {:#x}: not all of it is mapped", length, address)));
  wire::Writer w;
  w.put(Reply::bytes).put(bytes);
  reply(w);
}

void serve_call(ldr::Process& process, wire::Reader& r) {
  const std::string module = r.str(), function = r.str();
  const uint64_t count = r.count(16);
  std::vector<std::string> strings(count);  // sized once: the pointers passed stay valid
  std::vector<uint64_t> args(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (r.get<bool>()) {
      strings[i] = r.str();
      args[i] = reinterpret_cast<uint64_t>(strings[i].c_str());
    } else {
      args[i] = r.get<uint64_t>();
    }
  }
  const ldr::Module* m = process.find(ldr::ModuleName(module));
  if (!m) return reply_error(child_error(fmt::format("{} is not loaded", module)));
  auto at = export_address(*m, function);
  auto result = at ? call(*m, *at, args) : Result<uint64_t>(at.error());
  if (!result) return reply_error(result.error());
  reply_value(*result);
}

// The child keeps nothing of the parent's but the three standard streams, the socket (as fd 3) and the sandbox's
// ruleset, and dies with the parent.
void isolate(const ChildOptions& options, SandboxPlan& plan, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);
  if (options.stdout_fd >= 0) ::dup2(options.stdout_fd, STDOUT_FILENO);
  if (options.stderr_fd >= 0) ::dup2(options.stderr_fd, STDERR_FILENO);
  plan.park_ruleset();  // out of the way of the moves below
  if (g_fd != 3) {
    ::dup2(g_fd, 3);
    g_fd = 3;
  }
  plan.move_ruleset_to(4);
  const unsigned first_closed = plan.ruleset() == 4 ? 5 : 4;
  if (::close_range(first_closed, ~0U, 0) != 0)  // before Linux 5.9, or refused by a container's own filter
    for (int fd = static_cast<int>(first_closed), end = static_cast<int>(::sysconf(_SC_OPEN_MAX)); fd < end; ++fd)
      ::close(fd);
  g_mem = ::open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
}

// The parent's requests, one at a time, until it closes the socket or the process exits.
[[noreturn]] void serve_requests(ldr::Process& process, const ldr::Module& exe, Runtime& runtime) {
  const auto runnable = can_run(exe);
  for (;;) {
    auto request = wire::receive(g_fd);
    if (!request) ::_exit(0);
    wire::Reader r(*request);
    const auto op = r.get<Op>();
    if (op == Op::read) {
      const auto address = r.get<uint64_t>();
      serve_read(address, r.get<uint64_t>());
      continue;
    }
    if (!runnable) {
      reply_error(runnable.error());
      continue;
    }
    switch (op) {
      case Op::initialize:
        if (auto ok = runtime.initialize(); !ok)
          reply_error(ok.error());
        else
          reply_value(1);
        break;
      case Op::call:
        serve_call(process, r);
        break;
      case Op::load_library: {
        auto m = process.load_library(r.str());
        if (!m) {
          reply_error(m.error());
          break;
        }
        const uint64_t base = (*m)->base;
        if (auto ok = runtime.initialize(); !ok)
          reply_error(ok.error());
        else
          reply_value(base);
        break;
      }
      case Op::free_library:
        if (auto ok = runtime.free_library(r.str()); !ok)
          reply_error(ok.error());
        else
          reply_value(1);
        break;
      case Op::run_entry: {
        // Returning from the entry point ends the process with that value, as ExitProcess would.
        if (!exe.executable || exe.entry_point == 0) {
          reply_error(child_error(fmt::format("{} has no entry point to run", exe.name)));
          break;
        }
        auto result = call(exe, exe.entry_point, {});
        exit_process(result ? static_cast<uint32_t>(*result) : 1);
      }
      case Op::exit_process:
        exit_process(r.get<uint32_t>());
      case Op::read:
        break;
    }
  }
}

[[noreturn]] void serve(const std::string& file, ChildOptions& options, SandboxPlan& plan, pid_t parent) {
  isolate(options, plan, parent);
  // The sandbox goes up before the file is read: from here on, the kernel holds this process to it.
  install_fault_handler();
  auto sandbox = enter_sandbox(plan);
  if (!sandbox) {
    wire::Writer w;
    w.put(Reply::error);
    put(w, sandbox.error());
    w.put(uint64_t{0});  // no events
    reply(w);
    ::_exit(1);
  }

  // Image objects come from the parent, which hands every child of this pemap command the same ones.
  static ParentBroker broker(g_fd);
  win::set_image_object_broker(&broker);

  std::vector<ldr::Event> events;
  ldr::LoadOptions load = std::move(options.load);
  // The loader binds only a PE32+ module's imports to them (PE32 is loaded, not run).
  if (options.host_imports) load.host = ldr::HostImports{is_host_module, host_address};
  ldr::Process process(std::move(load), [&](const ldr::Event& e) { events.push_back(e); });
  auto main = options.library ? process.load_library(file.find('/') == std::string::npos ? "./" + file : file)
                              : process.load_executable(file);
  wire::Writer w;
  if (!main) {
    w.put(Reply::error);
    put(w, main.error());
  } else {
    auto runs = can_run(**main);
    put_report(w, process, **main, runs ? std::string() : runs.error().to_string(), *sandbox);
  }
  w.put(events.size());
  for (const auto& e : events) put(w, e);
  reply(w);
  if (!main) ::_exit(1);

  g_process = &process;
  image_code_may_run();
  Runtime runtime(process);
  set_current_runtime(&runtime);
  serve_requests(process, **main, runtime);
}

}  // namespace

const ChildModule* ChildReport::find(std::string_view name) const {
  for (const auto& m : modules)
    if (ldr::ModuleName(m.name) == ldr::ModuleName(name)) return &m;
  return nullptr;
}

Result<Child> Child::create(const std::string& file, ChildOptions options) {
  // What the loader searches is what the sandbox lets the child read.
  auto& readable = options.sandbox.read_dirs;
  const auto slash = file.rfind('/');
  readable.push_back(slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash));
  std::error_code ec;  // a symbolic link's target may lie elsewhere: the child opens that
  if (const auto real = std::filesystem::weakly_canonical(file, ec); !ec && real.has_parent_path())
    readable.push_back(real.parent_path().string());
  if (!options.load.application_dir.empty()) readable.push_back(options.load.application_dir);
  const auto searched = options.load.searched_dirs();
  readable.insert(readable.end(), searched.begin(), searched.end());
  auto plan = SandboxPlan::prepare(options.sandbox);
  if (!plan) return plan.take_error();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return child_error(fmt::format("socketpair: {}", std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    return child_error(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    ::close(sv[0]);
    g_fd = sv[1];
    serve(file, options, *plan, parent);
  }
  ::close(sv[1]);
  Child child;
  child.fd_ = sv[0];
  child.report_.pid = pid;
  child.image_objects_ = ImageObjectRegistry::current();
  child.sandbox_ = options.sandbox;
  auto frame = child.receive();
  if (!frame) {
    const Outcome end = child.ended();
    return child_error(fmt::format("the child process ended before it reported its load ({})", end.message));
  }
  wire::Reader r(*frame);
  std::optional<Error> failed;
  const auto tag = r.get<Reply>();
  if (tag == Reply::fault) {  // stopped while loading: by the sandbox, or by a limit
    (void)r.get<uint64_t>();
    const std::string message = r.str();
    (void)child.ended();
    return child_error(fmt::format("the child process was stopped while it loaded the file: {}", message));
  }
  if (tag == Reply::error)
    failed = get_error(r);
  else if (tag == Reply::report)
    get_report(r, child.report_);
  else
    return child_error("the child's first message was not its report");
  child.report_.pid = pid;
  for (uint64_t n = r.count(64); n > 0; --n) child.report_.events.push_back(get_event(r));
  if (r.failed()) return child_error("the child's report could not be read");
  for (const auto& e : child.report_.events)
    if (options.on_event) options.on_event(e);
  if (failed) return *failed;
  return child;
}

Child::Child(Child&& other) noexcept
    : fd_(other.fd_),
      report_(std::move(other.report_)),
      image_objects_(std::move(other.image_objects_)),
      sandbox_(std::move(other.sandbox_)) {
  other.fd_ = -1;
}

Child::~Child() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::kill(report_.pid, SIGKILL);
  ::waitpid(report_.pid, nullptr, 0);
}

Outcome Child::ended() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  int status = 0;
  rusage usage{};
  Outcome o;
  o.kind = Outcome::Kind::exited;
  const bool reaped = ::wait4(report_.pid, &status, 0, &usage) == report_.pid;
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  // The fault handler ends a child whose CPU time ran out inside pemap's own code with 128+SIGXCPU, unsaid.
  const auto cpu_limit = reaped && WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGXCPU
                             ? limit_reached(sandbox_, SIGXCPU, cpu)
                             : std::nullopt;
  if (!reaped) {
    o.message = "the child process was already reaped";
  } else if (cpu_limit) {
    o.kind = Outcome::Kind::fault;
    o.value = 128 + SIGXCPU;
    o.message = *cpu_limit;
  } else if (WIFSIGNALED(status)) {
    o.kind = Outcome::Kind::fault;
    o.value = 128 + static_cast<uint64_t>(WTERMSIG(status));
    if (auto limit = limit_reached(sandbox_, WTERMSIG(status), cpu))
      o.message = *limit;
    else
      o.message =
          fmt::format("the child process died of signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else {
    o.value = static_cast<uint64_t>(WEXITSTATUS(status));
    o.message = fmt::format("the child process exited with {}", WEXITSTATUS(status));
  }
  return o;
}

std::optional<std::string> Child::receive() {
  for (;;) {
    auto frame = wire::receive(fd_);
    if (!frame) return frame;
    wire::Reader r(*frame);
    const auto tag = r.get<Reply>();
    if (tag != Reply::image_find && tag != Reply::image_publish) return frame;
    if (!image_objects_->serve(fd_, tag, r)) return std::nullopt;
  }
}

Result<Outcome> Child::request(std::string payload, std::string* bytes) {
  if (fd_ < 0) return child_error("the child process has ended");
  if (!wire::send(fd_, payload)) return ended();
  auto frame = receive();
  if (!frame) return ended();
  wire::Reader r(*frame);
  Outcome o;
  switch (r.get<Reply>()) {
    case Reply::value:
      o.value = r.get<uint64_t>();
      break;
    case Reply::error: {
      Error e = get_error(r);
      if (r.failed()) return child_error("the child's reply could not be read");
      return e;
    }
    case Reply::fault: {
      o.kind = Outcome::Kind::fault;
      o.value = r.get<uint64_t>();
      o.message = r.str();
      (void)ended();
      break;
    }
    case Reply::bytes:
      if (!bytes) return child_error("the child sent bytes nobody asked for");
      *bytes = r.str();
      break;
    case Reply::report:
      return child_error("the child sent a second report");
    case Reply::image_find:
    case Reply::image_publish:
      break;  // receive() answered them
  }
  if (r.failed()) return child_error("the child's reply could not be read");
  return o;
}

Result<Outcome> Child::initialize() { return request(wire::Writer().put(Op::initialize).bytes()); }

Result<Outcome> Child::call(std::string_view module, std::string_view function, std::span<const Argument> args) {
  if (args.size() > 4) return child_error("at most four arguments (RCX, RDX, R8, R9)");
  wire::Writer w;
  w.put(Op::call).put(module).put(function).put(args.size());
  for (const auto& a : args) {
    if (const auto* s = std::get_if<std::string>(&a))
      w.put(true).put(*s);
    else
      w.put(false).put(std::get<uint64_t>(a));
  }
  return request(w.bytes());
}

Result<Outcome> Child::load_library(std::string_view name) {
  return request(wire::Writer().put(Op::load_library).put(name).bytes());
}
Result<Outcome> Child::free_library(std::string_view module) {
  return request(wire::Writer().put(Op::free_library).put(module).bytes());
}
Result<Outcome> Child::run_entry() { return request(wire::Writer().put(Op::run_entry).bytes()); }
Result<Outcome> Child::exit_process(uint32_t code) {
  return request(wire::Writer().put(Op::exit_process).put(code).bytes());
}

Result<std::vector<std::byte>> Child::read(uint64_t address, uint64_t length) {
  std::vector<std::byte> out;
  out.reserve(length);
  constexpr uint64_t kPiece = 16u << 20;
  for (uint64_t done = 0; done < length;) {
    const uint64_t n = std::min(kPiece, length - done);
    std::string bytes;
    auto got = request(wire::Writer().put(Op::read).put(address + done).put(n).bytes(), &bytes);
    if (!got) return got.take_error();
    if (got->kind != Outcome::Kind::returned || bytes.size() != n)
      return child_error(fmt::format("reading {:#x} bytes at {:#x}: {}", n, address + done, got->message));
    const auto* p = reinterpret_cast<const std::byte*>(bytes.data());
    out.insert(out.end(), p, p + n);
    done += n;
  }
  return out;
}

Residency Child::resident(uint64_t address, uint64_t size) const {
  Residency out;
  std::ifstream in(fmt::format("/proc/{}/smaps", report_.pid));
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo >= address && lo - address < size;
      continue;
    }
    unsigned long long kb = 0;
    char key[64] = {};
    if (!inside || std::sscanf(line.c_str(), "%63[^:]: %llu kB", key, &kb) != 2) continue;
    const std::string_view k = key;
    if (k == "Shared_Clean" || k == "Shared_Dirty") out.shared_kb += kb;
    if (k == "Private_Clean" || k == "Private_Dirty") out.private_kb += kb;
  }
  return out;
}

std::vector<uint64_t> Child::page_frames(uint64_t address, uint64_t size) const {
  constexpr uint64_t kPage = 4096, kPresent = uint64_t{1} << 63, kFrame = (uint64_t{1} << 55) - 1;
  std::vector<uint64_t> out((size + kPage - 1) / kPage);
  const int fd = ::open(fmt::format("/proc/{}/pagemap", report_.pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t entry = 0;
    const auto at = static_cast<off_t>((address / kPage + i) * sizeof entry);
    if (::pread(fd, &entry, sizeof entry, at) == static_cast<ssize_t>(sizeof entry) && (entry & kPresent))
      out[i] = entry & kFrame;
  }
  ::close(fd);
  return out;
}

}  // namespace pemap::run
