// The loader's costs, in one run: the large-relocation DLL mapped at its preferred base (no fixups) and at a
// displaced one (every fixup applied, with the page copies they cause), and a full load of testdata's
// application graph. bench/run.sh turns the figures into ratios for docs/performance.md.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "memory/image_section.hpp"
#include "pe/relocs.hpp"
#include "process/process.hpp"
#include "relocate.hpp"

namespace {

using namespace pemap;

const std::string kBigReloc = std::string(PEMAP_TESTDATA_DIR) + "/bin/x64/bigreloc.dll";

// Map (and, when displaced, relocate) the image once per iteration; the section object is built once, as
// Windows keeps one per file.
void map_bigreloc(benchmark::State& state, bool displaced) {
  auto section = win::ImageSection::create(kBigReloc);
  if (!section) {
    state.SkipWithError(section.error().to_string().c_str());
    return;
  }
  auto relocs = pe::parse_relocations((*section)->image());
  if (!relocs) {
    state.SkipWithError(relocs.error().to_string().c_str());
    return;
  }
  const uint64_t preferred = (*section)->preferred_base();
  const uint64_t base = displaced ? preferred + 0x1'0000'0000 : preferred;
  uint64_t fixups = 0, pages = 0;
  for (auto _ : state) {
    auto view = win::ImageView::map(*section, reinterpret_cast<void*>(base));
    if (!view) {
      state.SkipWithError(view.error().to_string().c_str());
      return;
    }
    if (displaced) {
      auto stats = apply_relocations(**section, view->base(), *relocs, static_cast<int64_t>(base - preferred));
      if (!stats) {
        state.SkipWithError(stats.error().to_string().c_str());
        return;
      }
      fixups = 0;
      for (const auto& [type, n] : stats->per_type) fixups += n;
      pages = stats->pages_made_private;
    }
    benchmark::DoNotOptimize(view->base());
  }
  state.counters["fixups"] = static_cast<double>(fixups);
  state.counters["pages"] = static_cast<double>(pages);
  state.counters["fixups_per_s"] =
      benchmark::Counter(static_cast<double>(fixups), benchmark::Counter::kIsIterationInvariantRate);
}

// An instance of bigreloc.dll from nothing: open, parse, validate and lay out the file into a new image object
// (none is alive between iterations), then map a view of it.
void first_instance(benchmark::State& state) {
  for (auto _ : state) {
    auto section = win::ImageSection::create(kBigReloc);
    if (!section) {
      state.SkipWithError(section.error().to_string().c_str());
      return;
    }
    auto view = win::ImageView::map(*section);
    if (!view) {
      state.SkipWithError(view.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(view->base());
  }
}

// A second instance while the first view is alive: create() finds the image object the first one made (one per
// file, as Windows keeps it) and only a view is mapped, beside the first (in another process it would take the
// preferred base; no fixups are applied either way).
void second_instance(benchmark::State& state) {
  auto section = win::ImageSection::create(kBigReloc);
  if (!section) {
    state.SkipWithError(section.error().to_string().c_str());
    return;
  }
  auto first = win::ImageView::map(*section);
  if (!first) {
    state.SkipWithError(first.error().to_string().c_str());
    return;
  }
  bool shared = true;
  for (auto _ : state) {
    auto again = win::ImageSection::create(kBigReloc);
    if (!again) {
      state.SkipWithError(again.error().to_string().c_str());
      return;
    }
    shared = shared && again->get() == section->get();
    auto view = win::ImageView::map(*again);
    if (!view) {
      state.SkipWithError(view.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(view->base());
  }
  state.counters["shared_section"] = shared ? 1 : 0;
}

// pemap load testdata/bin/x64/app.exe --path system: five modules found, mapped, one rebased, all bound.
void load_app(benchmark::State& state) {
  const std::string dir = std::string(PEMAP_TESTDATA_DIR) + "/bin/x64";
  size_t modules = 0;
  for (auto _ : state) {
    ldr::LoadOptions options;
    options.search_dirs = {dir + "/system"};
    ldr::Process process(std::move(options));
    auto app = process.load_executable(dir + "/app.exe");
    if (!app) {
      state.SkipWithError(app.error().to_string().c_str());
      return;
    }
    modules = process.modules().size();
  }
  state.counters["modules"] = static_cast<double>(modules);
}

}  // namespace

int main(int argc, char** argv) {
  if (!std::filesystem::exists(kBigReloc)) {
    fprintf(stderr, "load_bench: %s is missing (testdata/build.sh makes it)\n", kBigReloc.c_str());
    return 2;
  }
  benchmark::RegisterBenchmark("load/bigreloc.dll at its preferred base", map_bigreloc, false)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("load/bigreloc.dll displaced, relocated", map_bigreloc, true)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("load/bigreloc.dll first instance", first_instance)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("load/bigreloc.dll second instance", second_instance)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("load/app.exe graph (pemap load)", load_app)->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
