// How a module name becomes a file, and an API-set contract a host (docs/loader.md, "API sets" and the search: DLL
// names, API sets): name normalization, the search order, case-insensitive matching, the schema's keys and its text
// form.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "process/apiset.hpp"
#include "process/search_path.hpp"
#include "process_support.hpp"

namespace pemap::ldr::test {
namespace {

// The default host a schema gives `name`, or nullopt when it has no such contract.
std::optional<std::string> host_of(const ApiSetSchema& schema, std::string_view name) {
  const auto found = schema.resolve(name);
  return found ? std::optional<std::string>(found->host) : std::nullopt;
}

// DLL names: trailing spaces stripped, ".dll" appended when there is no dot, any directory part dropped; the
// spelling kept for messages.
TEST(ModuleName, NormalizedAsTheLoaderComparesIt) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const auto& c :
       {Case{"liba.dll", "liba.dll"}, Case{"LIBA  ", "LIBA.dll"}, Case{"liba", "liba.dll"},
        Case{"liba.dll  ", "liba.dll"}, Case{"lib.a", "lib.a"}, Case{"C:\\Windows\\x.DLL", "x.DLL"},
        Case{"dir/sub/y", "y.dll"}, Case{"api-ms-win-core-synch-l1-2-0", "api-ms-win-core-synch-l1-2-0.dll"}})
    EXPECT_EQ(ModuleName(c.in).str(), c.out) << '"' << c.in << '"';
}

// Matching is case-insensitive (ASCII), and only that: a different length or letter is a different module.
TEST(ModuleName, MatchedWithoutRegardToCase) {
  EXPECT_EQ(ModuleName("KERNEL32.dll"), ModuleName("kernel32.DLL"));
  EXPECT_EQ(ModuleName("MiXeD.DLL"), ModuleName("mixed.dll"));
  EXPECT_EQ(ModuleName("KERNEL32"), ModuleName("kernel32.dll"));  // as written in an import: the default extension
  EXPECT_NE(ModuleName("liba.dll"), ModuleName("libb.dll"));
  EXPECT_NE(ModuleName("liba.dll"), ModuleName("liba.dl"));
  EXPECT_EQ(ModuleName("KERNEL32.Dll").key(), "kernel32.dll");
  EXPECT_EQ(ModuleName("KERNEL32.Dll").str(), "KERNEL32.Dll");
  EXPECT_EQ(ascii_lower("\xc3\x89"
                        "A.DLL"),
            "\xc3\x89"
            "a.dll");  // ASCII only: other bytes stay as they are
}

// The search order with SafeDllSearchMode: the application's directory, the system directory of the process's
// bitness, the current directory, then the --path directories standing for PATH.
TEST(SearchPath, OrderIsAppDirSystemDirCurrentDirThenPath) {
  const SearchPath path({"/app", {"/one", "/two"}, {"/sys64", "/sys32", "test", "test"}});
  const auto e = path.entries(Bitness::pe32plus);
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].dir, "/app");
  EXPECT_EQ(e[0].label, "application directory");
  EXPECT_EQ(e[1].dir, "/sys64");
  EXPECT_EQ(e[1].label, "system directory");
  EXPECT_EQ(e[2].dir, ".");
  EXPECT_EQ(e[2].label, "current directory");
  EXPECT_EQ(e[3].dir, "/one");
  EXPECT_EQ(e[4].dir, "/two");
  EXPECT_EQ(e[3].label, "--path");
  EXPECT_EQ(path.entries(Bitness::pe32)[1].dir, "/sys32");                // a PE32 process's System32 is SysWOW64
  EXPECT_EQ(SearchPath({"", {}, {}}).entries(Bitness::any)[0].dir, ".");  // an executable given without a directory
  EXPECT_EQ(SearchPath({"", {}, {}}).entries(Bitness::any).size(), 2u);   // no system directory: none searched
}

