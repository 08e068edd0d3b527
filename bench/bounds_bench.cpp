// Linear time on absurd images: each benchmark loads a synthetic image whose hostile table grows with N (imports
// of missing functions, sections, export entries, forwarder loops, relocation blocks) and lets Google Benchmark fit
// the cost to O(N). The images are built in code with the tests' PeBuilder (docs/limits.md).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process/process.hpp"
#include "support/pe_builder.hpp"

namespace {

using namespace pemap;
using test::BuiltPe;
using test::PeBuilder;
namespace fs = std::filesystem;

class FindsNothing : public ldr::ModuleLocator {
 public:
  ldr::Located locate(const ldr::ModuleName&, ldr::Bitness) override { return {}; }
};

/// A directory of the benchmark's own, removed at exit.
class Scratch {
 public:
  Scratch() : dir_(fs::temp_directory_path() / ("pemap-bounds-bench-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const BuiltPe& pe) const {
    const fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(pe.bytes.data()), static_cast<std::streamsize>(pe.bytes.size()));
    return p.string();
  }

 private:
  fs::path dir_;
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

std::string numbered(const char* prefix, int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%07lld", prefix, static_cast<long long>(i));
  return buf;
}

test::ImportEntry by_name(std::string name) { return std::pair<uint16_t, std::string>{0, std::move(name)}; }

PeBuilder dll(const std::string& name, std::vector<test::Export> exports) {
  PeBuilder b(true);
  b.image_base(0x3'0000'0000ull).characteristics(0x2022).entry_point(0);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x100, std::byte{0xc3})});
  b.add_exports(name, 1, std::move(exports));
  return b;
}

PeBuilder exe(std::vector<test::Import> imports) {
  PeBuilder b(true);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x100, std::byte{0xc3})});
  if (!imports.empty()) b.add_imports(std::move(imports));
  return b;
}

/// Loads `path` once per iteration (allow_missing, bind_delay) and frees it; `dir_search` lets the loader find
/// the DLLs written beside it, otherwise nothing else is found.
void load_loop(benchmark::State& state, const std::string& path, bool dir_search, bool displace = false) {
  for (auto _ : state) {
    ldr::LoadOptions o;
    o.allow_missing = true;
    o.bind_delay = true;
    if (displace) o.placement.aslr_seed = 1;
    if (!dir_search) o.locator = std::make_shared<FindsNothing>();
    ldr::Process p(std::move(o));
    auto r = p.load_executable(path);
    if (!r) {
      state.SkipWithError(r.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(p.unresolved().size());
  }
  state.SetComplexityN(state.range(0));
}

// N imports by name from a module that is not there: N traps.
void BM_MissingImports(benchmark::State& state) {
  std::vector<test::ImportEntry> entries;
  for (int64_t i = 0; i < state.range(0); ++i) entries.push_back(by_name(numbered("f", i)));
  load_loop(state, scratch().write("imports.exe", exe({{.dll = "nosuch.dll", .entries = std::move(entries)}}).build()),
            false);
}

// N sections of a page of zero fill each, one protection.
void BM_Sections(benchmark::State& state) {
  PeBuilder b(true);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x10, std::byte{0xc3})});
  for (int64_t i = 1; i < state.range(0); ++i)
    b.add_section({.name = ".z", .virtual_size = 0x1000, .characteristics = 0xC0000040});
  load_loop(state, scratch().write("sections.exe", b.build()), false);
}

// A DLL with N named exports, 64 of them imported (the lookup table is built over all N).
void BM_Exports(benchmark::State& state) {
  std::vector<test::Export> exports;
  for (int64_t i = 0; i < state.range(0); ++i) exports.push_back({.name = numbered("e", i), .rva = 0x1000});
  scratch().write("big.dll", dll("big.dll", std::move(exports)).build());
  std::vector<test::ImportEntry> entries;
  for (int64_t i = 0; i < 64; ++i) entries.push_back(by_name(numbered("e", i * state.range(0) / 64)));
  load_loop(state, scratch().write("exports.exe", exe({{.dll = "big.dll", .entries = std::move(entries)}}).build()),
            true);
}

// N exports forwarding round a loop of N inside one DLL, each imported: every import walks to the loader's
// forwarder limit and becomes a trap.
void BM_ForwarderLoops(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<test::Export> exports;
  for (int64_t i = 0; i < n; ++i)
    exports.push_back({.name = numbered("f", i), .forwarder = "fwd." + numbered("f", (i + 1) % n)});
  scratch().write("fwd.dll", dll("fwd.dll", std::move(exports)).build());
  std::vector<test::ImportEntry> entries;
  for (int64_t i = 0; i < n; ++i) entries.push_back(by_name(numbered("f", i)));
  load_loop(state, scratch().write("forwarders.exe", exe({{.dll = "fwd.dll", .entries = std::move(entries)}}).build()),
            true);
}

// N pages, each with a relocation block fixing a DIR64 at every byte offset (overlapping), the image displaced.
void BM_RelocationsEverywhere(benchmark::State& state) {
  std::vector<test::RelocBlock> blocks;
  for (int64_t p = 0; p < state.range(0); ++p) {
    test::RelocBlock blk{.page_rva = static_cast<uint32_t>(0x1000 + p * 0x1000)};
    for (uint16_t off = 0; off < 0xff8; ++off) blk.entries.push_back(static_cast<uint16_t>(0xA000 | off));
    blocks.push_back(std::move(blk));
  }
  PeBuilder b(true);
  b.image_base(0x1'4000'0000ull).dll_characteristics(0x0140);
  b.add_section({.name = ".data",
                 .data = std::vector<std::byte>(static_cast<size_t>(state.range(0)) * 0x1000, std::byte{0x11}),
                 .characteristics = 0xC0000040});
  b.add_relocs(std::move(blocks));
  load_loop(state, scratch().write("relocs.exe", b.build()), false, true);
}

BENCHMARK(BM_MissingImports)->RangeMultiplier(4)->Range(1 << 8, 1 << 16)->Complexity(benchmark::oN);
BENCHMARK(BM_Sections)->RangeMultiplier(4)->Range(1 << 6, 1 << 14)->Complexity(benchmark::oN);
BENCHMARK(BM_Exports)->RangeMultiplier(4)->Range(1 << 8, 1 << 18)->Complexity(benchmark::oN);
BENCHMARK(BM_ForwarderLoops)->RangeMultiplier(4)->Range(1 << 6, 1 << 12)->Complexity(benchmark::oN);
BENCHMARK(BM_RelocationsEverywhere)->RangeMultiplier(4)->Range(1 << 2, 1 << 10)->Complexity(benchmark::oN);

}  // namespace

BENCHMARK_MAIN();
