// How a module name becomes a file, and an API-set contract a host (docs/loader.md, "API sets" and the search: DLL
// names, API sets): name normalization, the search order, case-insensitive matching, the schema's keys and its text
// form.
#include <gtest/gtest.h>

#include <fstream>

#include "process/apiset.hpp"
#include "process/search_path.hpp"
#include "process_support.hpp"

namespace pemap::ldr::test {
namespace {

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

// The search order: the application's directory, the directories given in order, the current directory.
TEST(SearchPath, StandardOrderIsAppDirThenGivenDirsThenCurrentDir) {
  const auto path = SearchPath::standard("/app", {"/one", "/two"});
  ASSERT_EQ(path.entries().size(), 4u);
  EXPECT_EQ(path.entries()[0].dir, "/app");
  EXPECT_EQ(path.entries()[0].label, "application directory");
  EXPECT_EQ(path.entries()[1].dir, "/one");
  EXPECT_EQ(path.entries()[2].dir, "/two");
  EXPECT_EQ(path.entries()[1].label, "--path");
  EXPECT_EQ(path.entries()[3].dir, ".");
  EXPECT_EQ(path.entries()[3].label, "current directory");
  EXPECT_EQ(SearchPath::standard("", {}).entries()[0].dir, ".");  // an executable given without a directory
}

// A file is found by its name in any case, the first directory that has it wins, and the result names the file as
// it is on disk and which entry found it.
TEST(SearchPath, FindsFilesWithoutRegardToCaseFirstDirectoryFirst) {
  TempDir app, extra;
  std::ofstream(app.path() / "MiXeD.DLL") << "x";
  std::ofstream(extra.path() / "mixed.dll") << "x";
  std::ofstream(extra.path() / "Only.Dll") << "x";
  auto path = SearchPath::standard(app.path().string(), {extra.path().string()});
  auto mixed = path.locate(ModuleName("mixed.dll"));
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->path, (app.path() / "MiXeD.DLL").string());
  EXPECT_EQ(mixed->where, "application directory");
  auto only = path.locate(ModuleName("ONLY"));
  ASSERT_TRUE(only);
  EXPECT_EQ(only->path, (extra.path() / "Only.Dll").string());
  EXPECT_EQ(only->where, "--path");
  EXPECT_FALSE(path.locate(ModuleName("absent.dll")));
  std::filesystem::create_directory(app.path() / "dir.dll");
  EXPECT_FALSE(path.locate(ModuleName("dir.dll")));  // directories are not modules
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
  EXPECT_EQ(schema.resolve("api-ms-win-core-synch-l1-2-0.dll"), "kernelbase.dll");
  EXPECT_EQ(schema.resolve("api-ms-win-core-synch-l1-2-7.dll"), "kernelbase.dll");
  EXPECT_EQ(schema.resolve("api-ms-win-core-processthreads-l1-1-0.dll"), "kernelbase.dll");
  EXPECT_EQ(schema.resolve("api-ms-win-crt-runtime-l1-1-0.dll"), "ucrtbase.dll");
  EXPECT_EQ(schema.resolve("api-ms-win-core-nosuch-l1-1-0.dll"), std::nullopt);
  EXPECT_EQ(ApiSetSchema{}.resolve("api-ms-win-core-synch-l1-2-0.dll"), std::nullopt);
}

// set() adds or replaces a contract in any form api_set_key accepts; an empty host is a contract with no host.
TEST(ApiSet, SetAddsOrReplacesAContract) {
  auto schema = ApiSetSchema::builtin();
  const size_t before = schema.size();
  schema.set("API-MS-WIN-CORE-SYNCH-L1-2-0.DLL", "mysynch.dll");
  EXPECT_EQ(schema.size(), before);
  EXPECT_EQ(schema.resolve("api-ms-win-core-synch-l1-2-1"), "mysynch.dll");
  schema.set("ext-ms-win-new-l1-1-0", "new.dll");
  EXPECT_EQ(schema.size(), before + 1);
  EXPECT_EQ(schema.resolve("ext-ms-win-new-l1-1-3.dll"), "new.dll");
  schema.set("api-ms-win-core-synch-l1-2-0", "");
  EXPECT_EQ(schema.resolve("api-ms-win-core-synch-l1-2-0.dll"), "");
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
  EXPECT_EQ(schema.resolve("api-ms-win-core-synch-l1-2-0.dll"), "mysynch.dll");
  EXPECT_EQ(schema.resolve("ext-ms-win-tab-l1-1-0.dll"), "tab.dll");
  EXPECT_EQ(schema.size(), before + 1);
  EXPECT_EQ(schema.resolve("api-ms-win-core-processthreads-l1-1-0.dll"), "kernelbase.dll");  // untouched
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
