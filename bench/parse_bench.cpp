// Full inspection of one file (open, parse, walk headers, sections, imports, exports, relocations, TLS,
// load config) by pemap and by LIEF 0.9, timed by Google Benchmark, with peak RSS from a forked child.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <LIEF/PE.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "mapped_file.hpp"
#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"

namespace {

uint64_t pemap_walk(const std::string& path) {
  using namespace pemap;
  auto file = MappedFile::open(path);
  if (!file) return 0;
  auto img = pe::Image::parse(file->bytes());
  if (!img) return 0;
  uint64_t n = img->sections().size() + img->optional_header().image_base;
  if (auto r = pe::parse_relocations(*img)) r->for_each([&](const pe::RelocEntry& e) { n += e.rva; });
  if (auto i = pe::parse_imports(*img))
    for (const auto& m : i->modules)
      for (const auto& e : m.entries) n += e.iat_rva + e.name.size();
  if (auto e = pe::parse_exports(*img))
    for (const auto& x : e->entries) n += x.rva + x.name.size();
  if (auto t = pe::parse_tls(*img)) n += t->callbacks.size();
  if (auto l = pe::parse_load_config(*img)) n += l->fields.size();
  return n;
}

uint64_t lief_walk(const std::string& path) {
  std::unique_ptr<LIEF::PE::Binary> b;
  try {
    b = LIEF::PE::Parser::parse(path);
  } catch (const std::exception&) {
    return 0;
  }
  if (!b) return 0;
  uint64_t n = b->sections().size() + b->optional_header().imagebase();
  for (const auto& r : b->relocations())
    for (const auto& e : r.entries()) n += r.virtual_address() + e.position();
  if (b->has_imports())
    for (const auto& im : b->imports())
      for (const auto& e : im.entries()) n += e.iat_address() + e.name().size();
  if (b->has_exports())
    for (const auto& e : b->get_export().entries()) n += e.address() + e.name().size();
  if (b->has_tls()) n += b->tls().callbacks().size();
  return n;
}

// VmHWM of this process's address space, in KiB (ru_maxrss would include the image before exec).
long vm_hwm_kib() {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  fclose(f);
  return kib;
}

// Peak resident set of a fresh process (this program re-executed with --rss) that walks the file once,
// minus that of one that does not.
double peak_rss_mib(const char* who, const std::string& path) {
  auto child_peak = [&](const char* what) -> long {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      execl("/proc/self/exe", "pemap_bench", "--rss", what, path.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    char buf[64] = {};
    const ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    waitpid(pid, nullptr, 0);
    return n > 0 ? atol(buf) : -1;
  };
  return static_cast<double>(child_peak(who) - child_peak("none")) / 1024.0;
}

void run(benchmark::State& state, const char* who, const std::string& path) {
  auto walk = std::string(who) == "pemap" ? pemap_walk : lief_walk;
  for (auto _ : state) benchmark::DoNotOptimize(walk(path));
  state.counters["file_MiB"] = static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
  state.counters["peak_rss_MiB"] = peak_rss_mib(who, path);
}

struct Input {
  const char* label;
  std::string path;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--rss") {
    const std::string who = argv[2];
    if (who == "pemap") benchmark::DoNotOptimize(pemap_walk(argv[3]));
    if (who == "lief") benchmark::DoNotOptimize(lief_walk(argv[3]));
    printf("%ld\n", vm_hwm_kib());
    return 0;
  }
  std::vector<Input> inputs{
      {"bigreloc.dll", std::string(PEMAP_TESTDATA_DIR) + "/bin/x64/bigreloc.dll"},
      {"libstdc++-6.dll", "/usr/lib/gcc/x86_64-w64-mingw32/12-win32/libstdc++-6.dll"},
      {"liba.dll", std::string(PEMAP_TESTDATA_DIR) + "/bin/x86/liba.dll"},
  };
  for (const auto& in : inputs) {
    if (!std::filesystem::exists(in.path)) {
      fprintf(stderr, "skipping %s: %s not found (g++-mingw-w64-x86-64 installs it)\n", in.label, in.path.c_str());
      continue;
    }
    benchmark::RegisterBenchmark((std::string("pemap/") + in.label).c_str(), run, "pemap", in.path)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("lief/") + in.label).c_str(), run, "lief", in.path)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
