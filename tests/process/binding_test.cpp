// Import binding on synthetic PEs built in code (PeBuilder), PE32 and PE32+: forwarder loops, the hint and the
// binary search, empty ordinal slots, DLL names, IATs in shared sections, bound imports, delay imports, the /GS
// cookie, and LoadLibrary's rollback (docs/loader.md, "The steps, for each module").
#include <gtest/gtest.h>

#include <algorithm>

#include "memory/image_section.hpp"
#include "memory/virtual_query.hpp"
#include "pe/imports.hpp"
#include "process/export_lookup.hpp"
#include "process/process.hpp"
#include "process_support.hpp"

namespace pemap::ldr::test {
namespace {

using pemap::test::DelayImport;
using pemap::test::Export;
using pemap::test::Import;
using pemap::test::PeBuilder;

class Bind : public testing::TestWithParam<bool> {
 protected:
  bool x64() const { return GetParam(); }
  /// Preferred bases for the synthetic DLLs, one 16 MiB slot each, far from the default .exe base.
  uint64_t dll_base(unsigned i) const { return (x64() ? 0x2'5000'0000ull : 0x5000'0000ull) + i * 0x100'0000ull; }
  unsigned ptr() const { return x64() ? 8 : 4; }
  PeBuilder dll(unsigned i, const std::string& name, std::vector<Export> exports, bool sort_names = true) const {
    return dll_builder(x64(), dll_base(i), name, std::move(exports), sort_names);
  }
  PeBuilder exe(std::vector<Import> imports, uint32_t idata = 0xC0000040) const {
    return exe_builder(x64(), std::move(imports), idata);
  }
  /// A DLL that imports (for load_library tests).
  PeBuilder importer_dll(unsigned i, std::vector<Import> imports) const {
    PeBuilder b = dll(i, "", {});
    b.add_imports(std::move(imports));
    return b;
  }
};

INSTANTIATE_TEST_SUITE_P(Synthetic, Bind, testing::Bool(), format_name);

// --------------------------------------------------------------------------------------------------- forwarders

// A forwarder loop (a.dll!X -> b.Y -> a.X) is detected, not followed forever: STATUS_ENTRYPOINT_NOT_FOUND naming
// the loop, and the failed load leaves nothing loaded ("Imports": resolve recursively, and detect loops).
TEST_P(Bind, ForwarderLoopIsEntrypointNotFound) {
  TempDir dir;
  dir.write("a.dll", dll(0, "a.dll", {{.name = "X", .forwarder = "b.Y"}}).build());
  dir.write("b.dll", dll(1, "b.dll", {{.name = "Y", .forwarder = "a.X"}}).build());
  const auto exe_path = dir.write("loop.exe", exe({{.dll = "a.dll", .entries = {by_name("X")}}}).build());
  Process p(LoadOptions{});
  auto r = p.load_executable(exe_path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, Status::entrypoint_not_found) << r.error().to_string();
  EXPECT_NE(r.error().message.find("loop"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("a.dll!X"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("b.dll!Y"), std::string::npos) << r.error().message;
  EXPECT_TRUE(p.modules().empty());
}

// With allow_missing the looping import becomes a trap like any other entry point that is not found.
TEST_P(Bind, ForwarderLoopWithAllowMissingIsATrap) {
  TempDir dir;
  dir.write("a.dll", dll(0, "a.dll", {{.name = "X", .forwarder = "a.X"}}).build());  // a loop of one
  const auto exe_path = dir.write("loop.exe", exe({{.dll = "a.dll", .entries = {by_name("X")}}}).build());
  LoadOptions o;
  o.allow_missing = true;
  Process p(std::move(o));
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  ASSERT_EQ(p.unresolved().size(), 1u);
  EXPECT_EQ(p.unresolved()[0].status(), Status::entrypoint_not_found);
  EXPECT_NE(p.unresolved()[0].reason().find("loop"), std::string::npos) << p.unresolved()[0].reason();
  EXPECT_EQ(binding(**app, "X")->how, How::trap);
}

// A forwarder into its own DLL (a.dll!X -> a.Y) ends at a.dll!Y, and costs a.dll no reference: FreeLibrary of the
// importer unloads a.dll again.
TEST_P(Bind, ForwarderIntoItsOwnDllTakesNoReference) {
  TempDir dir;
  const auto lib = dir.write("a.dll", dll(0, "a.dll", {{.name = "X", .forwarder = "a.Y"}, {.name = "Y"}}).build());
  const auto imp = dir.write("user.dll", importer_dll(1, {{.dll = "a.dll", .entries = {by_name("X")}}}).build());
  Process p(LoadOptions{});
  auto user = p.load_library(imp);
  ASSERT_TRUE(user) << user.error().to_string();
  const Module* a = p.find("a.dll");
  ASSERT_NE(a, nullptr);
  const auto* x = binding(**user, "X");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->chain(), (std::vector<std::string>{"a.dll!X"}));
  EXPECT_EQ(x->target(), "a.dll!Y");
  EXPECT_EQ(x->address, a->base + FileImage(lib).export_rva("Y"));
  EXPECT_EQ(a->references, 1u);
  ASSERT_TRUE(p.free_library("user.dll"));
  EXPECT_TRUE(p.modules().empty()) << "a.dll is still loaded";
}

// A forwarder to a DLL that cannot be found fails the load with STATUS_DLL_NOT_FOUND naming that DLL.
TEST_P(Bind, ForwarderToAMissingDllIsDllNotFound) {
  TempDir dir;
  dir.write("a.dll", dll(0, "a.dll", {{.name = "X", .forwarder = "gone.Y"}}).build());
  const auto exe_path = dir.write("fwd.exe", exe({{.dll = "a.dll", .entries = {by_name("X")}}}).build());
  Process p(LoadOptions{});
  auto r = p.load_executable(exe_path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, Status::dll_not_found) << r.error().to_string();
  EXPECT_NE(r.error().message.find("gone.dll"), std::string::npos) << r.error().message;
  EXPECT_TRUE(p.modules().empty());
}

// ------------------------------------------------------------------------------------------ hint, binary search

// By name: the hint first, then a binary search of the name table that trusts it to be sorted. In an unsorted
// table the search can miss a name that is there (as on Windows), while its right hint finds it ("Imports").
TEST_P(Bind, UnsortedNamesBinarySearchMissesWhatTheHintFinds) {
  TempDir dir;
  // Name table order: zeta (index 0), alpha (1), mid (2). Searching "zeta": mid = alpha < zeta, then mid < zeta.
  const auto lib = dir.write(
      "unsorted.dll",
      dll(0, "unsorted.dll",
          {{.name = "zeta", .ordinal = 1}, {.name = "alpha", .ordinal = 2}, {.name = "mid", .ordinal = 3}}, false)
          .build());
  {
    FileImage file(lib);
    const auto exports = file.exports();
    EXPECT_FALSE(exports.names_sorted);
    auto lookup = ExportLookup::create(*file.image);
    ASSERT_TRUE(lookup) << lookup.error().to_string();
    EXPECT_EQ(lookup->by_name("zeta", 0).how, How::hint);
    EXPECT_FALSE(lookup->by_name("zeta", 1).entry.has_value());
    EXPECT_FALSE(lookup->by_name("zeta", 2).entry.has_value());
    EXPECT_EQ(lookup->by_name("alpha", 7).how, How::binary_search);
    EXPECT_EQ(lookup->by_name("alpha", 7).entry->rva, file.export_rva("alpha"));
  }
  const auto exe_path = dir.write(
      "u.exe",
      exe({{.dll = "unsorted.dll", .entries = {by_name("zeta", 0), by_name("alpha", 0), by_name("zeta", 1)}}}).build());
  LoadOptions o;
  o.allow_missing = true;
  Process p(std::move(o));
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* u = p.find("unsorted.dll");
  FileImage file(lib);
  const auto& b = (*app)->bindings;
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].how, How::hint);
  EXPECT_EQ(b[0].address, u->base + file.export_rva("zeta"));
  EXPECT_EQ(b[1].how, How::binary_search);
  EXPECT_EQ(b[1].address, u->base + file.export_rva("alpha"));
  EXPECT_EQ(b[2].how, How::trap);
  ASSERT_EQ(p.unresolved().size(), 1u);
  EXPECT_EQ(p.unresolved()[0].function(), "zeta");
  EXPECT_EQ(p.unresolved()[0].status(), Status::entrypoint_not_found);
}

// Missing DLLs: every slot bound to a trap of its own, while what the search found (nothing, and where it looked)
// is held once for all of them; the binding names the DLL and the importer. Without allow_missing the error
// still says both.
TEST_P(Bind, MissingDllsShareOneRecordOfTheSearch) {
  TempDir dir;
  const auto exe_path = dir.write("m.exe", exe({{.dll = "gone1.dll", .entries = {by_name("f"), by_name("g")}},
                                                {.dll = "gone2.dll", .entries = {by_name("f")}}})
                                               .build());
  LoadOptions o;
  o.allow_missing = true;
  Process p(std::move(o));
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  const auto& u = p.unresolved();
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[0].dll(), "gone1.dll");
  EXPECT_EQ(u[2].dll(), "gone2.dll");
  EXPECT_EQ(u[2].function(), "f");
  EXPECT_NE(u[0].trap(), u[2].trap()) << "gone1.dll!f and gone2.dll!f are different functions";
  for (const auto& x : u) {
    EXPECT_EQ(x.status(), Status::dll_not_found);
    EXPECT_EQ(x.binding().resolution, u[0].binding().resolution);
    EXPECT_TRUE(x.reason().starts_with("not found (searched ")) << x.reason();
    EXPECT_NE(x.reason().find("ERROR_MOD_NOT_FOUND"), std::string::npos) << x.reason();
  }
  EXPECT_EQ((*app)->resolutions.size(), 1u);

