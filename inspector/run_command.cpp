// The child that runs the program, and the signal handler that turns a fault into a message: a call to a trap
// (an import with no host implementation) names module!function; an instruction with a gs: prefix is code reading
// the TEB, which Linux does not give it.
#include "run_command.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "mapped_file.hpp"
#include "narrate.hpp"
#include "process/process.hpp"
#include "run/call.hpp"
#include "run/host.hpp"
#include "run/runtime.hpp"

namespace pemap::inspect {

namespace {

const ldr::Process* g_running = nullptr;  // for the signal handler of the child

void say(const std::string& s) { (void)!::write(STDERR_FILENO, s.data(), s.size()); }

void on_fault(int sig, siginfo_t* info, void* context) {
  const auto addr = reinterpret_cast<uint64_t>(info->si_addr);
  uint64_t rip = 0;
#if defined(__x86_64__)
  rip = static_cast<uint64_t>(static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP]);
#else
  (void)context;
#endif
  std::string where = fmt::format("{:#x}", rip);
  bool gs = false;
  if (g_running) {
    const std::string trap = g_running->traps().name_at(rip);
    if (!trap.empty()) {
      std::string why = "it was not resolved at load";
      for (const auto& u : g_running->unresolved())
        if (u.trap == rip) why = u.reason;
      say(fmt::format("pemap run: the program called {}, an import bound to the trap address {:#x}: {}\n", trap, rip,
                      why));
      ::_exit(128 + sig);
    }
    for (const auto& m : g_running->modules())
      if (rip >= m->base && rip - m->base < m->section->size()) {
        where = fmt::format("{:#x} ({}+{:#x})", rip, m->name, rip - m->base);
        gs = reinterpret_cast<const unsigned char*>(rip)[0] == 0x65;
      }
  }
  say(fmt::format("pemap run: {} at {} touching {:#x}{}\n", sig == SIGSEGV ? "access violation" : strsignal(sig), where,
                  addr,
                  gs ? ": the instruction reads gs:, the Windows TEB, which Linux does not give Windows code" : ""));
  ::_exit(128 + sig);
}

[[noreturn]] void child(const RunOptions& opts, int ready_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::vector<ldr::Event> events;
  ldr::LoadOptions options;
  options.search_dirs = opts.path;
  options.forced_bases = forced_bases(opts.bases).value();  // checked before the fork
  options.allow_missing = true;  // what is missing is a trap: calling it stops the program with its name
  // Host functions are x86-64 code of this process: only a PE32+ program can call them (PE32 is loaded, not run).
  if (auto file = MappedFile::open(opts.file); file)
    if (auto image = pe::Image::parse(file->bytes()); image && image->is_pe32plus())
      options.host = ldr::HostImports{run::is_host_module, run::host_address};
  ldr::Process process(std::move(options), [&](const ldr::Event& e) { events.push_back(e); });
  auto exe = opts.call ? process.load_library(opts.file.find('/') == std::string::npos ? "./" + opts.file : opts.file)
                       : process.load_executable(opts.file);
  if (opts.trace) say(narrate(events));
  if (!exe) {
    say(fmt::format("pemap run: {}: {}\n", opts.file, exe.error().to_string()));
    ::_exit(1);
  }
  if (auto ok = run::can_run(**exe); !ok) {
    say(fmt::format("pemap run: {}\n", ok.error().message));
    ::_exit(1);
  }
  for (const auto& u : process.unresolved())
    say(fmt::format("pemap run: {} imports {}!{}: {} (a trap)\n", u.importer, u.dll, u.function, u.reason));
  (void)!::write(ready_fd, "r", 1);
  ::close(ready_fd);

  g_running = &process;
  run::Runtime runtime(process);
  run::set_current_runtime(&runtime);
  static char alt_stack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE}) ::sigaction(sig, &sa, nullptr);

  // TLS callbacks, then DllMain, module by module, dependencies first; the executable's entry point last.
  if (auto ok = runtime.initialize(); !ok) {
    say(fmt::format("pemap run: {}: the process cannot start\n", ok.error().to_string()));
    ::_exit(1);
  }
  if (opts.call) {
    std::vector<uint64_t> args;
    for (const auto& a : opts.args) {
      size_t used = 0;
      uint64_t v = 0;
      try {
        v = std::stoull(a, &used, 0);
      } catch (const std::exception&) {
        used = 0;
      }
      args.push_back(used == a.size() && !a.empty() ? v : reinterpret_cast<uint64_t>(a.c_str()));
    }
    auto at = run::export_address(**exe, opts.function);
    auto result = at ? run::call(**exe, *at, args) : Result<uint64_t>(at.error());
    if (!result) {
      say(fmt::format("pemap call: {}\n", result.error().message));
      ::_exit(1);
    }
    std::fflush(stdout);
    std::printf("%s!%s returned %llu (%#llx; as a 32-bit int %d)\n", (*exe)->name.c_str(), opts.function.c_str(),
                static_cast<unsigned long long>(*result), static_cast<unsigned long long>(*result),
                static_cast<int32_t>(static_cast<uint32_t>(*result)));
    std::fflush(stdout);
    ::_exit(0);
  }
  auto result = run::call(**exe, (*exe)->entry_point, {});
  std::fflush(stdout);
  // Returning from the entry point ends the process with that value, as ExitProcess would.
  const auto exit_process = run::host_address("kernel32.dll", "ExitProcess");
  using Exit = void(__attribute__((ms_abi))*)(uint32_t);
  reinterpret_cast<Exit>(static_cast<uintptr_t>(*exit_process))(result ? static_cast<uint32_t>(*result) : 1);
  ::_exit(1);
}

}  // namespace

int run_program(const RunOptions& opts) {
  if (auto bases = forced_bases(opts.bases); !bases) {
    std::cerr << "pemap: --base " << bases.error().message << "\n";
    return exit_unusable;
  }
  int ready[2];
  if (::pipe(ready) != 0) {
    std::cerr << "pemap run: cannot create a pipe\n";
    return 1;
  }
  std::cout.flush();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    child(opts, ready[1]);
  }
  ::close(ready[1]);
  char c = 0;
  const bool started = ::read(ready[0], &c, 1) == 1;
  ::close(ready[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!started) return 1;  // the child said why
  if (WIFSIGNALED(status)) {
    std::cerr << fmt::format("pemap run: {} died of signal {}\n", opts.file, WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

}  // namespace pemap::inspect
