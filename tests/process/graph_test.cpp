// The loader on the compiled testdata graphs (testdata/README.md), x86 and x64: which modules load where, what the
// fixups and IAT slots hold afterwards, compared with what the files themselves say (docs/loader.md, "The steps,
// for each module" and "Relocation").
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"
#include "pe/imports.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"
#include "process/process.hpp"
#include "process_support.hpp"

namespace pemap::ldr::test {
namespace {

using pemap::test::PeBuilder;

class Graph : public testing::TestWithParam<std::string> {
 protected:
  const std::string& arch() const { return GetParam(); }
  bool x64() const { return arch() == "x64"; }
  /// liba.dll's and libb.dll's (shared) preferred base.
  uint64_t lib_base() const { return x64() ? 0x180000000 : 0x10000000; }
  uint8_t fixup_type() const { return x64() ? pe::reloc_type::dir64 : pe::reloc_type::highlow; }
  std::string path(const std::string& file) const { return bin(arch(), file); }
};

INSTANTIATE_TEST_SUITE_P(Testdata, Graph, testing::Values("x86", "x64"), arch_name);

Result<Module*> load_app(Process& p, const std::string& arch, const std::string& exe = "app.exe") {
  return p.load_executable(bin(arch, exe));
}

// ---------------------------------------------------------------------------------------------------- app.exe

// Imports load depth-first in descriptor order, each module once; liba.dll gets its ImageBase, libb.dll (same
// ImageBase) is placed bottom-up on a 64 KiB boundary ("Placement and relocation": try ImageBase first).
TEST_P(Graph, AppLoadsDepthFirstLibaPreferredLibbDisplacedBottomUp) {
  Process p(with_system(arch()));
  auto app = load_app(p, arch());
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"app.exe", "kernel32.dll", "liba.dll", "libb.dll"}));
  EXPECT_EQ(*app, p.modules().front().get());
  EXPECT_TRUE((*app)->executable);
  EXPECT_EQ((*app)->base, x64() ? 0x140000000u : 0x400000u);

  const Module* liba = p.find("liba.dll");
  const Module* libb = p.find("LIBB.DLL");  // module names match without regard to case
  ASSERT_NE(liba, nullptr);
  ASSERT_NE(libb, nullptr);
  EXPECT_EQ(liba->preferred_base, lib_base());
  EXPECT_EQ(liba->base, lib_base());
  EXPECT_EQ(liba->placed, "preferred");
  EXPECT_FALSE(liba->relocated);
  EXPECT_TRUE(liba->relocations.per_type.empty());

  EXPECT_EQ(libb->preferred_base, lib_base());
  EXPECT_NE(libb->base, lib_base());
  EXPECT_EQ(libb->placed, "bottom-up");
  EXPECT_NE(libb->displaced.find("taken"), std::string::npos) << libb->displaced;
  EXPECT_EQ(libb->base % win::kAllocationGranularity, 0u);
  EXPECT_TRUE(libb->relocated);
}

// A displaced image gets every fixup of its relocation table, counted by type; each written page is the view's own
// copy ("Placement and relocation": relocate only when displaced; HIGHLOW for x86, DIR64 for x64).
TEST_P(Graph, DisplacedLibbFixupCountsEqualItsRelocationTable) {
  Process p(with_system(arch()));
  ASSERT_TRUE(load_app(p, arch()));
  const Module* libb = p.find("libb.dll");
  ASSERT_NE(libb, nullptr);

  FileImage file(path("libb.dll"));
  auto relocs = pe::parse_relocations(*file.image);
  ASSERT_TRUE(relocs) << relocs.error().to_string();
  std::map<uint8_t, uint64_t> in_table;
  relocs->for_each([&](const pe::RelocEntry& e) {
    if (e.type != pe::reloc_type::absolute) ++in_table[e.type];
  });
  ASSERT_EQ(in_table.size(), 1u);
  ASSERT_EQ(in_table.begin()->first, fixup_type());
  EXPECT_EQ(in_table.begin()->second, x64() ? 13u : 20u);  // README: x86 8/6/6, x64 1/6/6
  EXPECT_EQ(libb->relocations.per_type, in_table);
  EXPECT_GT(libb->relocations.pages_made_private, 0u);
}

// The mapped header's ImageBase is the base the image got, displaced or not ("Placement and relocation": write the
// new base into the mapped header's ImageBase).
TEST_P(Graph, MappedHeaderImageBaseIsTheActualBase) {
  Process p(with_system(arch()));
  ASSERT_TRUE(load_app(p, arch()));
  for (const auto& m : p.modules()) {
    const pe::Image& image = m->section->image();
    const uint64_t field = image.optional_header_offset() + (image.is_pe32plus() ? 24 : 28);
    EXPECT_EQ(view_value(*m, field, image.pointer_size()), m->base) << m->name;
  }
}