  Process strict(LoadOptions{});
  auto refused = strict.load_executable(exe_path);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("gone1.dll, imported by m.exe, was not found (searched "), std::string::npos)
      << refused.error().message;
}

// Name lookups are case-sensitive: "Alpha" is not "alpha" ("Imports": binary search, case-sensitive).
TEST_P(Bind, ExportNamesAreCaseSensitive) {
  TempDir dir;
  dir.write("lib.dll", dll(0, "lib.dll", {{.name = "alpha"}}).build());
  const auto exe_path = dir.write("c.exe", exe({{.dll = "lib.dll", .entries = {by_name("Alpha")}}}).build());
  Process p(LoadOptions{});
  auto r = p.load_executable(exe_path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, Status::entrypoint_not_found);
}

// -------------------------------------------------------------------------------------------------------- ordinals

// By ordinal: ordinal minus Base indexes the address table; a slot holding RVA 0, or one past the table, is not an
// export: STATUS_ORDINAL_NOT_FOUND ("Imports": by ordinal).
TEST_P(Bind, EmptyOrdinalSlotIsOrdinalNotFound) {
  TempDir dir;
  const auto lib = dir.write(
      "ord.dll",
      dll(0, "ord.dll",
          {{.name = "f", .ordinal = 1}, {.name = "g", .rva = 0, .ordinal = 2}, {.ordinal = 3, .noname = true}})
          .build());
  {
    const auto exe_path = dir.write("strict.exe", exe({{.dll = "ord.dll", .entries = {uint16_t{2}}}}).build());
    Process p(LoadOptions{});
    auto r = p.load_executable(exe_path);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, Status::ordinal_not_found) << r.error().to_string();
    EXPECT_TRUE(p.modules().empty());
  }
  const auto exe_path =
      dir.write("lenient.exe",
                exe({{.dll = "ord.dll", .entries = {uint16_t{1}, uint16_t{2}, uint16_t{3}, uint16_t{9}}}}).build());
  LoadOptions o;
  o.allow_missing = true;
  Process p(std::move(o));
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* ord = p.find("ord.dll");
  FileImage file(lib);
  EXPECT_EQ(binding(**app, "#1")->how, How::ordinal);
  EXPECT_EQ(binding(**app, "#1")->address, ord->base + file.ordinal_rva(1));
  EXPECT_EQ(binding(**app, "#3")->how, How::ordinal);
  EXPECT_EQ(binding(**app, "#3")->address, ord->base + file.ordinal_rva(3));
  ASSERT_EQ(p.unresolved().size(), 2u);
  EXPECT_EQ(p.unresolved()[0].function(), "#2");
  EXPECT_EQ(p.unresolved()[0].status(), Status::ordinal_not_found);
  EXPECT_EQ(p.unresolved()[1].function(), "#9");
  EXPECT_EQ(p.unresolved()[1].status(), Status::ordinal_not_found);
}

