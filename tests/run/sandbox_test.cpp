// The sandbox of the child process: testdata's hostile.dll tries each way out, first with the sandbox off (the
// escape works, so the test can fail) and then on (the kernel stops it, and the report names it).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "process/process_support.hpp"
#include "run/allow_list.hpp"
#include "run/captured.hpp"
#include "run/child.hpp"

namespace pemap::run {
namespace {

namespace fs = std::filesystem;
using ldr::test::bin;
using ldr::test::TempDir;
using test::Captured;
using Kind = Outcome::Kind;

Sandbox off() {
  Sandbox s;
  s.system_calls = s.files = s.limits = false;
  return s;
}

// hostile.dll loaded as a DLL and initialized, in a child with `sandbox`; its output goes to `out`.
Child hostile(const Sandbox& sandbox, const Captured& out) {
  ChildOptions o;
  o.library = true;
  o.sandbox = sandbox;
  o.stdout_fd = out.fd();
  o.stderr_fd = out.fd();
  auto child = Child::create(bin("x64", "hostile.dll"), std::move(o));
  if (!child) throw std::runtime_error(child.error().to_string());
  auto init = child->initialize();
  if (!init || init->kind != Kind::returned) throw std::runtime_error("hostile.dll did not initialize");
  return std::move(*child);
}

Outcome call(Child& child, const std::string& function, std::vector<Argument> args = {}) {
  auto o = child.call("hostile.dll", function, args);
  if (!o) throw std::runtime_error(o.error().to_string());
  return *o;
}

uint64_t address_of(const void* function) { return reinterpret_cast<uint64_t>(function); }

// A raw `syscall` from the DLL's .text, for each call: it works with the sandbox off, and with it on the child is
// stopped at that instruction, named by system call, module+RVA and section.
struct RawCase {
  const char* function;
  const char* call;  // as libseccomp names it
  int number;
};
void PrintTo(const RawCase& c, std::ostream* os) { *os << c.function; }
class RawSystemCall : public ::testing::TestWithParam<RawCase> {};

TEST_P(RawSystemCall, WorksUnconfinedAndIsStoppedInTheSandbox) {
  const RawCase& c = GetParam();
  TempDir dir;
  const std::string target = (dir.path() / "written-by-raw-open").string();
  std::vector<Argument> args;
  if (std::string(c.function) == "raw_open") args.emplace_back(target);
  {
    Captured out;
    Child child = hostile(off(), out);
    const Outcome o = call(child, c.function, args);
    if (std::string(c.function) == "raw_execve") {
      EXPECT_EQ(o.kind, Kind::exited) << o.message;  // the child became /bin/true
      EXPECT_EQ(o.value, 0u);
    } else {
      EXPECT_EQ(o.kind, Kind::returned) << o.message;
      EXPECT_LT(static_cast<int64_t>(o.value), 4096) << "a Linux error is -1..-4095";
      EXPECT_GE(static_cast<int64_t>(o.value), 0) << c.function << " failed even unconfined";
    }
    if (std::string(c.function) == "raw_write") {
      EXPECT_NE(out.text().find("a raw write reached the terminal"), std::string::npos);
    }
  }
  if (std::string(c.function) == "raw_open") {
    ASSERT_TRUE(fs::exists(target));
    fs::remove(target);
  }
  Captured out;
  Child child = hostile(Sandbox{}, out);
  const Outcome o = call(child, c.function, args);
  EXPECT_EQ(o.kind, Kind::fault);
  EXPECT_EQ(o.value, 128u + SIGSYS);
  EXPECT_NE(o.message.find(fmt::format("{} ({})", c.call, c.number)), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("made by image code itself"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("(hostile.dll+0x"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find(", .text)"), std::string::npos) << o.message;
  EXPECT_EQ(out.text().find("a raw write reached"), std::string::npos);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(child.running());
}

INSTANTIATE_TEST_SUITE_P(Sandbox, RawSystemCall,
                         ::testing::Values(RawCase{"raw_write", "write", SYS_write},
                                           RawCase{"raw_open", "openat", SYS_openat},
                                           RawCase{"raw_socket", "socket", SYS_socket},
                                           RawCase{"raw_execve", "execve", SYS_execve},
                                           RawCase{"raw_ptrace", "ptrace", SYS_ptrace}),
                         [](const auto& param) { return std::string(param.param.function); });

// The stopped instruction is the DLL's own `syscall` (0f 05), at the address the report gives.
TEST(Sandbox, NamesTheAddressOfTheSyscallInstruction) {
  Captured out;
  Child child = hostile(Sandbox{}, out);
  const uint64_t base = child.report().find("hostile.dll")->base;
  const Outcome o = call(child, "raw_write");
  ASSERT_EQ(o.kind, Kind::fault);
  const auto at = o.message.find("by the instruction at 0x");
  ASSERT_NE(at, std::string::npos) << o.message;
  const uint64_t address = std::stoull(o.message.substr(at + 22), nullptr, 16);
  const auto rva = o.message.find(fmt::format("(hostile.dll+{:#x}, .text)", address - base));
  EXPECT_NE(rva, std::string::npos) << o.message;
  // The file's bytes there, read through the parser's view of the same DLL in a fresh child without a sandbox.
  Captured again_out;
  Child again = hostile(off(), again_out);
  auto bytes = again.read(again.report().find("hostile.dll")->base + (address - base), 2);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  EXPECT_EQ((*bytes)[0], std::byte{0x0f});
  EXPECT_EQ((*bytes)[1], std::byte{0x05});
}

// Code that finds libc and calls its syscall() (fork keeps the parent's addresses, so this process's &syscall is
// the child's): the IP filter lets it through (it is libc's instruction), the allow-list stops it.
TEST(Sandbox, LibcSyscallIsStoppedByTheAllowList) {
  const uint64_t fn = address_of(reinterpret_cast<const void*>(&::syscall));
  {
    Captured out;
    Child child = hostile(off(), out);
    const Outcome o = call(child, "sysv_call", {fn, uint64_t{SYS_socket}, uint64_t{AF_INET}, uint64_t{SOCK_STREAM}});
    ASSERT_EQ(o.kind, Kind::returned) << o.message;
    EXPECT_LT(o.value, 4096u) << "socket() through libc failed even unconfined";
  }
  Captured out;
  Child child = hostile(Sandbox{}, out);
  const Outcome o = call(child, "sysv_call", {fn, uint64_t{SYS_socket}, uint64_t{AF_INET}, uint64_t{SOCK_STREAM}});
  ASSERT_EQ(o.kind, Kind::fault);
  EXPECT_NE(o.message.find("stopped the system call socket (41), made in libc.so.6"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("image code called into libc.so.6"), std::string::npos) << o.message;
}

// fcntl(F_SETOWN) would have the kernel signal another process (with F_SETSIG, any signal) on I/O: the allow-list
// takes fcntl with descriptor and seal commands only.
TEST(Sandbox, LibcFcntlSetownIsStopped) {
  const uint64_t fn = address_of(reinterpret_cast<const void*>(&::fcntl));
  const std::vector<Argument> args{fn, uint64_t{STDOUT_FILENO}, uint64_t{F_SETOWN}, uint64_t(::getpid())};
  {
    Captured out;
    Child child = hostile(off(), out);
    const Outcome o = call(child, "sysv_call", args);
    ASSERT_EQ(o.kind, Kind::returned) << o.message;
    EXPECT_EQ(o.value, 0u) << "fcntl(F_SETOWN) failed even unconfined";
  }
  Captured out;
  Child child = hostile(Sandbox{}, out);
  const Outcome o = call(child, "sysv_call", args);
  ASSERT_EQ(o.kind, Kind::fault);
  EXPECT_NE(o.message.find("stopped the system call fcntl (72), made in libc.so.6"), std::string::npos) << o.message;
}

// libc's open() with O_CREAT: the allow-list has openat (the loader needs it), so Landlock is what refuses it,
// outside the directories given; inside --allow-dir it works.
TEST(Sandbox, LibcOpenWritesOnlyBeneathAnAllowedDirectory) {
  TempDir outside, allowed;
  const uint64_t fn = address_of(reinterpret_cast<const void*>(static_cast<int (*)(const char*, int, ...)>(&::open)));
  const std::string outside_file = (outside.path() / "created").string();
  const std::string allowed_file = (allowed.path() / "created").string();
  const uint64_t flags = O_WRONLY | O_CREAT | O_TRUNC;
  {
    Captured out;
    Child child = hostile(off(), out);
    const Outcome o = call(child, "sysv_call", {fn, outside_file, flags, uint64_t{0644}});
    ASSERT_EQ(o.kind, Kind::returned) << o.message;
    EXPECT_TRUE(fs::exists(outside_file)) << "open() through libc failed even unconfined";
    fs::remove(outside_file);
  }
  Sandbox s;
  s.write_dirs = {allowed.path().string()};
  Captured out;
  Child child = hostile(s, out);
  const Outcome refused = call(child, "sysv_call", {fn, outside_file, flags, uint64_t{0644}});
  ASSERT_EQ(refused.kind, Kind::returned) << refused.message;
  EXPECT_EQ(static_cast<int32_t>(refused.value), -1);
  EXPECT_FALSE(fs::exists(outside_file));
  const Outcome allowed_open = call(child, "sysv_call", {fn, allowed_file, flags, uint64_t{0644}});
  ASSERT_EQ(allowed_open.kind, Kind::returned) << allowed_open.message;
  EXPECT_GE(static_cast<int32_t>(allowed_open.value), 0);
  EXPECT_TRUE(fs::exists(allowed_file));
}

// A host function asked to open a file outside what the child may read: LoadLibraryA of a DLL in another
// directory. It fails with ERROR_ACCESS_DENIED, and pemap says on stderr which call and which path.
TEST(Sandbox, LoadLibraryOutsideTheSearchedDirectoriesIsRefusedAndNamed) {
  TempDir elsewhere;
  const std::string dll = elsewhere.copy(bin("x64", "liba.dll"), "outside.dll");
  {
    Captured out;
    Child child = hostile(off(), out);
    const Outcome o = call(child, "load_library", {dll});
    ASSERT_EQ(o.kind, Kind::returned) << o.message;
    EXPECT_NE(o.value, 0u) << "LoadLibraryA failed even unconfined";
  }
  Captured out;
  Child child = hostile(Sandbox{}, out);
  const Outcome o = call(child, "load_library", {dll});
  ASSERT_EQ(o.kind, Kind::returned) << o.message;
  EXPECT_EQ(o.value, 0u);
  EXPECT_NE(out.text().find(fmt::format("the sandbox refused LoadLibraryA(\"{}\")", dll)), std::string::npos)
      << out.text();
  // Allowed, the same call loads it.
  Sandbox s;
  s.write_dirs = {elsewhere.path().string()};
  Captured out2;
  Child allowed = hostile(s, out2);
  const Outcome ok = call(allowed, "load_library", {dll});
  EXPECT_NE(ok.value, 0u) << out2.text();
}

TEST(Sandbox, AnEndlessLoopIsStoppedAtTheCpuTimeLimit) {
  Sandbox s;
  s.cpu_seconds = 1;
  Captured out;
  Child child = hostile(s, out);
  const Outcome o = call(child, "spin");
  ASSERT_EQ(o.kind, Kind::fault);
  EXPECT_NE(o.message.find("used up its CPU time limit (1 s, --limit-time)"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("(hostile.dll+0x"), std::string::npos) << o.message;
}

TEST(Sandbox, AMemoryBombIsStoppedAtTheMemoryLimit) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan's allocator ends the process itself when an allocation fails; the plain build runs this";
#endif
  Sandbox s;
  s.memory_bytes = uint64_t{256} << 20;
  Captured out;
  Child child = hostile(s, out);
  const Outcome o = call(child, "memory_bomb");
  ASSERT_EQ(o.kind, Kind::fault);
  EXPECT_NE(o.message.find("access violation"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("the memory limit (--limit-mem 256 MiB) refused 1 allocation (the largest 16777216 bytes)"),
            std::string::npos)
      << o.message;
}

// The parent lives on after each: a child it makes next still runs code.
TEST(Sandbox, TheParentSurvivesEveryStoppedChild) {
  for (const char* f : {"raw_write", "raw_execve"}) {
    Captured out;
    Child child = hostile(Sandbox{}, out);
    EXPECT_EQ(call(child, f).kind, Kind::fault);
  }
  Captured out;
  Child child = hostile(Sandbox{}, out);
  auto o = child.call("hostile.dll", "load_library", std::vector<Argument>{std::string("liba.dll")});
  ASSERT_TRUE(o);
  EXPECT_NE(o->value, 0u);
}

// Every program of testdata that runs whole still does, inside the sandbox (the allow-list covers the loader and
// the host functions).
TEST(Sandbox, TestdataProgramsRunInside) {
  for (const char* exe :
       {"app.exe", "ordapp.exe", "fwdapp.exe", "apiset.exe", "delayapp.exe", "tls.exe", "hello.exe"}) {
    Captured out;
    ChildOptions o;
    o.stdout_fd = out.fd();
    o.stderr_fd = out.fd();
    auto child = Child::create(bin("x64", exe), std::move(o));
    ASSERT_TRUE(child) << exe << ": " << child.error().to_string();
    ASSERT_EQ(child->initialize()->kind, Kind::returned) << exe;
    const Outcome end = *child->run_entry();
    EXPECT_EQ(end.kind, Kind::exited) << exe << ": " << end.message;
    EXPECT_EQ(end.value, 0u) << exe << ": " << out.text();
  }
}

// docs/running.md lists the allow-list: the calls allowed whatever their arguments, then those allowed with some.
// The list there is the list here.
TEST(Sandbox, TheDocumentedAllowListIsTheFilters) {
  const auto bytes = pemap::test::read_file(pemap::test::testdata_dir().parent_path() / "docs" / "running.md");
  std::string doc;  // the text with every run of white space as one space, as a reader sees it
  for (const std::byte b : bytes) {
    const char c = static_cast<char>(b) == '\n' ? ' ' : static_cast<char>(b);
    if (c != ' ' || doc.empty() || doc.back() != ' ') doc += c;
  }
  const std::string marker = "The list, whatever the arguments:";
  const auto from = doc.find(marker);
  const auto checked = doc.find("With their arguments checked:", from);
  const auto rest = doc.find("Everything else is stopped", checked);
  ASSERT_NE(rest, std::string::npos) << "docs/running.md no longer lists the allow-list where this test looks";
  auto names = [](std::string text) {
    std::set<std::string> out;
    std::string word;
    for (char& c : text)
      if (c == ',' || c == '.') c = ' ';
    std::istringstream in(text);
    while (in >> word) out.insert(word);
    return out;
  };
  std::set<std::string> documented = names(doc.substr(from + marker.size(), checked - from - marker.size()));
  for (const char* conditional : allow_list::kWithArguments) {
    EXPECT_NE(doc.substr(checked, rest - checked).find(std::string(conditional) + " ("), std::string::npos)
        << conditional << " is not described with its arguments";
    documented.insert(conditional);
  }
  const auto list = allowed_system_calls();
  EXPECT_EQ(documented, std::set<std::string>(list.begin(), list.end()));
}

}  // namespace
}  // namespace pemap::run