// A file is found by its name in any case, the first directory that has it wins, and the result names the file as
// it is on disk and which entry found it.
TEST(SearchPath, FindsFilesWithoutRegardToCaseFirstDirectoryFirst) {
  TempDir app, extra;
  std::ofstream(app.path() / "MiXeD.DLL") << "x";
  std::ofstream(extra.path() / "mixed.dll") << "x";
  std::ofstream(extra.path() / "Only.Dll") << "x";
  SearchPath path({app.path().string(), {extra.path().string()}, {}});
  auto mixed = path.locate(ModuleName("mixed.dll"), Bitness::any);
  ASSERT_FALSE(mixed.path.empty());
  EXPECT_EQ(mixed.path, (app.path() / "MiXeD.DLL").string());
  EXPECT_EQ(mixed.where, "application directory");
  auto only = path.locate(ModuleName("ONLY"), Bitness::any);
  ASSERT_FALSE(only.path.empty());
  EXPECT_EQ(only.path, (extra.path() / "Only.Dll").string());
  EXPECT_EQ(only.where, "--path");
  EXPECT_TRUE(path.locate(ModuleName("absent.dll"), Bitness::any).path.empty());
  std::filesystem::create_directory(app.path() / "dir.dll");
  EXPECT_TRUE(path.locate(ModuleName("dir.dll"), Bitness::any).path.empty());  // directories are not modules
}

// A KnownDLL comes from the system directory even when the application's directory holds a file of its name (the
// defence against DLL planting); a name not on the list is found in the application's directory first.
TEST(SearchPath, KnownDllsComeFromTheSystemDirectory) {
  TempDir app, system;
  for (const auto* dir : {&app, &system}) {
    std::filesystem::copy_file(bin("x64", "system/kernel32.dll"), dir->path() / "kernel32.dll");
    std::filesystem::copy_file(bin("x64", "liba.dll"), dir->path() / "liba.dll");
  }
  SearchPath path({app.path().string(), {}, {system.path().string(), "", "test", ""}});
  auto known = path.locate(ModuleName("KERNEL32.dll"), Bitness::pe32plus);
  ASSERT_FALSE(known.path.empty());
  EXPECT_EQ(known.path, (system.path() / "kernel32.dll").string());
  EXPECT_EQ(known.where, "KnownDLLs");
  auto other = path.locate(ModuleName("liba.dll"), Bitness::pe32plus);
  ASSERT_FALSE(other.path.empty());
  EXPECT_EQ(other.where, "application directory");
  // Taken off the list, kernel32.dll is found where the search meets it first: the application's directory.
  SearchPath unlisted({app.path().string(), {}, {system.path().string(), "", "test", ""}, KnownDlls{{}, "none"}});
  EXPECT_EQ(unlisted.locate(ModuleName("kernel32.dll"), Bitness::pe32plus).where, "application directory");
}

// A PE32 process takes its system DLLs from the SysWOW64 stand-in, and passes over a PE32+ file of the name, with
// the file and the reason, going on to the next place.
TEST(SearchPath, APe32ProcessPassesOverPe32PlusFiles) {
  TempDir app, sys64, sys32;
  std::filesystem::copy_file(bin("x64", "liba.dll"), app.path() / "liba.dll");
  std::filesystem::copy_file(bin("x86", "liba.dll"), sys32.path() / "liba.dll");
  std::filesystem::copy_file(bin("x64", "system/kernel32.dll"), sys64.path() / "kernel32.dll");
  std::filesystem::copy_file(bin("x86", "system/kernel32.dll"), sys32.path() / "kernel32.dll");
  SearchPath path({app.path().string(), {}, {sys64.path().string(), sys32.path().string(), "test", "test"}});
  auto k32 = path.locate(ModuleName("kernel32.dll"), Bitness::pe32);
  ASSERT_FALSE(k32.path.empty());
  EXPECT_EQ(k32.path, (sys32.path() / "kernel32.dll").string());
  auto lib = path.locate(ModuleName("liba.dll"), Bitness::pe32);
  ASSERT_FALSE(lib.path.empty());
  EXPECT_EQ(lib.path, (sys32.path() / "liba.dll").string());
  EXPECT_EQ(lib.where, "system directory");
  ASSERT_EQ(lib.skipped.size(), 1u);
  EXPECT_EQ(lib.skipped[0].path, (app.path() / "liba.dll").string());
  EXPECT_EQ(lib.skipped[0].reason, "a PE32+ image; the process is PE32");
  // A PE32+ process takes the PE32+ one, in the application's directory, and passes over nothing.
  auto lib64 = path.locate(ModuleName("liba.dll"), Bitness::pe32plus);
  ASSERT_FALSE(lib64.path.empty());
  EXPECT_EQ(lib64.where, "application directory");
  EXPECT_TRUE(lib64.skipped.empty());
}