// ------------------------------------------------------------------------------------------------------- DLL names

// An import names "LIBA  ": trailing spaces dropped, ".dll" appended, matched to liba.dll on disk ("Imports": DLL
// names).
TEST_P(Bind, ImportDllNameWithTrailingSpacesAndNoExtension) {
  TempDir dir;
  const auto lib = dir.write("liba.dll", dll(0, "liba.dll", {{.name = "f"}}).build());
  const auto exe_path = dir.write("s.exe", exe({{.dll = "LIBA  ", .entries = {by_name("f")}}}).build());
  Process p(LoadOptions{});
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"s.exe", "liba.dll"}));
  const Binding* f = binding(**app, "f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->dll(), "LIBA.dll");
  EXPECT_EQ(f->target(), "liba.dll!f");
  EXPECT_EQ(f->address, p.find("liba.dll")->base + FileImage(lib).export_rva("f"));
}

// The file MiXeD.DLL satisfies an import of mixed.dll; the module list names it as the file is named.
TEST_P(Bind, ImportMatchesAFileNameInAnotherCase) {
  TempDir dir;
  const auto lib = dir.write("MiXeD.DLL", dll(0, "MiXeD.DLL", {{.name = "f"}}).build());
  const auto exe_path = dir.write("m.exe", exe({{.dll = "mixed.dll", .entries = {by_name("f")}}}).build());
  Process p(LoadOptions{});
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"m.exe", "MiXeD.DLL"}));
  const Module* mixed = p.find("mixed.dll");
  ASSERT_NE(mixed, nullptr);
  EXPECT_EQ(mixed->path, lib);
  EXPECT_EQ(binding(**app, "f")->target(), "MiXeD.DLL!f");
  EXPECT_EQ(binding(**app, "f")->address, mixed->base + FileImage(lib).export_rva("f"));
}