// Each IAT slot holds its Binding's address, and that is the target's base plus the export's RVA as the target file
// says; one Binding per import of the file ("Imports": by name, hint first).
TEST_P(Graph, EveryIatSlotHoldsTheTargetsExportAddress) {
  Process p(with_system(arch()));
  ASSERT_TRUE(load_app(p, arch()));
  uint64_t checked = 0;
  for (const auto& m : p.modules()) {
    FileImage file(m->path);
    auto imports = pe::parse_imports(*file.image);
    ASSERT_TRUE(imports);
    EXPECT_EQ(m->bindings.size(), imports->entry_count()) << m->name;
    for (const auto& b : m->bindings) {
      SCOPED_TRACE(m->name.str() + " " + std::string(b.dll()) + "!" + b.function());
      EXPECT_EQ(view_value(*m, b.iat_rva, pointer_size(*m)), b.address);
      EXPECT_TRUE(b.chain().empty());
      const auto bang = b.target().find('!');
      ASSERT_NE(bang, std::string::npos) << b.target();
      const Module* target = p.find(b.target().substr(0, bang));
      ASSERT_NE(target, nullptr);
      EXPECT_EQ(b.target().substr(bang + 1), b.function());
      const uint32_t rva = PefileExports(target->path).export_rva(b.function());
      ASSERT_NE(rva, 0u);
      EXPECT_EQ(b.address, target->base + rva);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 11u);  // app: 1 + 5 + 4, libb: 1
  const Module* app = p.find("app.exe");
  // The hints of app.exe are real name-table indexes (README), so liba's and libb's imports go by hint.
  for (const auto& b : app->bindings)
    if (b.dll() != "KERNEL32.dll") {
      EXPECT_EQ(b.how, How::hint) << b.function();
    }
}

// Reference counts: liba.dll is imported by app.exe and libb.dll; each module lists what it loaded.
TEST_P(Graph, LibaIsReferencedByAppAndLibb) {
  Process p(with_system(arch()));
  ASSERT_TRUE(load_app(p, arch()));
  EXPECT_EQ(p.find("liba.dll")->references, 2u);
  EXPECT_EQ(p.find("libb.dll")->references, 1u);
  EXPECT_EQ(p.find("kernel32.dll")->references, 1u);
  EXPECT_EQ(p.find("app.exe")->references, 1u);
  auto names = [](const Module* m) {
    std::vector<std::string> out;
    for (const Module* d : m->dependencies) out.push_back(d->name);
    return out;
  };
  EXPECT_EQ(names(p.find("app.exe")), (std::vector<std::string>{"kernel32.dll", "liba.dll", "libb.dll"}));
  EXPECT_EQ(names(p.find("libb.dll")), (std::vector<std::string>{"liba.dll"}));
  EXPECT_TRUE(p.find("liba.dll")->dependencies.empty());
}

// DllMain order: every module after the modules it depends on, the executable last ("TLS and entry points").
TEST_P(Graph, InitializationOrderPutsDependenciesFirst) {
  Process p(with_system(arch()));
  ASSERT_TRUE(load_app(p, arch()));
  const auto order = p.initialization_order();
  std::vector<std::string> names;
  for (const Module* m : order) names.push_back(m->name);
  EXPECT_EQ(names, (std::vector<std::string>{"kernel32.dll", "liba.dll", "libb.dll", "app.exe"}));
  ASSERT_EQ(order.size(), p.modules().size());
  for (size_t i = 0; i < order.size(); ++i)
    for (const Module* d : order[i]->dependencies) {
      const auto at = std::find(order.begin(), order.end(), d);
      EXPECT_LT(at - order.begin(), static_cast<ptrdiff_t>(i)) << d->name << " after " << order[i]->name;
    }
}

// libb.dll's view is the image object's bytes with exactly these changes: every HIGHLOW/DIR64 fixup plus the delta,
// the header's ImageBase, the IAT slots bound. Nothing else moved ("Placement and relocation").
TEST_P(Graph, LibbViewIsTheImageObjectPlusDeltaAtEachFixup) {
  Process p(with_system(arch()));
  ASSERT_TRUE(load_app(p, arch()));
  const Module* libb = p.find("libb.dll");
  ASSERT_NE(libb, nullptr);
  const uint64_t delta = libb->base - libb->preferred_base;
  ASSERT_NE(delta, 0u);
  const pe::Image& image = libb->section->image();
  const unsigned width = image.pointer_size();
  auto expected = libb->section->read(0, libb->section->size());
  ASSERT_EQ(expected.size(), libb->section->size());
  auto get = [&](uint64_t rva) {
    uint64_t v = 0;
    std::memcpy(&v, expected.data() + rva, width);
    return v;
  };
  auto put = [&](uint64_t rva, uint64_t v) { std::memcpy(expected.data() + rva, &v, width); };

  auto relocs = pe::parse_relocations(image);
  ASSERT_TRUE(relocs);
  std::set<std::string> sections_fixed;
  const auto actual = libb->image_bytes();
  relocs->for_each([&](const pe::RelocEntry& e) {
    if (e.type == pe::reloc_type::absolute) return;
    const uint64_t old = get(e.rva);
    const uint64_t want = width == 4 ? static_cast<uint32_t>(old + delta) : old + delta;
    uint64_t got = 0;
    std::memcpy(&got, actual.data() + e.rva, width);
    EXPECT_EQ(got, want) << "fixup at RVA 0x" << std::hex << e.rva;
    put(e.rva, want);
    if (const auto* s = image.section_at(e.rva)) sections_fixed.insert(std::string(s->name));
  });
  // README: libb.dll has fixups in .text, .data and .rdata.
  EXPECT_EQ(sections_fixed, (std::set<std::string>{".text", ".data", ".rdata"}));
  put(image.optional_header_offset() + (image.is_pe32plus() ? 24 : 28), libb->base);
  for (const auto& b : libb->bindings) put(b.iat_rva, b.address);

  ASSERT_EQ(actual.size(), expected.size());
  size_t differing = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    if (actual[i] != expected[i] && ++differing <= 5) ADD_FAILURE() << "byte at RVA 0x" << std::hex << i;
  EXPECT_EQ(differing, 0u);
}

// Events: the executable is found, given a section, mapped and (not) relocated before anything else; each module
// is reported loaded once; the load ends with the executable's loaded event.
TEST_P(Graph, EventsStartWithTheExecutableAndEachModuleIsLoadedOnce) {
  std::vector<Event> events;
  Process p(with_system(arch()), [&](const Event& e) { events.push_back(e); });
  ASSERT_TRUE(load_app(p, arch()));
  ASSERT_GE(events.size(), 4u);
  const Step first[] = {Step::find, Step::section, Step::map, Step::relocate};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(events[i].step, first[i]) << i << ": " << step_name(events[i].step);
    EXPECT_EQ(events[i].module, "app.exe") << i;
    EXPECT_EQ(events[i].depth, 0u) << i;
  }
  EXPECT_EQ(events[0].path, path("app.exe"));
  EXPECT_EQ(events[2].address, p.find("app.exe")->base);
  EXPECT_EQ(events[3].delta, 0);
  EXPECT_EQ(events.back().step, Step::loaded);
  EXPECT_EQ(events.back().module, "app.exe");

  std::map<std::string, int> loaded;
  for (const auto& e : events)
    if (e.step == Step::loaded) ++loaded[e.module];
  EXPECT_EQ(loaded.size(), p.modules().size());
  for (const auto& m : p.modules()) EXPECT_EQ(loaded[m->name], 1) << m->name;

  // libb.dll's map and relocate events say where it went and what was fixed.
  const Module* libb = p.find("libb.dll");
  auto map = std::find_if(events.begin(), events.end(),
                          [](const Event& e) { return e.step == Step::map && e.module == "libb.dll"; });
  ASSERT_NE(map, events.end());
  EXPECT_EQ(map->how, "bottom-up");
  EXPECT_EQ(map->preferred, lib_base());
  EXPECT_EQ(map->address, libb->base);
  auto reloc = std::find_if(map, events.end(), [](const Event& e) { return e.step == Step::relocate; });
  ASSERT_NE(reloc, events.end());
  EXPECT_EQ(reloc->module, "libb.dll");
  EXPECT_EQ(reloc->delta, static_cast<int64_t>(libb->base - lib_base()));
  EXPECT_EQ(reloc->counts, (std::map<std::string, uint64_t>{{x64() ? "DIR64" : "HIGHLOW", x64() ? 13u : 20u}}));
  EXPECT_EQ(reloc->count, libb->relocations.pages_made_private);
}

