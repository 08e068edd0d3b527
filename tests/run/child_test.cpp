// run::Child, the process that maps and runs an image: the order modules are initialized and detached in, what
// FreeLibrary, LoadLibrary and ExitProcess do, a call to an import that was never resolved, relocation proven by
// running code at displaced bases, image dumps, and instances that share only what Windows shares.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "process/process_support.hpp"
#include "run/captured.hpp"
#include "run/child.hpp"

namespace pemap::run {
namespace {

using ldr::test::bin;
using test::Captured;
using Kind = Outcome::Kind;

std::string text_of(const std::filesystem::path& path) {
  const auto bytes = pemap::test::read_file(path);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

const std::vector<std::string> kChainMarks = {
    "attach chain_c", "attach chain_b",     "tls chain_a attach", "attach chain_a", "attach chain_fail",
    "detach chain_a", "tls chain_a detach", "detach chain_b",     "detach chain_c", "detach chain_fail"};

ChildOptions library_options(const Captured* err = nullptr) {
  ChildOptions o;
  o.library = true;
  o.load.search_dirs = {bin("x64").string()};
  if (err) o.stderr_fd = err->fd();
  return o;
}

class ChildTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if !defined(__x86_64__)
    GTEST_SKIP() << "running PE32+ x86-64 code needs an x86-64 host";
#endif
  }
};

TEST_F(ChildTest, DependenciesInitializeFirstAndTlsCallbacksRunBeforeDllMain) {
  Captured err;
  auto child = Child::create(bin("x64", "chain_a.dll"), library_options(&err));
  ASSERT_TRUE(child) << child.error().to_string();
  EXPECT_TRUE(child->report().cannot_run.empty());
  ASSERT_NE(child->report().find("chain_c.dll"), nullptr);
  EXPECT_TRUE(err.marks(kChainMarks).empty()) << "nothing runs before initialize()";

  auto init = child->initialize();
  ASSERT_TRUE(init) << init.error().to_string();
  EXPECT_EQ(init->kind, Kind::returned);
  EXPECT_EQ(err.marks(kChainMarks),
            (std::vector<std::string>{"attach chain_c", "attach chain_b", "tls chain_a attach", "attach chain_a"}));

  auto depth = child->call("chain_a.dll", "chain_depth_a");
  ASSERT_TRUE(depth) << depth.error().to_string();
  EXPECT_EQ(depth->value, 3u);
  // A second initialize() finds nothing new to initialize.
  ASSERT_TRUE(child->initialize());
  EXPECT_EQ(err.marks(kChainMarks).size(), 4u);
}

TEST_F(ChildTest, FreeLibraryDetachesTheModuleThenItsDependencies) {
  Captured err;
  auto child = Child::create(bin("x64", "chain_a.dll"), library_options(&err));
  ASSERT_TRUE(child) << child.error().to_string();
  ASSERT_TRUE(child->initialize());
  auto freed = child->free_library("chain_a.dll");
  ASSERT_TRUE(freed) << freed.error().to_string();
  EXPECT_EQ(err.marks(kChainMarks),
            (std::vector<std::string>{"attach chain_c", "attach chain_b", "tls chain_a attach", "attach chain_a",
                                      "detach chain_a", "tls chain_a detach", "detach chain_b", "detach chain_c"}));
  // The modules are gone: calling into them is refused, not a jump into unmapped memory.
  auto gone = child->call("chain_a.dll", "chain_depth_a");
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("chain_a.dll is not loaded"), std::string::npos) << gone.error().message;
}

TEST_F(ChildTest, ExitProcessDetachesEveryModuleInReverseAndEndsWithItsCode) {
  Captured err;
  auto child = Child::create(bin("x64", "chain_a.dll"), library_options(&err));
  ASSERT_TRUE(child) << child.error().to_string();
  ASSERT_TRUE(child->initialize());
  auto end = child->exit_process(7);
  ASSERT_TRUE(end) << end.error().to_string();
  EXPECT_EQ(end->kind, Kind::exited);
  EXPECT_EQ(end->value, 7u);
  EXPECT_FALSE(child->running());
  const auto marks = err.marks(kChainMarks);
  ASSERT_EQ(marks.size(), 8u);
  EXPECT_EQ(std::vector<std::string>(marks.begin() + 4, marks.end()),
            (std::vector<std::string>{"detach chain_a", "tls chain_a detach", "detach chain_b", "detach chain_c"}));
}

TEST_F(ChildTest, LoadLibraryInitializesOnlyWhatItLoaded) {
  Captured err;
  auto child = Child::create(bin("x64", "chain_c.dll"), library_options(&err));
  ASSERT_TRUE(child) << child.error().to_string();
  ASSERT_TRUE(child->initialize());
  auto loaded = child->load_library("chain_a.dll");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->value, 0x26c200000u) << "chain_a.dll at its preferred base";
  EXPECT_EQ(err.marks(kChainMarks),
            (std::vector<std::string>{"attach chain_c", "attach chain_b", "tls chain_a attach", "attach chain_a"}));
}