// OriginalFirstThunk 0: the names are read from the IAT itself, then overwritten by the binding ("Imports").
TEST_P(Bind, NamesComeFromTheIatWithoutALookupTable) {
  TempDir dir;
  const auto lib = dir.write("lib.dll", dll(0, "lib.dll", {{.name = "f"}, {.name = "g"}}).build());
  const auto exe_path = dir.write(
      "n.exe",
      exe({{.dll = "lib.dll", .entries = {by_name("g", 1), by_name("f", 0)}, .use_lookup_table = false}}).build());
  Process p(LoadOptions{});
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* l = p.find("lib.dll");
  FileImage file(lib);
  for (const char* f : {"f", "g"}) {
    const auto* b = binding(**app, f);
    ASSERT_NE(b, nullptr) << f;
    EXPECT_EQ(b->how, How::hint) << f;
    EXPECT_EQ(b->address, l->base + file.export_rva(f)) << f;
    EXPECT_EQ(view_value(**app, b->iat_rva, ptr()), b->address) << f;
  }
}

// ----------------------------------------------------------------------------------------------------- shared IAT

// An IAT in a MEM_SHARED|MEM_WRITE section: the loader's writes go to a page of this view's own, so another view of
// the same image object still sees the unbound IAT ("Protection and sharing": IAT pages inside a shared section
// stay private).
TEST_P(Bind, IatInASharedSectionIsWrittenToAPrivatePage) {
  TempDir dir;
  const auto lib = dir.write("lib.dll", dll(0, "lib.dll", {{.name = "f"}}).build());
  const auto exe_path =
      dir.write("shared.exe", exe({{.dll = "lib.dll", .entries = {by_name("f")}}}, 0xD0000040).build());
  Process p(LoadOptions{});
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  const Module& m = **app;
  const Binding* f = binding(m, "f");
  ASSERT_NE(f, nullptr);
  const auto& regions = m.section->regions();
  auto region = std::find_if(regions.begin(), regions.end(), [&](const win::ImageRegion& r) {
    return f->iat_rva >= r.rva && f->iat_rva - r.rva < r.size;
  });
  ASSERT_NE(region, regions.end());
  ASSERT_TRUE(region->shared()) << "the IAT is not in a shared region";

  EXPECT_GT(m.iat_pages_made_private, 0u);
  EXPECT_EQ(f->address, p.find("lib.dll")->base + FileImage(lib).export_rva("f"));
  EXPECT_EQ(view_value(m, f->iat_rva, ptr()), f->address);

  FileImage file(exe_path);
  auto imports = pe::parse_imports(*file.image);
  ASSERT_TRUE(imports);
  const uint64_t unbound = imports->modules.at(0).entries.at(0).thunk;
  auto other = win::ImageView::map(m.section);
  ASSERT_TRUE(other) << other.error().to_string();
  uint64_t seen = 0;
  std::memcpy(&seen, other->base() + f->iat_rva, ptr());
  EXPECT_EQ(seen, unbound);
  auto again = m.section->read(f->iat_rva, ptr());
  uint64_t in_object = 0;
  std::memcpy(&in_object, again.data(), ptr());
  EXPECT_EQ(in_object, unbound);
}