// ----------------------------------------------------------------------------------------------------- fixed.dll

// RELOCS_STRIPPED and displaced: STATUS_CONFLICTING_ADDRESSES; LoadLibrary undoes the failed load, so the module
// list and reference counts are as before ("Placement and relocation").
TEST_P(Graph, StrippedFixedDllIsRefusedWhileLibaHoldsItsBase) {
  std::vector<Event> events;
  Process p(LoadOptions{}, [&](const Event& e) { events.push_back(e); });
  auto liba = p.load_library(path("liba.dll"));
  ASSERT_TRUE(liba) << liba.error().to_string();
  ASSERT_EQ((*liba)->base, lib_base());
  const auto before = module_names(p);

  auto fixed = p.load_library(path("fixed.dll"));
  ASSERT_FALSE(fixed);
  EXPECT_EQ(fixed.error().status, Status::conflicting_addresses) << fixed.error().to_string();
  EXPECT_EQ(module_names(p), before);
  EXPECT_EQ(p.find("fixed.dll"), nullptr);
  EXPECT_EQ(p.find("liba.dll")->references, 1u);
  EXPECT_EQ(events.back().step, Step::failed);
  EXPECT_EQ(events.back().module, "fixed.dll");
}

// The same file loads at its preferred base when that is free: it is refused only for being displaced.
TEST_P(Graph, StrippedFixedDllLoadsAtAFreePreferredBase) {
  Process p(LoadOptions{});
  auto fixed = p.load_library(path("fixed.dll"));
  ASSERT_TRUE(fixed) << fixed.error().to_string();
  EXPECT_EQ((*fixed)->base, lib_base());
  EXPECT_FALSE((*fixed)->relocated);
}

// ---------------------------------------------------------------------------------------------------- fwdapp.exe