TEST_F(ChildTest, DllMainReturningFalseIsDllInitFailed) {
  Captured err;
  auto child = Child::create(bin("x64", "chain_fail.dll"), library_options(&err));
  ASSERT_TRUE(child) << child.error().to_string();
  auto init = child->initialize();
  ASSERT_FALSE(init);
  EXPECT_EQ(init.error().status, Status::dll_init_failed);
  EXPECT_NE(init.error().message.find("chain_fail.dll"), std::string::npos) << init.error().message;
  EXPECT_EQ(err.marks(kChainMarks), (std::vector<std::string>{"attach chain_c", "attach chain_fail"}));
}

TEST_F(ChildTest, CallingAnUnresolvedImportNamesIt) {
  Captured err;
  ChildOptions o;
  o.load.allow_missing = true;
  o.stderr_fd = err.fd();
  auto child = Child::create(bin("x64", "missing.exe"), std::move(o));
  ASSERT_TRUE(child) << child.error().to_string();
  const auto& unresolved = child->report().unresolved;
  ASSERT_TRUE(std::any_of(unresolved.begin(), unresolved.end(),
                          [](const UnresolvedImport& u) { return u.function == "liba_no_such_function"; }));
  ASSERT_TRUE(child->initialize());
  auto run = child->run_entry();
  ASSERT_TRUE(run) << run.error().to_string();
  EXPECT_EQ(run->kind, Kind::fault);
  EXPECT_EQ(run->value, 128u + SIGSEGV);
  EXPECT_NE(run->message.find("liba.dll!liba_no_such_function"), std::string::npos) << run->message;
  EXPECT_NE(run->message.find("not exported"), std::string::npos) << run->message;
  EXPECT_FALSE(child->running());
}

TEST_F(ChildTest, ExportsThatWalkRelocatedPointersAnswerRightAtDisplacedBases) {
  struct Case {
    const char* dll;
    const char* function;
    uint64_t base;
    uint64_t want;
  };
  for (const Case& c :
       {Case{"bigreloc.dll", "big_count", 0x500000000, 300000}, Case{"bigreloc.dll", "big_count", 0, 300000},
        Case{"liba.dll", "liba_checksum", 0x30000, 1337}, Case{"libb.dll", "libb_checksum", 0x7f0000000, 4242}}) {
    SCOPED_TRACE(std::string(c.dll) + " at " + std::to_string(c.base));
    ChildOptions o = library_options();
    if (c.base) o.load.forced_bases[c.dll] = c.base;
    auto child = Child::create(bin("x64", c.dll), std::move(o));
    ASSERT_TRUE(child) << child.error().to_string();
    const ChildModule* m = child->report().find(c.dll);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->base, c.base ? c.base : m->preferred_base);
    ASSERT_TRUE(child->initialize());
    auto r = child->call(c.dll, c.function);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->kind, Kind::returned);
    EXPECT_EQ(r->value, c.want);
  }
}

TEST_F(ChildTest, ArgumentsArriveInRegistersAndAFifthIsRefused) {
  auto child = Child::create(bin("x64", "liba.dll"), library_options());
  ASSERT_TRUE(child) << child.error().to_string();
  ASSERT_TRUE(child->initialize());
  const Argument args[] = {uint64_t{2}, uint64_t{40}};
  auto r = child->call("liba.dll", "liba_add", args);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->value, 42u);
  const Argument five[] = {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{4}, uint64_t{5}};
  EXPECT_FALSE(child->call("liba.dll", "liba_add", five));
  auto missing = child->call("liba.dll", "no_such_export");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().status, Status::entrypoint_not_found);
  EXPECT_TRUE(child->running()) << "a refused call leaves the child as it was";
}