// The private copy of a shared IAT page keeps the section's protection, execute included (review finding: it was
// left read/write).
TEST_P(Bind, PrivateCopyOfASharedExecutableIatPageKeepsItsProtection) {
  TempDir dir;
  dir.write("lib.dll", dll(0, "lib.dll", {{.name = "f"}}).build());
  const auto exe_path =
      dir.write("sharedx.exe", exe({{.dll = "lib.dll", .entries = {by_name("f")}}}, 0xF0000040).build());
  Process p(LoadOptions{});
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  const Module& m = **app;
  const Binding* f = binding(m, "f");
  ASSERT_NE(f, nullptr);
  EXPECT_GT(m.iat_pages_made_private, 0u);
  auto info = win::virtual_query(m.view->base() + f->iat_rva);
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_TRUE(info->protect == win::PAGE_EXECUTE_READWRITE || info->protect == win::PAGE_EXECUTE_WRITECOPY)
      << std::hex << info->protect;
}

// ---------------------------------------------------------------------------------------------------- bound imports

struct BoundCase {
  const char* what;
  uint32_t descriptor_stamp;  // 0xFFFFFFFF: the bound import directory has the stamp
  uint32_t directory_stamp;
  bool displace_target;
  bool kept;
};

class Bound : public testing::TestWithParam<std::tuple<bool, BoundCase>> {};

// Bound imports are kept only while the target's TimeDateStamp matches (from the descriptor, or the bound import
// directory when the descriptor says -1) and the target sits at its preferred base; otherwise the IAT is rebound
// ("Imports": bound imports).
TEST_P(Bound, KeptOnlyWhileStampAndBaseStillHold) {
  const auto [x64, c] = GetParam();
  constexpr uint32_t kStamp = 0x5EED1234;
  const uint64_t base = x64 ? 0x2'5000'0000ull : 0x5000'0000ull;
  const uint64_t stale = x64 ? 0x1'1223'3440ull : 0x1122'3340ull;  // what the binder wrote long ago
  TempDir dir;
  PeBuilder target = dll_builder(x64, base, "bound.dll", {{.name = "f"}});
  target.time_date_stamp(kStamp);
  const auto lib = dir.write("bound.dll", target.build());
  PeBuilder importer = exe_builder(
      x64,
      {{.dll = "bound.dll", .entries = {by_name("f")}, .time_date_stamp = c.descriptor_stamp, .iat_values = {stale}}});
  if (c.descriptor_stamp == 0xFFFFFFFF) importer.add_bound_imports({{"bound.dll", c.directory_stamp}});
  const auto exe_path = dir.write("b.exe", importer.build());

  std::vector<Event> events;
  LoadOptions o;
  if (c.displace_target) o.forced_bases["bound.dll"] = base + 0x10'0000;
  Process p(std::move(o), [&](const Event& e) { events.push_back(e); });
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* t = p.find("bound.dll");
  const Binding* f = binding(**app, "f");
  ASSERT_NE(f, nullptr);
  if (c.kept) {
    EXPECT_EQ(f->how, How::bound);
    EXPECT_EQ(f->address, stale);
    EXPECT_EQ(view_value(**app, f->iat_rva, x64 ? 8 : 4), stale);
  } else {
    EXPECT_EQ(f->how, How::hint);
    EXPECT_EQ(f->address, t->base + FileImage(lib).export_rva("f"));
    EXPECT_EQ(view_value(**app, f->iat_rva, x64 ? 8 : 4), f->address);
  }
  auto bound = std::find_if(events.begin(), events.end(), [](const Event& e) { return e.step == Step::bound; });
  ASSERT_NE(bound, events.end());
  EXPECT_EQ(bound->ok, c.kept) << bound->reason;
}