// Forwarders: "DLL.Name" and "DLL.#N" are followed to the end of the chain, each step recorded; the forwarder's DLL
// gets ".dll" appended and is matched without regard to case, so "LIBB" is the libb.dll already loaded ("Imports").
TEST_P(Graph, ForwarderChainsEndAtTheRealExports) {
  Process p(with_system(arch()));
  auto app = load_app(p, arch(), "fwdapp.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* liba = p.find("liba.dll");
  const Module* libb = p.find("libb.dll");
  ASSERT_NE(liba, nullptr);
  ASSERT_NE(libb, nullptr);
  ASSERT_NE(p.find("fwd1.dll"), nullptr);
  ASSERT_NE(p.find("fwd2.dll"), nullptr);
  PefileExports liba_file(liba->path), libb_file(libb->path);

  const Binding* chain = binding(**app, "Chain");
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(chain->dll(), "fwd1.dll");
  EXPECT_EQ(chain->chain(), (std::vector<std::string>{"fwd1.dll!Chain", "fwd2.dll!Chain"}));
  EXPECT_EQ(chain->target(), "liba.dll!liba_add");
  EXPECT_EQ(chain->address, liba->base + liba_file.export_rva("liba_add"));

  const Binding* by_ord = binding(**app, "ByOrd");
  ASSERT_NE(by_ord, nullptr);
  EXPECT_EQ(by_ord->chain(), (std::vector<std::string>{"fwd1.dll!ByOrd"}));
  EXPECT_EQ(by_ord->target(), "liba.dll!liba_mul");  // liba.#2 is liba_mul
  EXPECT_EQ(by_ord->how, How::ordinal);
  EXPECT_EQ(by_ord->address, liba->base + liba_file.ordinal_rva(2));
  EXPECT_EQ(liba_file.ordinal_rva(2), liba_file.export_rva("liba_mul"));

  const Binding* to_b = binding(**app, "ToB");
  const Binding* to_b_upper = binding(**app, "ToBUpper");
  ASSERT_NE(to_b, nullptr);
  ASSERT_NE(to_b_upper, nullptr);
  EXPECT_EQ(to_b->chain(), (std::vector<std::string>{"fwd1.dll!ToB"}));
  EXPECT_EQ(to_b_upper->chain(), (std::vector<std::string>{"fwd1.dll!ToBUpper"}));
  EXPECT_EQ(to_b->target(), "libb.dll!libb_twice");
  EXPECT_EQ(to_b_upper->target(), "libb.dll!libb_twice");
  EXPECT_EQ(to_b->address, libb->base + libb_file.export_rva("libb_twice"));
  EXPECT_EQ(to_b_upper->address, to_b->address);

  for (const char* f : {"Chain", "ByOrd", "ToB", "ToBUpper"})
    EXPECT_EQ(view_value(**app, binding(**app, f)->iat_rva, pointer_size(**app)), binding(**app, f)->address) << f;
  // libb.dll once, referenced once: fwd1.dll's two forwarders to it share one dependency.
  EXPECT_EQ(std::count_if(p.modules().begin(), p.modules().end(),
                          [](const auto& m) { return m->name == ModuleName("libb.dll"); }),
            1);
  EXPECT_EQ(libb->references, 1u);
  const auto& fwd1_deps = p.find("fwd1.dll")->dependencies;
  EXPECT_EQ(std::count(fwd1_deps.begin(), fwd1_deps.end(), libb), 1);
  EXPECT_EQ(std::count(fwd1_deps.begin(), fwd1_deps.end(), liba), 1);
  // liba.dll: fwd1.dll (ByOrd), fwd2.dll (Chain), libb.dll (its import).
  EXPECT_EQ(liba->references, 3u);
}

// ---------------------------------------------------------------------------------------------------- ordapp.exe

// By ordinal: ordinal minus the export Base; by name with a hint that is no name-table index (GNU import libraries
// write the ordinal): the binary search finds it ("Imports").
TEST_P(Graph, OrdinalImportsAndAHintThatIsNoNameIndex) {
  Process p(with_system(arch()));
  auto app = load_app(p, arch(), "ordapp.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* ordlib = p.find("ordlib.dll");
  ASSERT_NE(ordlib, nullptr);
  FileImage lib(ordlib->path);
  PefileExports lib_pefile(ordlib->path);
  ASSERT_EQ(lib.exports().directory.Base, 5u);
  for (uint32_t ordinal : {5u, 6u, 10u}) {
    const Binding* b = binding(**app, "#" + std::to_string(ordinal));
    ASSERT_NE(b, nullptr) << ordinal;
    EXPECT_EQ(b->how, How::ordinal);
    EXPECT_EQ(b->target(), "ordlib.dll!#" + std::to_string(ordinal));
    ASSERT_NE(lib_pefile.ordinal_rva(ordinal), 0u);
    EXPECT_EQ(b->address, ordlib->base + lib_pefile.ordinal_rva(ordinal));
    EXPECT_EQ(view_value(**app, b->iat_rva, pointer_size(**app)), b->address);
  }
  FileImage app_file(path("ordapp.exe"));
  auto imports = pe::parse_imports(*app_file.image);
  ASSERT_TRUE(imports);
  uint16_t hint = 0;
  for (const auto& im : imports->modules)
    for (const auto& e : im.entries)
      if (e.name == "ord_named") hint = e.hint;
  ASSERT_EQ(hint, 7u);                                   // the ordinal ...
  ASSERT_EQ(lib.exports().directory.NumberOfNames, 1u);  // ... while the only name index is 0
  const Binding* named = binding(**app, "ord_named");
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(named->how, How::binary_search);
  EXPECT_EQ(named->address, ordlib->base + lib_pefile.export_rva("ord_named"));
}

// ---------------------------------------------------------------------------------------------------- apiset.exe

// API-set names go through the schema to their host: both contracts to kernelbase.dll, the Binding keeping the name
// the importer wrote ("Imports": API set names are resolved through a schema).
TEST_P(Graph, ApiSetImportsBindToKernelbase) {
  std::vector<Event> events;
  Process p(with_system(arch()), [&](const Event& e) { events.push_back(e); });
  auto app = load_app(p, arch(), "apiset.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"apiset.exe", "kernelbase.dll"}));
  const Module* kb = p.find("kernelbase.dll");
  PefileExports kb_file(kb->path);
  const Binding* sleep = binding(**app, "Sleep");
  const Binding* exit = binding(**app, "ExitProcess");
  ASSERT_NE(sleep, nullptr);
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(sleep->dll(), "api-ms-win-core-synch-l1-2-0.dll");
  EXPECT_EQ(exit->dll(), "api-ms-win-core-processthreads-l1-1-0.dll");
  EXPECT_EQ(sleep->target(), "kernelbase.dll!Sleep");
  EXPECT_EQ(exit->target(), "kernelbase.dll!ExitProcess");
  EXPECT_EQ(sleep->address, kb->base + kb_file.export_rva("Sleep"));
  EXPECT_EQ(exit->address, kb->base + kb_file.export_rva("ExitProcess"));
  // Two contracts, one host: apiset.exe depends on kernelbase.dll once, as fwd1.dll on libb.dll for two forwarders.
  EXPECT_EQ(kb->references, 1u);
  ASSERT_EQ((*app)->dependencies.size(), 1u);
  EXPECT_EQ((*app)->dependencies[0], kb);
  const auto apiset = std::find_if(events.begin(), events.end(), [](const Event& e) { return e.step == Step::apiset; });
  ASSERT_NE(apiset, events.end());
  EXPECT_TRUE(apiset->ok);
  EXPECT_EQ(apiset->target, "kernelbase.dll");
  EXPECT_TRUE(ModuleName(apiset->module).is_api_set()) << apiset->module;
}

// A user schema entry (ApiSetSchema::set) replaces the built-in host of a contract.
TEST_P(Graph, SchemaSetRedirectsAContract) {
  LoadOptions o = with_system(arch());
  o.api_sets.set("api-ms-win-core-processthreads-l1-1-0.dll", "kernel32.dll");
  Process p(std::move(o));
  auto app = load_app(p, arch(), "apiset.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* k32 = p.find("kernel32.dll");
  ASSERT_NE(k32, nullptr);
  const Binding* exit = binding(**app, "ExitProcess");
  EXPECT_EQ(exit->target(), "kernel32.dll!ExitProcess");
  EXPECT_EQ(exit->address, k32->base + PefileExports(k32->path).export_rva("ExitProcess"));
  EXPECT_EQ(binding(**app, "Sleep")->target(), "kernelbase.dll!Sleep");  // the other contract is unchanged
}

// A schema file ("contract host" lines, '#' comments) loaded with load_file overrides the table the same way.
TEST_P(Graph, SchemaFileRedirectsAContract) {
  TempDir dir;
  const std::string file = (dir.path() / "apiset.txt").string();
  std::ofstream(file) << "# user schema\n\n"
                         "  api-ms-win-core-processthreads-l1-1-0   kernel32   # patch number and .dll optional\n";
  LoadOptions o = with_system(arch());
  auto loaded = o.api_sets.load_file(file);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  Process p(std::move(o));
  auto app = load_app(p, arch(), "apiset.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(binding(**app, "ExitProcess")->target(), "kernel32.dll!ExitProcess");
  EXPECT_EQ(binding(**app, "Sleep")->target(), "kernelbase.dll!Sleep");
}

// A contract with no host (an empty host in the schema, or no entry at all) fails like a missing DLL, and the failed
// load leaves nothing behind.
TEST_P(Graph, ContractWithoutHostIsDllNotFound) {
  for (bool empty_schema : {false, true}) {
    SCOPED_TRACE(empty_schema ? "no such contract" : "empty host");
    LoadOptions o = with_system(arch());
    if (empty_schema)
      o.api_sets = ApiSetSchema{};
    else
      o.api_sets.set("api-ms-win-core-synch-l1-2-0", "");
    Process p(std::move(o));
    auto app = load_app(p, arch(), "apiset.exe");
    ASSERT_FALSE(app);
    EXPECT_EQ(app.error().status, Status::dll_not_found) << app.error().to_string();
    EXPECT_NE(app.error().message.find("api-ms-win-core-"), std::string::npos) << app.error().message;
    EXPECT_TRUE(p.modules().empty());
  }
}

// --------------------------------------------------------------------------------------- kernel32!Sleep, the stubs

// kernel32.dll!Sleep forwards to api-ms-win-core-synch-l1-2-0.Sleep, which the schema sends to kernelbase.dll: an
// importer of kernel32!Sleep is bound to kernelbase.dll!Sleep, and kernel32.dll now depends on kernelbase.dll
// ("Imports": forwarders and API sets together).
TEST_P(Graph, Kernel32SleepForwardsThroughTheApiSetToKernelbase) {
  TempDir dir;
  const std::string exe =
      dir.write("sleeper.exe", exe_builder(x64(), {{.dll = "KERNEL32.dll", .entries = {by_name("Sleep")}}}).build());
  Process p(with_system(arch()));
  auto app = p.load_executable(exe);
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"sleeper.exe", "kernel32.dll", "kernelbase.dll"}));
  const Module* k32 = p.find("kernel32.dll");
  const Module* kb = p.find("kernelbase.dll");
  const Binding* sleep = binding(**app, "Sleep");
  ASSERT_NE(sleep, nullptr);
  EXPECT_EQ(sleep->chain(), (std::vector<std::string>{"kernel32.dll!Sleep"}));
  EXPECT_EQ(sleep->target(), "kernelbase.dll!Sleep");
  EXPECT_EQ(sleep->address, kb->base + PefileExports(kb->path).export_rva("Sleep"));
  EXPECT_EQ(view_value(**app, sleep->iat_rva, pointer_size(**app)), sleep->address);
  ASSERT_EQ(k32->dependencies.size(), 1u);
  EXPECT_EQ(k32->dependencies[0], kb);
  const auto order = p.initialization_order();
  EXPECT_LT(std::find(order.begin(), order.end(), kb), std::find(order.begin(), order.end(), k32));
}

// kernel32.dll alone has no imports: loading it loads nothing else; its Sleep forwarder waits for an importer.
TEST_P(Graph, Kernel32AloneLoadsNothingElse) {
  Process p(with_system(arch()));
  auto k32 = p.load_library("kernel32.dll");
  ASSERT_TRUE(k32) << k32.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"kernel32.dll"}));
  EXPECT_TRUE((*k32)->bindings.empty());
  const auto& exports = (*k32)->exports();
  const auto found = exports.by_name("Sleep", 0);
  ASSERT_TRUE(found.entry.has_value());
  EXPECT_EQ(found.entry->forwarder, "api-ms-win-core-synch-l1-2-0.Sleep");
}