// The KnownDLLs list: Windows 10's by default, or a file's, one name a line, normalized as module names are.
TEST(KnownDlls, ListFromAFile) {
  EXPECT_TRUE(KnownDlls::windows10().contains("kernel32.dll"));
  EXPECT_FALSE(KnownDlls::windows10().contains("kernelbase.dll"));
  TempDir dir;
  std::ofstream(dir.path() / "known.txt") << "# comment\n\n  MyLib  \nOTHER.DLL\n";
  auto list = KnownDlls::read((dir.path() / "known.txt").string());
  ASSERT_TRUE(list.has_value()) << list.error().to_string();
  EXPECT_EQ(list->names, (std::vector<std::string>{"mylib.dll", "other.dll"}));
  EXPECT_FALSE(KnownDlls::read((dir.path() / "none.txt").string()).has_value());
}

// The system directories: the command line first (a --system-dir alone serving both bitnesses), then the
// environment, where set but empty means none.
TEST(SystemDirs, CommandLineThenEnvironment) {
  ::setenv("PEMAP_SYSTEM32", "/env64", 1);
  ::setenv("PEMAP_SYSWOW64", "", 1);
  const auto given = SystemDirs::discover("/cli", "");
  EXPECT_EQ(given.system32, "/cli");
  EXPECT_EQ(given.syswow64, "/cli");
  EXPECT_EQ(given.system32_from, "--system-dir");
  const auto both = SystemDirs::discover("/cli", "/wow");
  EXPECT_EQ(both.syswow64, "/wow");
  const auto env = SystemDirs::discover("", "");
  EXPECT_EQ(env.system32, "/env64");
  EXPECT_EQ(env.system32_from, "PEMAP_SYSTEM32");
  EXPECT_EQ(env.syswow64, "");  // set but empty: none, whatever Wine holds
  EXPECT_EQ(env.syswow64_from, "PEMAP_SYSWOW64");
  ::unsetenv("PEMAP_SYSTEM32");
  ::unsetenv("PEMAP_SYSWOW64");
}

// Only api-* and ext-* names go to the schema, in any case.
TEST(ApiSet, NamesThatGoToTheSchema) {
  EXPECT_TRUE(ModuleName("api-ms-win-core-synch-l1-2-0.dll").is_api_set());
  EXPECT_TRUE(ModuleName("API-MS-Win-Core-Synch-L1-2-0").is_api_set());
  EXPECT_TRUE(ModuleName("ext-ms-win-ntuser-window-l1-1-0.dll").is_api_set());
  EXPECT_FALSE(ModuleName("apis.dll").is_api_set());
  EXPECT_FALSE(ModuleName("kernel32.dll").is_api_set());
  EXPECT_FALSE(ModuleName("api").is_api_set());
}

// The schema keys a contract without ".dll", in lower case, without its last "-N" (the patch number), so every
// patch level of one contract finds the same host.
TEST(ApiSet, KeyDropsDllAndThePatchNumber) {
  EXPECT_EQ(api_set_key("api-ms-win-core-synch-l1-2-0.dll"), "api-ms-win-core-synch-l1-2");
  EXPECT_EQ(api_set_key("API-MS-WIN-CORE-SYNCH-L1-2-1"), "api-ms-win-core-synch-l1-2");
  EXPECT_EQ(api_set_key("api-ms-win-core-synch-l1-2"), "api-ms-win-core-synch-l1");  // the last -N is the patch
  EXPECT_EQ(api_set_key("ext-ms-win-foo-l1-1-0.DLL"), "ext-ms-win-foo-l1-1");
  EXPECT_EQ(api_set_key("api-ms-win-core-x-"), "api-ms-win-core-x-");  // nothing after the dash: kept
}