INSTANTIATE_TEST_SUITE_P(
    Synthetic, Bound,
    testing::Combine(testing::Bool(),
                     testing::Values(BoundCase{"StampMatches", 0x5EED1234, 0, false, true},
                                     BoundCase{"StampDiffers", 0x5EED1235, 0, false, false},
                                     BoundCase{"TargetDisplaced", 0x5EED1234, 0, true, false},
                                     BoundCase{"DirectoryStampMatches", 0xFFFFFFFF, 0x5EED1234, false, true},
                                     BoundCase{"DirectoryStampDiffers", 0xFFFFFFFF, 0x1, false, false})),
    [](const testing::TestParamInfo<std::tuple<bool, BoundCase>>& param) {
      return std::string(std::get<0>(param.param) ? "PE32plus_" : "PE32_") + std::get<1>(param.param).what;
    });

// ------------------------------------------------------------------------------------------------- delay imports

// bind_delay reads delay descriptors in both forms: RVAs when Attributes bit 0 is set, VAs otherwise ("Imports":
// delay-load descriptors).
TEST_P(Bind, BindDelayReadsRvaAndVaFormDescriptors) {
  TempDir dir;
  const auto lib_a = dir.write("da.dll", dll(0, "da.dll", {{.name = "fa"}}).build());
  const auto lib_b = dir.write("db.dll", dll(1, "db.dll", {{.name = "fb"}}).build());
  PeBuilder b = exe({});
  b.add_delay_imports({DelayImport{.dll = "da.dll", .names = {"fa"}, .rva_form = true},
                       // The VA form holds 32-bit VAs: only a PE32 image can have one.
                       DelayImport{.dll = "db.dll", .names = {"fb"}, .rva_form = x64()}});
  const auto exe_path = dir.write("d.exe", b.build());
  {
    Process p(LoadOptions{});
    auto app = p.load_executable(exe_path);
    ASSERT_TRUE(app) << app.error().to_string();
    EXPECT_EQ(module_names(p), (std::vector<std::string>{"d.exe"}));
    EXPECT_EQ((*app)->delay_dlls, (std::vector<std::string>{"da.dll", "db.dll"}));
  }
  LoadOptions o;
  o.bind_delay = true;
  Process p(std::move(o));
  auto app = p.load_executable(exe_path);
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"d.exe", "da.dll", "db.dll"}));
  const Binding* fa = binding(**app, "fa", true);
  const Binding* fb = binding(**app, "fb", true);
  ASSERT_NE(fa, nullptr);
  ASSERT_NE(fb, nullptr);
  EXPECT_EQ(fa->address, p.find("da.dll")->base + FileImage(lib_a).export_rva("fa"));
  EXPECT_EQ(fb->address, p.find("db.dll")->base + FileImage(lib_b).export_rva("fb"));
  EXPECT_EQ(view_value(**app, fa->iat_rva, ptr()), fa->address);
  EXPECT_EQ(view_value(**app, fb->iat_rva, ptr()), fb->address);
}

// -------------------------------------------------------------------------------------------------------- /GS cookie

// The load config's SecurityCookie still holding the compiler's default (0xBB40E64E, 0x00002B992DDFA232) is
// replaced at load, the x64 one keeping its top 16 bits clear; a cookie already set is left alone ("TLS and entry
// points": the /GS cookie default value is replaced at load).
TEST_P(Bind, DefaultGsCookieIsReplacedAndASetOneKept) {
  const uint64_t standard = x64() ? 0x00002B992DDFA232ull : 0xBB40E64Eull;
  for (const uint64_t initial : {standard, uint64_t{0x1234567}}) {
    SCOPED_TRACE(initial == standard ? "default cookie" : "cookie already set");
    TempDir dir;
    std::vector<std::byte> data(0x40, std::byte{0});
    std::memcpy(data.data(), &initial, ptr());
    PeBuilder b = dll(0, "", {});
    b.add_section({.name = ".data", .data = data, .characteristics = 0xC0000040, .virtual_address = 0x2000});
    b.add_load_config(x64() ? 0x60 : 0x40, dll_base(0) + 0x2000);
    const auto lib = dir.write("gs.dll", b.build());
    std::vector<Event> events;
    Process p(LoadOptions{}, [&](const Event& e) { events.push_back(e); });
    auto m = p.load_library(lib);
    ASSERT_TRUE(m) << m.error().to_string();
    const uint64_t now = view_value(**m, 0x2000, ptr());
    auto cookie = std::find_if(events.begin(), events.end(), [](const Event& e) { return e.step == Step::cookie; });
    if (initial != standard) {
      EXPECT_EQ(now, initial);
      EXPECT_EQ(cookie, events.end());
      continue;
    }
    EXPECT_NE(now, standard);
    EXPECT_NE(now, 0u);
    if (x64()) {
      EXPECT_EQ(now >> 48, 0u);
    }
    ASSERT_NE(cookie, events.end());
    EXPECT_EQ(cookie->module, "gs.dll");
    EXPECT_EQ(cookie->address, (*m)->base + 0x2000);
    EXPECT_EQ(cookie->value, now);
  }
}