// ---------------------------------------------------------------------------------------------------- missing.exe

// Without allow_missing the first import that cannot be resolved (liba.dll!liba_no_such_function, in descriptor
// order before nosuch.dll) fails the load with STATUS_ENTRYPOINT_NOT_FOUND, and nothing stays loaded.
// Windows 8 on maps the whole graph before it fills a slot: the missing DLL is reported, not the missing function.
TEST_P(Graph, MissingImportFailsTheLoadAndLeavesNothingLoaded) {
  Process p(with_system(arch()));
  auto app = load_app(p, arch(), "missing.exe");
  ASSERT_FALSE(app);
  EXPECT_EQ(app.error().status, Status::dll_not_found) << app.error().to_string();
  EXPECT_NE(app.error().to_string().find("nosuch.dll, imported by missing.exe"), std::string::npos)
      << app.error().to_string();
  EXPECT_TRUE(p.modules().empty());
}

// One process, one machine: an x64 kernel32.dll found for an x86 app.exe is refused (Windows: ERROR_BAD_EXE_FORMAT),
// naming the DLL, its file and its importer, instead of being bound with its addresses cut to 32 bits.
TEST(GraphMachines, ADllOfTheOtherBitnessIsPassedOver) {
  LoadOptions o;
  o.search_dirs = {system_dir("x64")};
  std::vector<Event> events;
  Process p(std::move(o), [&](const Event& e) { events.push_back(e); });
  auto app = load_app(p, "x86", "app.exe");
  ASSERT_FALSE(app);
  // The PE32+ kernel32.dll is not loaded into the PE32 process: the search passes over it and finds no other.
  EXPECT_EQ(app.error().status, Status::dll_not_found) << app.error().to_string();
  EXPECT_TRUE(p.modules().empty());
  auto skip = std::find_if(events.begin(), events.end(),
                           [](const Event& e) { return e.step == Step::find && !e.ok && !e.path.empty(); });
  ASSERT_NE(skip, events.end());
  EXPECT_EQ(skip->path, (fs::path(system_dir("x64")) / "kernel32.dll").string());
  EXPECT_EQ(skip->reason, "a PE32+ image; the process is PE32");
}