TEST_F(ChildTest, AnImageDumpIsTheImageTheLoaderMadeAtThatBase) {
  // The same DLL, loaded at the same displaced base here and in the child: the child's memory, read through the
  // socket whatever each page's protection, is byte for byte this process's view.
  constexpr uint64_t kBase = 0x3f0000000;
  ChildOptions o = library_options();
  o.load.forced_bases["liba.dll"] = kBase;
  auto child = Child::create(bin("x64", "liba.dll"), std::move(o));
  ASSERT_TRUE(child) << child.error().to_string();
  const ChildModule& m = *child->report().find("liba.dll");
  auto dump = child->read(m.base, m.size);
  ASSERT_TRUE(dump) << dump.error().to_string();

  ldr::LoadOptions here;
  here.forced_bases["liba.dll"] = kBase;  // free in this process: the child's mapping is the child's
  ldr::Process process(here);
  auto loaded = process.load_library(bin("x64", "liba.dll"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ((*loaded)->base, kBase);
  auto mine = (*loaded)->image_bytes();
  ASSERT_EQ(mine.size(), dump->size());
  EXPECT_TRUE(mine == *dump) << "the child's image differs from this process's at the same base";
  EXPECT_GT((*loaded)->relocations.pages_made_private, 0u) << "displaced, so fixups were applied in both";

  // Pages the child never mapped are an error, not garbage.
  EXPECT_FALSE(child->read(m.base + m.size + 0x10000000, 16));
}

TEST_F(ChildTest, InstancesShareReadOnlyAndSharedPagesAndKeepDataPrivate) {
  std::vector<Child> children;
  for (unsigned k = 1; k <= 3; ++k) {
    ChildOptions o = library_options();
    auto child = Child::create(bin("x64", "shared.dll"), std::move(o));
    ASSERT_TRUE(child) << child.error().to_string();
    ASSERT_TRUE(child->initialize());
    auto shared = child->call("shared.dll", "shared_count");
    auto own = child->call("shared.dll", "private_count");
    ASSERT_TRUE(shared && own);
    EXPECT_EQ(shared->value, k) << "the MEM_SHARED counter counts every instance";
    EXPECT_EQ(own->value, 1u) << ".data is copy-on-write: each instance has its own";
    children.push_back(std::move(*child));
  }
  auto region = [&](const Child& c, std::string_view name) {
    const ChildModule& m = *c.report().find("shared.dll");
    for (const auto& r : m.regions)
      if (r.name == name) return std::pair{m.base + r.rva, r.size};
    return std::pair{uint64_t{0}, uint64_t{0}};
  };
  for (const auto& c : children) {
    const auto [text, text_size] = region(c, ".text");
    const auto [data, data_size] = region(c, ".data");
    EXPECT_GT(c.resident(text, text_size).shared_kb, 0u);
    EXPECT_EQ(c.resident(text, text_size).private_kb, 0u);
    EXPECT_GT(c.resident(data, data_size).private_kb, 0u);
  }
  const auto [text, text_size] = region(children[0], ".text");
  const auto [data, data_size] = region(children[0], ".data");
  const auto frames0 = children[0].page_frames(text, text_size);
  if (std::all_of(frames0.begin(), frames0.end(), [](uint64_t f) { return f == 0; }))
    GTEST_SKIP() << "the kernel hides page frame numbers here (needs CAP_SYS_ADMIN): smaps counts only";
  for (size_t i = 1; i < children.size(); ++i) {
    EXPECT_EQ(children[i].page_frames(text, text_size), frames0) << "one physical copy of .text";
    EXPECT_NE(children[i].page_frames(data, data_size), children[0].page_frames(data, data_size));
  }
}

TEST_F(ChildTest, ProgramsOnTheMingwCrtPrintWhatTheyPrintOnWindows) {
  struct Case {
    const char* exe;
    std::string stdout_text;
    uint64_t exit_code;
  };
  for (const Case& c :
       {Case{"hello.exe", "hello from pemap testdata\n", 0},
        Case{"printf.exe", text_of(pemap::test::testdata_dir() / "src/printf.expected"), 3}, Case{"tls.exe", "", 0}}) {
    SCOPED_TRACE(c.exe);
    Captured out;
    ChildOptions o;
    o.stdout_fd = out.fd();
    auto child = Child::create(bin("x64", c.exe), std::move(o));
    ASSERT_TRUE(child) << child.error().to_string();
    ASSERT_TRUE(child->initialize());
    auto end = child->run_entry();
    ASSERT_TRUE(end) << end.error().to_string();
    EXPECT_EQ(end->kind, Kind::exited) << end->message;
    EXPECT_EQ(end->value, c.exit_code);
    EXPECT_EQ(out.text(), c.stdout_text);
  }
}

TEST_F(ChildTest, Pe32IsLoadedButNotRun) {
  ChildOptions o;
  o.library = true;
  o.load.search_dirs = {bin("x86").string(), ldr::test::system_dir("x86")};
  auto child = Child::create(bin("x86", "liba.dll"), std::move(o));
  ASSERT_TRUE(child) << child.error().to_string();
  EXPECT_NE(child->report().cannot_run.find("32-bit mode"), std::string::npos) << child->report().cannot_run;
  auto init = child->initialize();
  ASSERT_FALSE(init);
  EXPECT_NE(init.error().message.find("PE32"), std::string::npos);
  // Its image can still be read: it was mapped, relocated and bound.
  const ChildModule& m = *child->report().find("liba.dll");
  auto headers = child->read(m.base, 2);
  ASSERT_TRUE(headers) << headers.error().to_string();
  EXPECT_EQ(static_cast<char>((*headers)[0]), 'M');
}

TEST_F(ChildTest, AFailedLoadIsTheLoadersErrorWithItsEvents) {
  std::vector<ldr::Event> events;
  ChildOptions o;
  o.on_event = [&](const ldr::Event& e) { events.push_back(e); };
  auto child = Child::create(bin("x64", "missing.exe"), std::move(o));
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().status, Status::dll_not_found);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().step, ldr::Step::failed);
}

}  // namespace
}  // namespace pemap::run
