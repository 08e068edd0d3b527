// Resource bounds on absurd images built in code: each loads cleanly or is refused with its status, and the heap
// the load takes at its peak stays within a bound a few times what it was measured to take (each test says the
// figure), so that a load that builds one of these tables in full, or a copy of the image, fails. Zero fill is
// never counted in a bound: it costs no heap. This binary counts every operator new, so it is a test executable of
// its own.
#include <malloc.h>
#include <sys/mman.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "memory/image_section.hpp"
#include "memory/win32.hpp"
#include "model.hpp"
#include "pe/image.hpp"
#include "pe/scan_budget.hpp"
#include "printer.hpp"
#include "process/process.hpp"
#include "process_support.hpp"
#include "render.hpp"
#include "table.hpp"

// ------------------------------------------------------------------------------------ counting operator new

namespace {
std::atomic<uint64_t> g_live{0}, g_peak{0};

void* counted(void* p) {
  if (!p) throw std::bad_alloc();
  const uint64_t now = g_live.fetch_add(malloc_usable_size(p)) + malloc_usable_size(p);
  uint64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return p;
}
void uncounted(void* p) {
  if (!p) return;
  g_live.fetch_sub(malloc_usable_size(p));
  std::free(p);
}
}  // namespace

void* operator new(size_t n) { return counted(std::malloc(n ? n : 1)); }
void* operator new[](size_t n) { return counted(std::malloc(n ? n : 1)); }
void* operator new(size_t n, std::align_val_t a) {
  const auto al = static_cast<size_t>(a);
  return counted(std::aligned_alloc(al, (n + al - 1) / al * al));
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { uncounted(p); }
void operator delete[](void* p) noexcept { uncounted(p); }
void operator delete(void* p, size_t) noexcept { uncounted(p); }
void operator delete[](void* p, size_t) noexcept { uncounted(p); }
void operator delete(void* p, std::align_val_t) noexcept { uncounted(p); }
void operator delete[](void* p, std::align_val_t) noexcept { uncounted(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { uncounted(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { uncounted(p); }

namespace pemap::ldr::test {
namespace {

using pemap::test::BuiltPe;
using pemap::test::Export;
using pemap::test::Import;
using pemap::test::PeBuilder;
using pemap::test::RelocBlock;
using pemap::test::Section;

/// Heap bytes a scope took at its peak, over what was live when it began.
class PeakHeap {
 public:
  PeakHeap() : start_(g_live.load()) { g_peak.store(start_); }
  uint64_t peak() const { return g_peak.load() - start_; }

 private:
  uint64_t start_;
};

constexpr uint64_t KiB = 1024;

class FindsNothing : public ModuleLocator {
 public:
  Located locate(const ModuleName&, Bitness) override { return {}; }
};

/// What one load of an absurd image took, and how it ended.
struct Measured {
  uint64_t file_size = 0, size_of_image = 0, peak = 0;
  std::optional<Error> refused;
  size_t bindings = 0, unresolved = 0;
  uint64_t fixups = 0;  ///< relocations applied, every module
};

/// Loads `top` (with `others` beside it) as the executable, allow_missing and bind_delay, measures the heap peak of
/// the load and the FreeLibrary that follows, and checks every view is unmapped after.
Measured load_measured(const std::string& name, const BuiltPe& top, bool executable = true,
                       const std::vector<std::pair<std::string, BuiltPe>>& others = {}, LoadOptions options = {}) {
  TempDir dir;
  const std::string path = dir.write(name, top);
  for (const auto& [n, pe] : others) dir.write(n, pe);
  Measured out;
  out.file_size = top.bytes.size();
  auto parsed = pe::Image::parse({top.bytes.data(), top.bytes.size()});
  if (parsed) out.size_of_image = parsed->mapped_size();
  for (const auto& [n, pe] : others) {
    out.file_size += pe.bytes.size();
    if (auto p = pe::Image::parse({pe.bytes.data(), pe.bytes.size()})) out.size_of_image += p->mapped_size();
  }
  options.allow_missing = true;
  options.bind_delay = true;
  options.application_dir = dir.path().string();
  if (others.empty()) options.locator = std::make_shared<FindsNothing>();
  std::vector<std::pair<uint64_t, uint64_t>> views;
  {
    PeakHeap heap;
    {
      Process p(std::move(options));
      auto r = executable ? p.load_executable(path) : p.load_library(path);
      if (r) {
        for (const auto& m : p.modules()) {
          views.emplace_back(m->base, m->view->size());
          out.bindings += m->bindings.size();
          for (const auto& [type, n] : m->relocations.per_type) out.fixups += n;
        }
        out.unresolved = p.unresolved().size();
        auto freed = p.free_library((*r)->name);
        EXPECT_TRUE(freed.has_value()) << freed.error().to_string();
      } else {
        out.refused = r.error();
      }
    }
    out.peak = heap.peak();
  }
  for (const auto& [base, size] : views) {
    void* want = reinterpret_cast<void*>(base);
    void* got = ::mmap(want, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    EXPECT_EQ(got, want) << "a view at " << want << " is still mapped after the process is gone";
    if (got != MAP_FAILED) ::munmap(got, size);
  }
  std::printf("[ bounds   ] %s: file %llu + SizeOfImage %llu; peak heap %llu (%.2f of file + SizeOfImage)%s\n",
              name.c_str(), static_cast<unsigned long long>(out.file_size),
              static_cast<unsigned long long>(out.size_of_image), static_cast<unsigned long long>(out.peak),
              static_cast<double>(out.peak) / static_cast<double>(out.file_size + out.size_of_image),
              out.refused ? (" refused: " + out.refused->to_string()).c_str() : "");
  testing::Test::RecordProperty(name + "_peak_heap", std::to_string(out.peak));
  testing::Test::RecordProperty(name + "_file_plus_image", std::to_string(out.file_size + out.size_of_image));
  return out;
}

constexpr uint32_t kData = 0x40000040, kRw = 0xC0000040;

std::string numbered(const char* prefix, unsigned i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%06u", prefix, i);
  return buf;
}

// The PE format's own maximum: 65535 sections (the COFF header's NumberOfSections is 16 bits), each a page of
// zero fill. With one protection the kernel merges their mappings and the image loads; alternating protections
// need a mapping each, past vm.max_map_count (65530), and the view is refused with ERROR_NOT_ENOUGH_MEMORY
// (not "taken", which placement once said after trying every other base).
TEST(Bounds, SixtyFiveThousandSections) {
  for (const bool alternate : {false, true}) {
    SCOPED_TRACE(alternate ? "alternating protections" : "one protection");
    PeBuilder b(true);
    b.add_section({.name = ".text", .data = std::vector<std::byte>(0x10, std::byte{0xc3})});
    for (unsigned i = 1; i < 65535; ++i)
      b.add_section({.name = ".z", .virtual_size = 0x1000, .characteristics = alternate && i % 2 ? kData : kRw});
    const BuiltPe pe = b.build();
    const Measured m = load_measured(alternate ? "sections-alternating.exe" : "sections.exe", pe);
    EXPECT_GE(m.size_of_image, 65535u * 0x1000);
    if (alternate) {
      ASSERT_TRUE(m.refused);
      EXPECT_EQ(m.refused->win32, static_cast<uint32_t>(win::Win32Error::not_enough_memory)) << m.refused->to_string();
      EXPECT_NE(m.refused->message.find("cannot map"), std::string::npos) << m.refused->to_string();
    } else {
      EXPECT_FALSE(m.refused) << m.refused->to_string();
    }
    // Measured: 21.2 MB with one protection, 16.8 MB alternating (8.1 and 6.4 times the 2.6 MB file): a
    // Section and a Region record per 40-byte header. SizeOfImage (271 MB of zero fill) is not counted.
    EXPECT_LE(m.peak, 20 * m.file_size);
  }
}

// 200,000 imports by name from a module that is not there: each goes to a trap of its own.
TEST(Bounds, HugeImportTableOfMissingFunctions) {
  std::vector<pemap::test::ImportEntry> entries;
  for (unsigned i = 0; i < 200000; ++i) entries.push_back(by_name(numbered("f", i)));
  const BuiltPe pe = exe_builder(true, {{.dll = "nosuch.dll", .entries = std::move(entries)}}).build();
  const Measured m = load_measured("imports.exe", pe);
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.bindings, 200000u);
  EXPECT_EQ(m.unresolved, 200000u);
  EXPECT_LE(m.peak, 8 * m.file_size);  // measured: 20.9 MB, 4.0 times the file (a Binding and a trap per import)
}

// 20,000 import descriptors, each naming another missing module.
TEST(Bounds, TwentyThousandMissingModules) {
  std::vector<Import> imports;
  for (unsigned i = 0; i < 20000; ++i) imports.push_back({.dll = numbered("m", i) + ".dll", .entries = {by_name("f")}});
  const BuiltPe pe = exe_builder(true, std::move(imports)).build();
  const Measured m = load_measured("modules.exe", pe);
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.unresolved, 20000u);
  EXPECT_LE(m.peak, 8 * m.file_size);  // measured: 4.9 MB, 3.6 times the file
}

/// An executable importing `dll`!`name` `count` times: one hint/name entry, every lookup and IAT slot pointing at it
/// (16 bytes of file per import).
BuiltPe imports_sharing_one_name(const std::string& dll, const std::string& name, unsigned count) {
  std::vector<pemap::test::ImportEntry> entries(1, by_name(name));
  for (unsigned i = 1; i < count; ++i) entries.push_back(by_name("x"));
  BuiltPe pe = exe_builder(true, {{.dll = dll, .entries = entries}}).build();
  const uint32_t desc = *pe.rva_to_offset(pe.import_rva);
  const uint32_t ilt = *pe.rva_to_offset(pe.get32(desc)), iat = *pe.rva_to_offset(pe.get32(desc + 16));
  const uint64_t first = pe.get64(ilt);
  for (unsigned i = 1; i < count; ++i) {
    pe.put64(ilt + 8 * i, first);
    pe.put64(iat + 8 * i, first);
  }
  return pe;
}

// Every IAT slot names the same 60,000-byte function name: the parser's name budget (8 times the file + 1 MiB,
// scan_budget.hpp) stops the walk long before 4,000 copies of the name are made.
TEST(Bounds, ThousandsOfImportsSharingOneLongName) {
  const BuiltPe pe = imports_sharing_one_name("nosuch.dll", std::string(60000, 'n'), 4000);
  const Measured m = load_measured("longname.exe", pe);
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_GE(m.bindings, 1u);
  EXPECT_LE(m.bindings, (8 * pe.bytes.size() + pe::ScanBudget::kMaxName) / 60000 + 1);
  EXPECT_LE(m.peak, 4 * m.file_size);  // measured: 247 KB, 1.75 times the file
}

// A loop of 64 forwarders with 250-character names, imported 5,000 times through one hint/name entry: each import
// walks to the loader's forwarder limit, and what it records about the loop must not be 64 names long.
TEST(Bounds, ForwarderLoopOfLongNamesImportedThousandsOfTimes) {
  auto step = [](unsigned i) { return std::string(240, 'a' + static_cast<char>(i % 26)) + numbered("_", i); };
  std::vector<Export> exports;
  for (unsigned i = 0; i < 64; ++i) exports.push_back({.name = step(i), .forwarder = "fwd." + step((i + 1) % 64)});
  const BuiltPe dll = dll_builder(true, 0x3'0000'0000ull, "fwd.dll", std::move(exports)).build();
  const BuiltPe exe = imports_sharing_one_name("fwd.dll", step(0), 5000);
  const Measured m = load_measured("fwdloop.exe", exe, true, {{"fwd.dll", dll}});
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.unresolved, 5000u);
  EXPECT_LE(m.peak, 6 * m.file_size);  // measured: 336 KB, 2.5 times the two files
}

// One export whose name runs on for almost a MiB, and 200,000 imports of "a" through one hint/name entry: each
// lookup compares the hint's name and then binary-searches, and a probe reads no more of an export's name than
// the import's own (reading the whole name at each probe scanned 400 GB for this load).
TEST(Bounds, ImportsProbingAnExportNameOfAMegabyte) {
  const BuiltPe dll =
      dll_builder(true, 0x3'0000'0000ull, "long.dll", {{.name = std::string((1u << 20) - 64, 'a'), .rva = 0x1000}})
          .build();
  const BuiltPe exe = imports_sharing_one_name("long.dll", "a", 200000);
  const Measured m = load_measured("longexport.exe", exe, true, {{"long.dll", dll}});
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.bindings, 200000u);
  EXPECT_EQ(m.unresolved, 200000u);    // "a" is not "aaa...": every slot goes to one trap
  EXPECT_LE(m.peak, 6 * m.file_size);  // measured: 12.8 MB, 2.5 times the two files
}

// An export table claiming 2^31 functions, and 300,000 real named exports the importer binary-searches.
TEST(Bounds, ExportTableWithHundredsOfThousandsOfEntries) {
  std::vector<Export> exports;
  for (unsigned i = 0; i < 300000; ++i) exports.push_back({.name = numbered("e", i), .rva = 0x1000});
  const BuiltPe dll = dll_builder(true, 0x3'0000'0000ull, "big.dll", std::move(exports)).build();
  const BuiltPe exe =
      exe_builder(true, {{.dll = "big.dll", .entries = {by_name("e000000"), by_name("e299999"), by_name("nope")}}})
          .build();
  LoadOptions o;
  const Measured m = load_measured("exports.exe", exe, true, {{"big.dll", dll}}, o);
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.bindings, 3u);
  EXPECT_EQ(m.unresolved, 1u);  // "nope"
  EXPECT_LE(m.peak, 64 * KiB);  // measured: 20 KB for 5.4 MB of files: the table is read where it is
}

TEST(Bounds, ExportTableClaimingTwoBillionFunctionsOverZeroFill) {
  PeBuilder b = dll_builder(true, 0x3'0000'0000ull, "huge.dll", {{.name = "f", .rva = 0x1000}});
  b.add_section({.name = ".zero", .virtual_size = 0x1000'0000, .characteristics = kData});
  BuiltPe dll = b.build();
  const uint32_t dir = *dll.rva_to_offset(dll.export_rva);
  dll.put32(dir + 20, 0x7fffffff);               // NumberOfFunctions
  dll.put32(dir + 28, dll.section_rvas.back());  // AddressOfFunctions: the zero fill
  const BuiltPe exe = exe_builder(true, {{.dll = "huge.dll", .entries = {by_name("f")}}}).build();
  const Measured m = load_measured("zeroexports.exe", exe, true, {{"huge.dll", dll}});
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.unresolved, 1u);  // f's slot lies in zero fill: RVA 0, not exported
  EXPECT_LE(m.peak, 64 * KiB);  // measured: 20 KB (256 MB of zero fill)
}

// A chain of forwarders inside one module (f0 -> f1 -> ... -> f999), imported 1,000 times at every point: the
// chain is cut at the loader's limit, so the work is linear in the imports.
TEST(Bounds, LongForwarderChainsImportedEverywhere) {
  std::vector<Export> exports;
  for (unsigned i = 0; i < 1000; ++i)
    exports.push_back({.name = numbered("f", i), .forwarder = "fwd." + numbered("f", (i + 1) % 1000)});
  const BuiltPe dll = dll_builder(true, 0x3'0000'0000ull, "fwd.dll", std::move(exports)).build();
  std::vector<pemap::test::ImportEntry> entries;
  for (unsigned i = 0; i < 1000; ++i) entries.push_back(by_name(numbered("f", i)));
  const BuiltPe exe = exe_builder(true, {{.dll = "fwd.dll", .entries = std::move(entries)}}).build();
  const Measured m = load_measured("forwarders.exe", exe, true, {{"fwd.dll", dll}});
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.unresolved, 1000u);       // every chain is a loop
  EXPECT_LE(m.peak, 24 * m.file_size);  // measured: 443 KB, 7.6 times the two files
}

// Relocation blocks for every page of a 4 MiB section, each fixing a DIR64 at every byte offset (overlapping
// writes), then blocks for pages far past SizeOfImage; the image is displaced, so every fixup is applied.
TEST(Bounds, RelocationBlocksEverywhere) {
  constexpr unsigned kPages = 1024;
  std::vector<RelocBlock> blocks;
  for (unsigned p = 0; p < kPages; ++p) {
    RelocBlock blk{.page_rva = 0x1000 + p * 0x1000};
    for (uint16_t off = 0; off < 0xff8; ++off) blk.entries.push_back(static_cast<uint16_t>(0xA000 | off));
    blocks.push_back(std::move(blk));
  }
  for (unsigned p = 0; p < 64; ++p) blocks.push_back({.page_rva = 0x7000'0000u + p * 0x1000, .entries = {0xA000}});
  PeBuilder b(true);
  b.image_base(0x1'4000'0000ull).dll_characteristics(0x0140);  // DYNAMIC_BASE, NX_COMPAT
  b.add_section(
      {.name = ".data", .data = std::vector<std::byte>(kPages * 0x1000, std::byte{0x11}), .characteristics = kRw});
  b.add_relocs(std::move(blocks));
  const BuiltPe pe = b.build();
  LoadOptions o;
  o.placement.aslr_seed = 1;
  const Measured m = load_measured("relocs.exe", pe, true, {}, o);
  ASSERT_FALSE(m.refused) << m.refused->to_string();
  EXPECT_EQ(m.fixups, uint64_t{kPages} * 0xff8);  // every in-range entry applied; the blocks past the image stop
  EXPECT_LE(m.peak, 256 * KiB);                   // measured: 91 KB for 4 million fixups in a 12.6 MB file
}

// A DIR64 fixup in the last 4 bytes of the image would write past the view's reservation: refused with
// STATUS_INVALID_IMAGE_FORMAT before anything outside the image is touched.
TEST(Bounds, RelocationRunningPastSizeOfImageIsRefused) {
  PeBuilder b(true);
  b.image_base(0x1'4000'0000ull).dll_characteristics(0x0140);
  b.add_section({.name = ".data", .data = std::vector<std::byte>(0x1000, std::byte{0x11}), .characteristics = kRw});
  b.add_relocs({{.page_rva = 0x1000, .entries = {0xA000 | 0x0ffc}}});
  BuiltPe pe = b.build();
  // The .reloc section follows .data: point the block at the last page of the image instead.
  auto img = pe::Image::parse({pe.bytes.data(), pe.bytes.size()});
  ASSERT_TRUE(img.has_value());
  const uint32_t last_page = static_cast<uint32_t>(img->mapped_size() - 0x1000);
  pe.put32(*pe.rva_to_offset(pe.reloc_rva), last_page);
  LoadOptions o;
  o.placement.aslr_seed = 1;
  const Measured m = load_measured("relocpastend.exe", pe, true, {}, o);
  ASSERT_TRUE(m.refused);
  EXPECT_EQ(m.refused->status, Status::invalid_image_format) << m.refused->to_string();
  EXPECT_NE(m.refused->message.find("runs past SizeOfImage"), std::string::npos) << m.refused->to_string();
  EXPECT_LE(m.peak, 16 * KiB);  // measured: 4.9 KB
}

// fuzz_map: every ImageSection of a file (each fuzz input is a memfd, its own inode) left an entry in the cache of
// image objects after it was gone, so a process mapping many files grew without end.
TEST(Bounds, ImageSectionsOfManyFilesLeaveNothingBehind) {
  const auto bytes = pemap::test::read_file(bin("x64", "liba.dll"));
  auto map_once = [&] {
    const int fd = ::memfd_create("bounds", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    auto section = win::ImageSection::create_from_fd(fd, "liba.dll");
    ::close(fd);
    ASSERT_TRUE(section.has_value()) << section.error().to_string();
  };
  map_once();  // the first one's statics
  const uint64_t before = g_live.load();
  for (int i = 0; i < 2000; ++i) map_once();
  // Before the fix: 2000 cache entries of ~100 bytes each stayed. Now the cache is swept whenever it doubles.
  EXPECT_LT(g_live.load() - before, 32u * 1024) << "the image-object cache kept entries of dead sections";
}

// `pemap all`'s text of the same absurd tables, counted by lines, with the heap it takes at its peak: rows are
// written as the tables are walked, so a table of 200,000 imports, 300,000 exports or a million fixups is never
// held. The section table is: Section and Region records of 136 bytes for each 40-byte header (docs/limits.md).
class CountingBuf : public std::streambuf {
 public:
  uint64_t lines = 0;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    lines += static_cast<uint64_t>(std::count(s, s + n, '\n'));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c == '\n') ++lines;
    return c;
  }
};

struct Listed {
  uint64_t file_size = 0, peak = 0, lines = 0;
};

// `pemap all` on the image, as text or as JSON.
enum class As { text, json };

Listed list_measured(const char* name, const BuiltPe& pe, As as) {
  Listed out;
  out.file_size = pe.bytes.size();
  CountingBuf buf;
  std::ostream os(&buf);
  {
    PeakHeap heap;
    {
      auto image = pe::Image::parse({pe.bytes.data(), pe.bytes.size()});
      EXPECT_TRUE(image) << image.error().to_string();
      if (image) {
        pemap::inspect::TextOut text(os);
        pemap::inspect::Warnings w;
        if (as == As::text) {
          pemap::inspect::write_all(*image, text, w);
        } else {
          pemap::inspect::JsonWriter json(text, pemap::inspect::JsonWriter::Style::pretty);
          json.begin_object();
          pemap::inspect::model_all(*image, json, w);
          w.print(json);
          json.end_object();
        }
      }
    }
    out.peak = heap.peak();
  }
  out.lines = buf.lines;
  std::printf("[ bounds   ] pemap all%s %s: file %llu; %llu lines; peak heap %llu (%.2f of the file)\n", name,
              as == As::json ? " --json" : "", static_cast<unsigned long long>(out.file_size),
              static_cast<unsigned long long>(out.lines), static_cast<unsigned long long>(out.peak),
              static_cast<double>(out.peak) / static_cast<double>(out.file_size));
  return out;
}

// Both back ends print as the parser walks: neither holds a row per entry.
class ListingBounds : public testing::TestWithParam<As> {};

TEST_P(ListingBounds, WritesRowsAsItWalks) {
  const As as = GetParam();
  {
    std::vector<pemap::test::ImportEntry> entries;
    for (unsigned i = 0; i < 200000; ++i) entries.push_back(by_name(numbered("f", i)));
    const Listed l = list_measured(
        "imports.exe", exe_builder(true, {{.dll = "nosuch.dll", .entries = std::move(entries)}}).build(), as);
    EXPECT_GT(l.lines, 200000u);
    EXPECT_LE(l.peak, 256 * KiB);  // measured: 88 KB for a 5.2 MB file
  }
  {
    std::vector<RelocBlock> blocks;
    for (unsigned p = 0; p < 256; ++p) {
      RelocBlock blk{.page_rva = 0x1000 + p * 0x1000};
      for (uint16_t off = 0; off < 0xff8; ++off) blk.entries.push_back(static_cast<uint16_t>(0xA000 | off));
      blocks.push_back(std::move(blk));
    }
    PeBuilder b(true);
    b.add_section(
        {.name = ".data", .data = std::vector<std::byte>(256 * 0x1000, std::byte{0x11}), .characteristics = kRw});
    b.add_relocs(std::move(blocks));
    const Listed l = list_measured("relocs.exe", b.build(), as);
    EXPECT_GT(l.lines, 256u * 0xff8);
    EXPECT_LE(l.peak, l.file_size / 4);
  }
  {
    std::vector<Export> exports;
    for (unsigned i = 0; i < 300000; ++i) exports.push_back({.name = numbered("e", i), .rva = 0x1000});
    const Listed l =
        list_measured("exports.dll", dll_builder(true, 0x3'0000'0000ull, "big.dll", std::move(exports)).build(), as);
    EXPECT_GT(l.lines, 300000u);
    EXPECT_LE(l.peak, l.file_size);  // the name index: 8 bytes a name, which takes at least 8 bytes of the file
  }
  {
    PeBuilder b(true);
    b.add_section({.name = ".text", .data = std::vector<std::byte>(0x10, std::byte{0xc3})});
    for (unsigned i = 1; i < 65535; ++i) b.add_section({.name = ".z", .virtual_size = 0x1000, .characteristics = kRw});
    const Listed l = list_measured("sections.exe", b.build(), as);
    EXPECT_GT(l.lines, 65535u);
    EXPECT_LE(l.peak, 4 * l.file_size);
  }
}

INSTANTIATE_TEST_SUITE_P(TextAndJson, ListingBounds, testing::Values(As::text, As::json),
                         [](const testing::TestParamInfo<As>& i) { return i.param == As::text ? "text" : "json"; });

}  // namespace
}  // namespace pemap::ldr::test