// A DLL of the process's bitness but another machine is still refused when it is mapped (ERROR_BAD_EXE_FORMAT).
TEST(GraphMachines, ADllOfAnotherMachineIsRefused) {
  TempDir dir;
  fs::copy_file(bin("x64", "app.exe"), dir.path() / "app.exe");
  fs::copy_file(bin("x64", "liba.dll"), dir.path() / "liba.dll");
  fs::copy_file(bin("x64", "libb.dll"), dir.path() / "libb.dll");
  fs::copy_file(bin("x64", "system/kernel32.dll"), dir.path() / "kernel32.dll");
  // liba.dll becomes an ARM64 image: PE32+ still, so the search takes it.
  std::fstream f(dir.path() / "liba.dll", std::ios::in | std::ios::out | std::ios::binary);
  uint32_t lfanew = 0;
  f.seekg(0x3c);
  f.read(reinterpret_cast<char*>(&lfanew), 4);
  const uint16_t arm64 = 0xAA64;
  f.seekp(lfanew + 4);
  f.write(reinterpret_cast<const char*>(&arm64), 2);
  f.close();
  LoadOptions o = with_system("x64");
  Process p(std::move(o));
  auto app = p.load_executable((dir.path() / "app.exe").string());
  ASSERT_FALSE(app);
  EXPECT_EQ(app.error().status, Status::invalid_image_format) << app.error().to_string();
  EXPECT_EQ(app.error().win32, 193u);
  EXPECT_NE(app.error().message.find("machine 0xaa64"), std::string::npos) << app.error().message;
  EXPECT_TRUE(p.modules().empty());
}

// --allow-missing traps what is absent, never a DLL that is there but broken: a forwarder into a fwd2.dll that is
// not a PE fails the load, as it would on Windows, and leaves nothing half loaded.
TEST_P(Graph, AllowMissingDoesNotHideABrokenForwarderTarget) {
  TempDir dir;
  for (const char* f : {"fwdapp.exe", "fwd1.dll", "liba.dll", "libb.dll"})
    fs::copy_file(bin(arch()) / f, dir.path() / f);
  std::ofstream(dir.path() / "fwd2.dll") << "not a PE";
  LoadOptions o = with_system(arch());
  o.allow_missing = true;
  Process p(std::move(o));
  auto app = p.load_executable((dir.path() / "fwdapp.exe").string());
  ASSERT_FALSE(app);
  EXPECT_EQ(app.error().status, Status::invalid_image_not_mz) << app.error().to_string();
  EXPECT_NE(app.error().message.find("fwd2.dll"), std::string::npos) << app.error().message;
  EXPECT_TRUE(p.modules().empty());
}

// With every DLL there (liba.dll copied as nosuch.dll), the first missing function fails the load.
TEST_P(Graph, MissingFunctionFailsTheLoadOnceEveryDllIsFound) {
  TempDir dir;
  fs::copy_file(bin(arch()) / "liba.dll", dir.path() / "nosuch.dll");
  LoadOptions o = with_system(arch());
  o.search_dirs.push_back(dir.path().string());
  Process p(std::move(o));
  auto app = load_app(p, arch(), "missing.exe");
  ASSERT_FALSE(app);
  EXPECT_EQ(app.error().status, Status::entrypoint_not_found) << app.error().to_string();
  EXPECT_NE(app.error().to_string().find("liba_no_such_function"), std::string::npos) << app.error().to_string();
  EXPECT_TRUE(p.modules().empty());
}

// With allow_missing each missing function gets a trap address of its own, below 4 GiB (a PE32 IAT can hold it),
// written to its IAT slot; the trap table names the function back; the DLL that is missing is dll_not_found.
TEST_P(Graph, AllowMissingBindsEachMissingImportToItsOwnTrap) {
  LoadOptions o = with_system(arch());
  o.allow_missing = true;
  Process p(std::move(o));
  auto app = load_app(p, arch(), "missing.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"missing.exe", "liba.dll", "kernel32.dll"}));
  const auto& un = p.unresolved();
  ASSERT_EQ(un.size(), 2u);
  EXPECT_EQ(un[0].importer_name(), "missing.exe");
  EXPECT_EQ(un[0].dll(), "liba.dll");
  EXPECT_EQ(un[0].function(), "liba_no_such_function");
  EXPECT_EQ(un[0].status(), Status::entrypoint_not_found);
  EXPECT_EQ(un[1].importer_name(), "missing.exe");
  EXPECT_EQ(un[1].dll(), "nosuch.dll");
  EXPECT_EQ(un[1].function(), "nosuch_function");
  EXPECT_EQ(un[1].status(), Status::dll_not_found);
  EXPECT_NE(un[0].trap(), un[1].trap());
  for (const auto& u : un) {
    SCOPED_TRACE(u.function());
    EXPECT_NE(u.trap(), 0u);
    EXPECT_LT(u.trap(), 0x1'0000'0000u);
    const Binding* b = binding(**app, u.function());
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->how, How::trap);
    EXPECT_EQ(b->address, u.trap());
    EXPECT_TRUE(b->target().empty());
    EXPECT_EQ(view_value(**app, b->iat_rva, pointer_size(**app)), u.trap());
    EXPECT_EQ(p.traps().name_at(u.trap()), std::string(u.dll()) + "!" + u.function());
    const auto q = win::virtual_query(reinterpret_cast<const void*>(u.trap()));
    ASSERT_TRUE(q);
    EXPECT_EQ(q->protect, 0u);  // reserved, inaccessible: a call there faults
    EXPECT_EQ(q->state, win::MEM_RESERVE);
  }
  // The imports that exist are bound as usual.
  const Module* liba = p.find("liba.dll");
  EXPECT_EQ(binding(**app, "liba_add")->address, liba->base + PefileExports(liba->path).export_rva("liba_add"));
}

// --------------------------------------------------------------------------------------------------- delayapp.exe