// ------------------------------------------------------------------------------------------------ LoadLibrary undo

// A failed LoadLibrary unloads every module it loaded and puts reference counts back: here a new dependency was
// loaded and an existing one referenced before an import failed.
TEST_P(Bind, FailedLoadLibraryRollsBackModulesAndReferences) {
  TempDir dir;
  dir.write("old.dll", dll(0, "old.dll", {{.name = "f"}}).build());
  dir.write("new.dll", dll(1, "new.dll", {{.name = "g"}}).build());
  const auto bad =
      dir.write("bad.dll", importer_dll(2, {{.dll = "new.dll", .entries = {by_name("g")}},
                                            {.dll = "old.dll", .entries = {by_name("f"), by_name("nope")}}})
                               .build());
  Process p(LoadOptions{});
  auto old = p.load_library((dir.path() / "old.dll").string());
  ASSERT_TRUE(old) << old.error().to_string();
  auto r = p.load_library(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, Status::entrypoint_not_found) << r.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"old.dll"}));
  EXPECT_EQ(p.find("old.dll")->references, 1u);
  EXPECT_TRUE(p.find("old.dll")->dependencies.empty());
  // And the process goes on: the same DLLs load afterwards.
  auto fresh = p.load_library("new.dll");
  ASSERT_TRUE(fresh) << fresh.error().to_string();
  EXPECT_EQ((*fresh)->references, 1u);
}

// The rollback must also undo a dependency edge that the failed load added between two modules that were already
// loaded (a forwarder of fwd.dll resolved into host.dll): else a later FreeLibrary of fwd.dll releases host.dll a
// second time, unloading it under the caller's own reference. Regression test: this test found it (e8dedf7).
TEST_P(Bind, FailedLoadLibraryUndoesForwarderEdgesBetweenExistingModules) {
  TempDir dir;
  dir.write("host.dll", dll(0, "host.dll", {{.name = "Real"}}).build());
  dir.write("fwd.dll", dll(1, "fwd.dll", {{.name = "F", .forwarder = "host.Real"}}).build());
  const auto bad =
      dir.write("bad.dll", importer_dll(2, {{.dll = "fwd.dll", .entries = {by_name("F"), by_name("Nope")}}}).build());
  Process p(LoadOptions{});
  ASSERT_TRUE(p.load_library((dir.path() / "host.dll").string()));
  ASSERT_TRUE(p.load_library("fwd.dll"));
  ASSERT_FALSE(p.load_library(bad));
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"host.dll", "fwd.dll"}));
  EXPECT_EQ(p.find("host.dll")->references, 1u);
  EXPECT_TRUE(p.find("fwd.dll")->dependencies.empty()) << "the failed load's forwarder edge is still there";
  ASSERT_TRUE(p.free_library("fwd.dll"));
  ASSERT_NE(p.find("host.dll"), nullptr) << "host.dll was unloaded under LoadLibrary's reference";
  EXPECT_EQ(p.find("host.dll")->references, 1u);
}

// -------------------------------------------------------------------------------------- DONT_RESOLVE_DLL_REFERENCES

// resolve_imports = false: the DLL alone, its IAT as in the file, its dependencies not even looked for.
TEST_P(Bind, DontResolveDllReferencesSkipsMissingDependencies) {
  TempDir dir;
  const auto lib = dir.write("lonely.dll", importer_dll(0, {{.dll = "absent.dll", .entries = {by_name("f")}}}).build());
  LoadOptions o;
  o.resolve_imports = false;
  Process p(std::move(o));
  auto m = p.load_library(lib);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"lonely.dll"}));
  EXPECT_TRUE((*m)->bindings.empty());
  EXPECT_TRUE(p.unresolved().empty());
  EXPECT_EQ((*m)->entry_point, 0u);  // AddressOfEntryPoint 0: a DLL without one ("TLS and entry points")
}

}  // namespace
}  // namespace pemap::ldr::test
