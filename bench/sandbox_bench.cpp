// What the sandbox costs a command that runs code: `pemap call` of a small export (a child process that loads
// liba.dll, runs its DllMain, calls liba_add and exits) and `pemap run` of hello.exe (the whole mingw-w64 CRT
// start-up and exit), each with the sandbox and without it, in one run. bench/run.sh reports the ratios.
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include <benchmark/benchmark.h>

#include "run/child.hpp"

namespace {

using namespace pemap;

const std::string kBin = std::string(PEMAP_TESTDATA_DIR) + "/bin/x64/";

void run_child(benchmark::State& state, const std::string& file, bool library, bool sandboxed) {
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  for (auto _ : state) {
    run::ChildOptions o;
    o.library = library;
    o.stdout_fd = o.stderr_fd = null;
    if (!sandboxed) o.sandbox.system_calls = o.sandbox.files = o.sandbox.limits = false;
    auto child = run::Child::create(file, std::move(o));
    if (!child) {
      state.SkipWithError(child.error().to_string().c_str());
      break;
    }
    auto init = child->initialize();
    auto result = library ? child->call("liba.dll", "liba_add", std::vector<run::Argument>{uint64_t{2}, uint64_t{3}})
                          : child->run_entry();
    if (!init || !result || (library && result->value != 5)) {
      state.SkipWithError("the code did not run as it should");
      break;
    }
    if (library) benchmark::DoNotOptimize(child->exit_process(0));
  }
  ::close(null);
}

void call_export(benchmark::State& state, bool sandboxed) { run_child(state, kBin + "liba.dll", true, sandboxed); }
void run_hello(benchmark::State& state, bool sandboxed) { run_child(state, kBin + "hello.exe", false, sandboxed); }

BENCHMARK_CAPTURE(call_export, sandboxed, true)->Name("call liba.dll!liba_add/sandboxed")->UseRealTime();
BENCHMARK_CAPTURE(call_export, unconfined, false)->Name("call liba.dll!liba_add/unconfined")->UseRealTime();
BENCHMARK_CAPTURE(run_hello, sandboxed, true)->Name("run hello.exe/sandboxed")->UseRealTime();
BENCHMARK_CAPTURE(run_hello, unconfined, false)->Name("run hello.exe/unconfined")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