// Delay-load imports are not resolved at load time: liba.dll stays unloaded, its delay IAT untouched
// ("Imports": delay-load imports are not resolved at load time).
TEST_P(Graph, DelayImportsAreLeftForTheFirstCall) {
  Process p(with_system(arch()));
  auto app = load_app(p, arch(), "delayapp.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(p.find("liba.dll"), nullptr);
  EXPECT_EQ((*app)->delay_dlls, (std::vector<std::string>{"liba.dll"}));
  for (const auto& b : (*app)->bindings) EXPECT_FALSE(b.delay) << b.function();
  FileImage file(path("delayapp.exe"));
  auto delay = pe::parse_delay_imports(*file.image);
  ASSERT_TRUE(delay);
  ASSERT_EQ(delay->modules.size(), 1u);
  for (const auto& e : delay->modules[0].entries) {
    auto in_file = file.image->read_pointer(e.iat_rva, "delay IAT");
    ASSERT_TRUE(in_file);
    EXPECT_EQ(view_value(**app, e.iat_rva, pointer_size(**app)), *in_file) << e.name;
  }
}

// bind_delay: each delay-load import bound now, as if called: liba.dll loaded, the delay IAT holds its exports.
TEST_P(Graph, BindDelayBindsTheDelayIatNow) {
  LoadOptions o = with_system(arch());
  o.bind_delay = true;
  Process p(std::move(o));
  auto app = load_app(p, arch(), "delayapp.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  const Module* liba = p.find("liba.dll");
  ASSERT_NE(liba, nullptr);
  EXPECT_EQ((*app)->delay_dlls, (std::vector<std::string>{"liba.dll"}));
  PefileExports liba_file(liba->path);
  int delayed = 0;
  for (const auto& b : (*app)->bindings) {
    if (!b.delay) continue;
    ++delayed;
    EXPECT_EQ(b.dll(), "liba.dll");
    EXPECT_EQ(b.target(), "liba.dll!" + b.function());
    EXPECT_EQ(b.address, liba->base + liba_file.export_rva(b.function())) << b.function();
    EXPECT_EQ(view_value(**app, b.iat_rva, pointer_size(**app)), b.address) << b.function();
  }
  EXPECT_EQ(delayed, 2);  // liba_add, liba_mul
  ASSERT_NE(binding(**app, "liba_add", true), nullptr);
  ASSERT_NE(binding(**app, "liba_mul", true), nullptr);
}

// -------------------------------------------------------------------------------------------------------- tls.exe

// TLS callbacks are VAs and move with the image; the entry point is base + AddressOfEntryPoint ("TLS and entry
// points").
TEST_P(Graph, TlsCallbacksMoveWithAForcedBase) {
  const uint64_t forced = x64() ? 0x2'0000'0000 : 0x2000'0000;
  LoadOptions o = with_system(arch());
  o.forced_bases["tls.exe"] = forced;
  Process p(std::move(o));
  auto app = load_app(p, arch(), "tls.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  const Module& m = **app;
  EXPECT_EQ(m.base, forced);
  EXPECT_EQ(m.placed, "forced");
  EXPECT_TRUE(m.relocated);
  FileImage file(path("tls.exe"));
  auto tls = pe::parse_tls(*file.image);
  ASSERT_TRUE(tls);
  ASSERT_EQ(tls->callbacks.size(), 2u);
  const uint64_t delta = forced - file.image->image_base();
  std::vector<uint64_t> want;
  for (uint64_t cb : tls->callbacks) want.push_back(cb + delta);
  EXPECT_EQ(m.tls_callbacks, want);
  EXPECT_EQ(m.entry_point, forced + file.image->optional_header().address_of_entry_point);
}

// The same image at its preferred base: callbacks as the file has them.
TEST_P(Graph, TlsCallbacksAtThePreferredBaseAreTheFilesVAs) {
  Process p(with_system(arch()));
  auto app = load_app(p, arch(), "tls.exe");
  ASSERT_TRUE(app) << app.error().to_string();
  FileImage file(path("tls.exe"));
  ASSERT_EQ((*app)->base, file.image->image_base());
  EXPECT_EQ((*app)->tls_callbacks, pe::parse_tls(*file.image)->callbacks);
}

// ------------------------------------------------------------------------------------------------- forced bases

// A forced base must be 64 KiB aligned, not 0, free, and inside the format's address range; each refusal is
// STATUS_CONFLICTING_ADDRESSES saying which rule, and leaves the module list as it was.
TEST_P(Graph, ForcedBaseRefusals) {
  {
    SCOPED_TRACE("unaligned");
    LoadOptions o;
    o.forced_bases["liba.dll"] = lib_base() + 0x1000;
    Process p(std::move(o));
    auto r = p.load_library(path("liba.dll"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, Status::conflicting_addresses);
    EXPECT_NE(r.error().message.find("64 KiB"), std::string::npos) << r.error().message;
    EXPECT_TRUE(p.modules().empty());
  }
  {
    SCOPED_TRACE("zero: MapViewOfFileEx's NULL, which would place it anywhere");
    LoadOptions o;
    o.forced_bases["liba.dll"] = 0;
    Process p(std::move(o));
    auto r = p.load_library(path("liba.dll"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, Status::conflicting_addresses);
    EXPECT_NE(r.error().message.find("forced base 0:"), std::string::npos) << r.error().message;
    EXPECT_TRUE(p.modules().empty());
  }
  {
    SCOPED_TRACE("taken");
    LoadOptions o;
    o.forced_bases["libb.dll"] = lib_base();
    Process p(std::move(o));
    ASSERT_TRUE(p.load_library(path("liba.dll")));
    auto r = p.load_library(path("libb.dll"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, Status::conflicting_addresses) << r.error().to_string();
    EXPECT_EQ(module_names(p), (std::vector<std::string>{"liba.dll"}));
    EXPECT_EQ(p.find("liba.dll")->references, 1u);
  }
  if (!x64()) {
    SCOPED_TRACE("PE32 above 4 GiB");
    LoadOptions o;
    o.forced_bases["liba.dll"] = 0x1'0000'0000;
    Process p(std::move(o));
    auto r = p.load_library(path("liba.dll"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, Status::conflicting_addresses);
    FileImage file(path("liba.dll"));
    const std::string limit = fmt::format("must end below {:#x}", address_limit(*file.image));
    EXPECT_LE(address_limit(*file.image), 0x1'0000'0000u);
    EXPECT_NE(r.error().message.find(limit), std::string::npos) << r.error().message;
    EXPECT_TRUE(p.modules().empty());
  }
}

// ---------------------------------------------------------------------------------------------------------- ASLR

uint64_t aslr_base(const std::string& arch, uint64_t seed) {
  LoadOptions o;
  o.placement.aslr_seed = seed;
  Process p(std::move(o));
  auto liba = p.load_library(bin(arch, "liba.dll"));
  if (!liba) {
    ADD_FAILURE() << liba.error().to_string();
    return 0;
  }
  EXPECT_EQ((*liba)->placed, "aslr");
  EXPECT_EQ((*liba)->base % win::kAllocationGranularity, 0u);
  // Wherever it went, it was relocated by the whole table.
  EXPECT_EQ((*liba)->relocated, (*liba)->base != (*liba)->preferred_base);
  return (*liba)->base;
}

// DYNAMIC_BASE with a seed: a random 64 KiB-aligned base that follows from the seed alone, so a second process with
// the same seed puts the image at the same base, and other seeds elsewhere ("Placement and relocation": Windows
// picks an ASLR address for DYNAMIC_BASE images).
TEST_P(Graph, AslrBasesFollowFromTheSeed) {
  FileImage file(path("liba.dll"));
  ASSERT_TRUE(file.image->optional_header().dll_characteristics & pe::dll_flag::dynamic_base);
  const uint64_t first = aslr_base(arch(), 7);
  EXPECT_EQ(aslr_base(arch(), 7), first);
  std::set<uint64_t> bases{first};
  for (uint64_t seed = 1; seed <= 6; ++seed) bases.insert(aslr_base(arch(), seed));
  EXPECT_GT(bases.size(), 1u);
  for (uint64_t b : bases) {
    EXPECT_EQ(b % win::kAllocationGranularity, 0u);
    EXPECT_LT(b, address_limit(*file.image));
  }
}

// --------------------------------------------------------------------------------------------------- bottom-up

// A displaced image without ASLR goes to the lowest free 64 KiB-aligned range at or above bottom_up_start.
TEST_P(Graph, BottomUpStartIsRespected) {
  LoadOptions o = with_system(arch());
  o.placement.bottom_up_start = 0x3000'0000;
  Process p(std::move(o));
  ASSERT_TRUE(load_app(p, arch()));
  const Module* libb = p.find("libb.dll");
  EXPECT_EQ(libb->placed, "bottom-up");
  EXPECT_GE(libb->base, 0x3000'0000u);
  EXPECT_LT(libb->base, 0x4000'0000u);  // the lowest free range, not any range
  EXPECT_EQ(libb->base % win::kAllocationGranularity, 0u);
}

// ------------------------------------------------------------------------------------------------- FreeLibrary

// FreeLibrary: one reference less; at 0 the view is unmapped and the module's dependencies released in turn.
TEST_P(Graph, FreeLibraryReleasesDependenciesAndUnmaps) {
  std::vector<Event> events;
  Process p(with_system(arch()), [&](const Event& e) { events.push_back(e); });
  auto libb = p.load_library(path("libb.dll"));
  ASSERT_TRUE(libb) << libb.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"libb.dll", "liba.dll"}));
  EXPECT_EQ((*libb)->base, lib_base());  // first come, first served: liba.dll is the displaced one now
  ASSERT_TRUE(p.load_library("liba.dll"));
  EXPECT_EQ(p.find("liba.dll")->references, 2u);
  const uint64_t liba_base = p.find("liba.dll")->base;
  const uint64_t libb_base = (*libb)->base;

  ASSERT_TRUE(p.free_library("LIBA.DLL"));
  ASSERT_NE(p.find("liba.dll"), nullptr);
  EXPECT_EQ(p.find("liba.dll")->references, 1u);

  ASSERT_TRUE(p.free_library("libb.dll"));
  EXPECT_TRUE(p.modules().empty());
  for (uint64_t base : {libb_base, liba_base}) {
    const auto q = win::virtual_query(reinterpret_cast<const void*>(base));
    ASSERT_TRUE(q);
    EXPECT_TRUE(q->state == win::MEM_FREE || q->type != win::MEM_IMAGE) << std::hex << base;
  }
  std::vector<std::string> unloaded;
  for (const auto& e : events)
    if (e.step == Step::unload) unloaded.push_back(e.module);
  EXPECT_EQ(unloaded, (std::vector<std::string>{"libb.dll", "liba.dll"}));

  auto again = p.free_library("libb.dll");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, Status::dll_not_found);
}

// FreeLibrary on the executable's own handle succeeds and changes nothing: its load count is pinned.
TEST_P(Graph, FreeLibraryOfTheExecutableLeavesItLoaded) {
  std::vector<Event> events;
  Process p(with_system(arch()), [&](const Event& e) { events.push_back(e); });
  auto app = load_app(p, arch());
  ASSERT_TRUE(app) << app.error().to_string();
  const std::string name = (*app)->name;
  const uint32_t references = (*app)->references;
  const size_t modules = p.modules().size();
  auto freed = p.free_library(name);
  ASSERT_TRUE(freed) << freed.error().to_string();
  ASSERT_EQ(p.find(name), *app);
  EXPECT_EQ((*app)->references, references);
  EXPECT_EQ(p.modules().size(), modules);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().step, Step::unload);
  EXPECT_FALSE(events.back().ok);
  EXPECT_EQ(events.back().reason, "the executable is pinned");
  const auto q = win::virtual_query(reinterpret_cast<const void*>((*app)->base));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->type, win::MEM_IMAGE);
}

// ------------------------------------------------------------------------------------ DONT_RESOLVE_DLL_REFERENCES

// resolve_imports = false maps and relocates the one module: no dependency, no binding, the IAT as in the file.
TEST_P(Graph, DontResolveDllReferencesLoadsOnlyTheModule) {
  LoadOptions o = with_system(arch());
  o.resolve_imports = false;
  Process p(std::move(o));
  auto app = load_app(p, arch());
  ASSERT_TRUE(app) << app.error().to_string();
  EXPECT_EQ(module_names(p), (std::vector<std::string>{"app.exe"}));
  EXPECT_TRUE((*app)->bindings.empty());
  EXPECT_TRUE((*app)->dependencies.empty());
  FileImage file(path("app.exe"));
  auto imports = pe::parse_imports(*file.image);
  ASSERT_TRUE(imports);
  for (const auto& im : imports->modules)
    for (const auto& e : im.entries) EXPECT_EQ(view_value(**app, e.iat_rva, pointer_size(**app)), e.thunk) << e.name;
}

}  // namespace
}  // namespace pemap::ldr::test