// The built-in schema hosts the testdata's two contracts in kernelbase.dll, at any patch level.
TEST(ApiSet, BuiltinHostsTheCoreContractsInKernelbase) {
  const auto schema = ApiSetSchema::builtin();
  EXPECT_GT(schema.size(), 10u);
  EXPECT_EQ(host_of(schema, "api-ms-win-core-synch-l1-2-0.dll"), "kernelbase.dll");
  EXPECT_EQ(host_of(schema, "api-ms-win-core-synch-l1-2-7.dll"), "kernelbase.dll");
  EXPECT_EQ(host_of(schema, "api-ms-win-core-processthreads-l1-1-0.dll"), "kernelbase.dll");
  EXPECT_EQ(host_of(schema, "api-ms-win-crt-runtime-l1-1-0.dll"), "ucrtbase.dll");
  EXPECT_EQ(host_of(schema, "api-ms-win-core-nosuch-l1-1-0.dll"), std::nullopt);
  EXPECT_EQ(host_of(ApiSetSchema{}, "api-ms-win-core-synch-l1-2-0.dll"), std::nullopt);
}

// set() adds or replaces a contract in any form api_set_key accepts; an empty host is a contract with no host.
TEST(ApiSet, SetAddsOrReplacesAContract) {
  auto schema = ApiSetSchema::builtin();
  const size_t before = schema.size();
  schema.set("API-MS-WIN-CORE-SYNCH-L1-2-0.DLL", "mysynch.dll");
  EXPECT_EQ(schema.size(), before);
  EXPECT_EQ(host_of(schema, "api-ms-win-core-synch-l1-2-1"), "mysynch.dll");
  schema.set("ext-ms-win-new-l1-1-0", "new.dll");
  EXPECT_EQ(schema.size(), before + 1);
  EXPECT_EQ(host_of(schema, "ext-ms-win-new-l1-1-3.dll"), "new.dll");
  schema.set("api-ms-win-core-synch-l1-2-0", "");
  EXPECT_EQ(host_of(schema, "api-ms-win-core-synch-l1-2-0.dll"), "");
}

// The schema file: "contract host" per line, '#' comments, blank lines; each line overrides the table.
TEST(ApiSet, LoadFileReadsContractHostLines) {
  TempDir dir;
  const auto file = dir.path() / "schema.txt";
  std::ofstream(file) << "# comment line\n"
                         "\n"
                         "api-ms-win-core-synch-l1-2-0.dll   mysynch.dll  # trailing comment\n"
                         "\text-ms-win-tab-l1-1-0\ttab.dll\r\n";
  auto schema = ApiSetSchema::builtin();
  const size_t before = schema.size();
  auto loaded = schema.load_file(file.string());
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(host_of(schema, "api-ms-win-core-synch-l1-2-0.dll"), "mysynch.dll");
  EXPECT_EQ(host_of(schema, "ext-ms-win-tab-l1-1-0.dll"), "tab.dll");
  EXPECT_EQ(schema.size(), before + 1);
  EXPECT_EQ(host_of(schema, "api-ms-win-core-processthreads-l1-1-0.dll"), "kernelbase.dll");  // untouched
}

// A line without a host is an error naming the file and line; an unreadable file is an I/O error.
TEST(ApiSet, LoadFileRefusesALineWithoutHostAndAMissingFile) {
  TempDir dir;
  const auto file = dir.path() / "bad.txt";
  std::ofstream(file) << "api-ms-win-core-synch-l1-2-0 kernelbase.dll\napi-ms-win-lonely-l1-1-0\n";
  ApiSetSchema schema;
  auto bad = schema.load_file(file.string());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  auto missing = schema.load_file((dir.path() / "absent.txt").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().status, Status::io_error);
}

}  // namespace
}  // namespace pemap::ldr::test
