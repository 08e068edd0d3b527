// SEC_IMAGE mapping, checked against the kernel's own view (/proc/self/maps) and the file's bytes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <sys/stat.h>

#include "memory/image_rules.hpp"
#include "memory/image_section.hpp"
#include "memory/section.hpp"
#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"
#include "support/files.hpp"
#include "support/kernel_maps.hpp"
#include "support/pe_builder.hpp"

namespace pemap::win {
namespace {

std::string testdata_bin(const std::string& rel) { return (test::testdata_dir() / "bin" / rel).string(); }

// A private copy of a testdata image, removed at exit. Shared sections are shared by every process that
// maps one file, and ctest runs these tests as parallel processes: each works on its own file.
std::string bin(const std::string& rel) {
  struct Copies {
    std::vector<std::filesystem::path> paths;
    ~Copies() {
      for (const auto& p : paths) std::filesystem::remove(p);
    }
  };
  static Copies copies;
  auto name = rel;
  for (auto& c : name)
    if (c == '/') c = '_';
  const auto path = std::filesystem::temp_directory_path() /
                    ("pemap-test-" + std::to_string(getpid()) + "-" + std::to_string(copies.paths.size()) + "-" + name);
  std::filesystem::copy_file(testdata_bin(rel), path, std::filesystem::copy_options::overwrite_existing);
  copies.paths.push_back(path);
  return path.string();
}

using test::kernel_perms;

std::string expected_perms(uint32_t protect, bool shared) {
  static const std::map<uint32_t, std::string> rwx{{PAGE_READONLY, "r--"},          {PAGE_READWRITE, "rw-"},
                                                   {PAGE_WRITECOPY, "rw-"},         {PAGE_EXECUTE_READ, "r-x"},
                                                   {PAGE_EXECUTE_READWRITE, "rwx"}, {PAGE_EXECUTE_WRITECOPY, "rwx"},
                                                   {PAGE_EXECUTE, "--x"},           {PAGE_NOACCESS, "---"}};
  return rwx.at(protect) + (shared ? "s" : "p");
}

class ImageLayout : public testing::TestWithParam<const char*> {};

// Every region of the view holds the file's bytes where the layout says, zeros after them, with the
// protection its section asks for, as the kernel reports it.
TEST_P(ImageLayout, BytesAndProtectionsMatchTheLayout) {
  auto section = ImageSection::create(bin(GetParam()));
  ASSERT_TRUE(section.has_value()) << section.error().to_string();
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value()) << view.error().to_string();
  const auto& img = (*section)->image();
  const Bytes file = img.file();
  size_t checked = 0;
  for (const auto& r : (*section)->regions()) {
    SCOPED_TRACE(r.name);
    const std::byte* at = view->base() + r.rva;
    const auto& src =
        *std::find_if(img.regions().begin(), img.regions().end(), [&](const pe::Region& x) { return x.rva == r.rva; });
    ASSERT_LE(r.file_bytes, r.size);
    EXPECT_EQ(std::memcmp(at, file.data() + src.file_offset, r.file_bytes), 0);
    for (uint64_t i = r.file_bytes; i < r.size; i += 97) ASSERT_EQ(at[i], std::byte{0}) << "zero fill at " << i;
    EXPECT_EQ(kernel_perms(at), expected_perms(r.protect, r.shared()));
    ++checked;
  }
  EXPECT_GE(checked, (*section)->flat() ? 1u : 2u);
}

INSTANTIATE_TEST_SUITE_P(Testdata, ImageLayout,
                         testing::Values("x86/liba.dll", "x64/liba.dll", "x86/shared.dll", "x64/shared.dll",
                                         "x86/tls.exe", "x64/bigreloc.dll", "x64/lowalign.exe", "x86/lowalign.exe"),
                         [](const auto& p) {
                           std::string n = p.param;
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(ImageSection, HeadersAreReadOnlyCodeIsExecuteReadDataIsCopyOnWrite) {
  auto section = ImageSection::create(bin("x86/liba.dll"));
  ASSERT_TRUE(section.has_value());
  std::map<std::string, uint32_t> prot;
  for (const auto& r : (*section)->regions()) prot[r.name] = r.protect;
  EXPECT_EQ(prot.at("(headers)"), PAGE_READONLY);
  EXPECT_EQ(prot.at(".text"), PAGE_EXECUTE_READ);
  EXPECT_EQ(prot.at(".data"), PAGE_WRITECOPY);
  EXPECT_EQ(prot.at(".rdata"), PAGE_READONLY);
}

TEST(ImageSection, FlatImageIsOneRegionMappedOneToOne) {
  auto section = ImageSection::create(bin("x64/lowalign.exe"));
  ASSERT_TRUE(section.has_value());
  ASSERT_EQ((*section)->regions().size(), 1u);
  EXPECT_TRUE((*section)->flat());
  EXPECT_EQ((*section)->regions()[0].protect, PAGE_EXECUTE_WRITECOPY);
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value());
  const Bytes file = (*section)->image().file();
  EXPECT_EQ(std::memcmp(view->base(), file.data(), file.size()), 0);
}

TEST(ImageSection, OneImageObjectPerFile) {
  const std::string libb = bin("x86/libb.dll");
  auto a = ImageSection::create(libb);
  auto b = ImageSection::create(libb);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->get(), b->get());
  auto c = ImageSection::create(bin("x64/libb.dll"));
  ASSERT_TRUE(c.has_value());
  EXPECT_NE(a->get(), c->get());
}

TEST(ImageSection, WritesToCopyOnWritePagesStayInTheirView) {
  auto section = ImageSection::create(bin("x86/shared.dll"));
  ASSERT_TRUE(section.has_value());
  auto v1 = ImageView::map(*section);
  auto v2 = ImageView::map(*section);
  ASSERT_TRUE(v1.has_value() && v2.has_value());
  ASSERT_NE(v1->base(), v2->base());
  std::map<std::string, uint64_t> rva;
  for (const auto& r : (*section)->regions()) rva[r.name] = r.rva;
  const std::byte before = v2->base()[rva.at(".data")];
  v1->base()[rva.at(".data")] = std::byte{0x5a};
  EXPECT_EQ(v2->base()[rva.at(".data")], before);
  // The Shared section is one object: a write through one view is seen through the other.
  v1->base()[rva.at("Shared")] = std::byte{0x77};
  EXPECT_EQ(v2->base()[rva.at("Shared")], std::byte{0x77});
  v1->base()[rva.at("Shared")] = std::byte{0};
}

TEST(ImageSection, SharedSectionIsSharedWithAForkedProcess) {
  auto section = ImageSection::create(bin("x64/shared.dll"));
  ASSERT_TRUE(section.has_value());
  uint64_t shared_rva = 0;
  for (const auto& r : (*section)->regions())
    if (r.shared()) shared_rva = r.rva;
  ASSERT_NE(shared_rva, 0u);
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value());
  const pid_t pid = fork();
  if (pid == 0) {
    // The child maps its own view of the same image object: the shared page is the parent's too,
    // while its writable data stays private.
    auto child = ImageView::map(*section);
    if (!child) _exit(2);
    child->base()[shared_rva] = std::byte{0x42};
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(view->base()[shared_rva], std::byte{0x42});
  view->base()[shared_rva] = std::byte{0};
}

TEST(ImageSection, ViewAtARequestedBaseLandsThereOrFails) {
  auto section = ImageSection::create(bin("x64/liba.dll"));
  ASSERT_TRUE(section.has_value());
  // A free, 64 KiB aligned range: take one from the kernel and give it back.
  void* probe = mmap(nullptr, (*section)->size() + 0x10000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(probe, MAP_FAILED);
  munmap(probe, (*section)->size() + 0x10000);
  auto* base = reinterpret_cast<void*>(align_up(reinterpret_cast<uint64_t>(probe), 0x10000));
  auto view = ImageView::map(*section, base);
  ASSERT_TRUE(view.has_value()) << view.error().to_string();
  EXPECT_EQ(static_cast<void*>(view->base()), base);
  // The same range again is taken: ERROR_INVALID_ADDRESS, and the first view is untouched.
  auto again = ImageView::map(*section, base);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().win32, static_cast<uint32_t>(Win32Error::invalid_address));
  EXPECT_EQ(view->base()[0], std::byte{'M'});
  auto odd = ImageView::map(*section, static_cast<std::byte*>(base) + 0x1000);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().win32, static_cast<uint32_t>(Win32Error::mapped_alignment));
}

TEST(ImageSection, PreferredBaseWhenFreeElsewhereWhenTaken) {
  auto section = ImageSection::create(bin("x86/libb.dll"));
  ASSERT_TRUE(section.has_value());
  auto first = ImageView::map(*section);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->at_preferred_base());
  EXPECT_EQ(reinterpret_cast<uint64_t>(first->base()), 0x10000000u);
  auto second = ImageView::map(*section);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->at_preferred_base());
  EXPECT_EQ(reinterpret_cast<uint64_t>(second->base()) % 0x10000, 0u);
}

// Whether the mapper refuses `img` by a mapping rule; the parser's first mapping warning must say the same, and
// there must be none when it does not.
bool parser_warns_of_refusal(const pe::Image& img, const std::string& what) {
  const std::string suffix = "; Windows refuses to map it (STATUS_INVALID_IMAGE_FORMAT)";
  const Error* warned = nullptr;
  for (const auto& w : img.warnings())
    if (w.message.ends_with(suffix)) {
      warned = &w;
      break;
    }
  const auto refusal = check_image_for_mapping(img);
  // A last section whose raw data runs past the end of the file is reported as the file cut short.
  const bool cut_short = refusal && refusal->message.find("the file is cut short") != std::string::npos;
  if (!refusal || cut_short) {
    EXPECT_TRUE(!warned || cut_short) << what << ": " << warned->to_string();
    return false;
  }
  EXPECT_NE(warned, nullptr) << what << ": refused with " << refusal->to_string() << " but no warning";
  if (!warned) return true;
  const std::string refusal_text = refusal->message.substr(0, refusal->message.find(" (ERROR_BAD_EXE_FORMAT)"));
  EXPECT_EQ(warned->structure, refusal->structure) << what;
  EXPECT_EQ(warned->where.value, refusal->where.value) << what;
  EXPECT_EQ(warned->message, refusal_text + suffix) << what;
  return true;
}

// The mapping checks (docs/mapping.md, "SEC_IMAGE"): each rejection with its status, on a synthetic image written to
// disk.
struct Reject {
  const char* name;
  std::function<void(test::PeBuilder&)> configure;
  std::function<void(test::BuiltPe&)> mutate;
  const char* message;
};

class ImageRejections : public testing::TestWithParam<Reject> {};

void PrintTo(const Reject& r, std::ostream* os) { *os << r.name; }

TEST_P(ImageRejections, AreRefusedWithBadExeFormat) {
  const Reject& c = GetParam();
  test::PeBuilder b(false);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x100, std::byte{0x90})});
  if (c.configure) c.configure(b);
  test::BuiltPe pe = b.build();
  if (c.mutate) c.mutate(pe);
  const auto path = std::filesystem::temp_directory_path() / (std::string("pemap-reject-") + c.name + ".dll");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(pe.bytes.data()), static_cast<std::streamsize>(pe.bytes.size()));
  auto section = ImageSection::create(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(section.has_value());
  EXPECT_EQ(section.error().status, Status::invalid_image_format);
  EXPECT_EQ(section.error().win32, static_cast<uint32_t>(Win32Error::bad_exe_format));
  EXPECT_NE(section.error().message.find(c.message), std::string::npos) << section.error().to_string();
  auto img = pe::Image::parse(pe.bytes);
  ASSERT_TRUE(img.has_value()) << img.error().to_string();
  EXPECT_TRUE(parser_warns_of_refusal(*img, c.name));
}

INSTANTIATE_TEST_SUITE_P(
    Validation, ImageRejections,
    testing::Values(
        Reject{"alignment_not_pow2", [](test::PeBuilder& b) { b.file_alignment(0x300); }, {}, "powers of two"},
        Reject{"section_below_file_alignment",
               [](test::PeBuilder& b) { b.file_alignment(0x2000); },
               {},
               "is below FileAlignment"},
        Reject{"image_base_not_64k", [](test::PeBuilder& b) { b.image_base(0x10001000); }, {}, "64 KiB"},
        Reject{"section_unaligned",
               [](test::PeBuilder& b) {
                 b.add_section({.name = ".odd",
                                .data = std::vector<std::byte>(16, std::byte{1}),
                                .characteristics = 0x40000040,
                                .virtual_address = 0x3800});
               },
               {},
               "not a multiple of SectionAlignment"},
        Reject{"section_past_size_of_image",
               {},
               [](test::BuiltPe& pe) { pe.put32(pe.optional_offset + 56, 0x1000); },
               "past SizeOfImage"},
        Reject{"sections_overlap",
               [](test::PeBuilder& b) {
                 b.add_section({.name = ".two",
                                .virtual_size = 0x2000,
                                .data = std::vector<std::byte>(16, std::byte{1}),
                                .characteristics = 0x40000040,
                                .virtual_address = 0x3000});
                 b.add_section({.name = ".three",
                                .data = std::vector<std::byte>(16, std::byte{1}),
                                .characteristics = 0x40000040,
                                .virtual_address = 0x4000});
               },
               {},
               "is below the end of section .two before it"},
        Reject{"section_over_headers",
               [](test::PeBuilder& b) {
                 b.add_section({.name = ".hdr",
                                .data = std::vector<std::byte>(16, std::byte{1}),
                                .characteristics = 0x40000040,
                                .virtual_address = 0});
               },
               {},
               "overlaps the headers"},
        Reject{"flat_not_one_to_one",
               [](test::PeBuilder& b) {
                 b.section_alignment(0x200).file_alignment(0x200);
                 b.add_section({.name = ".moved",
                                .data = std::vector<std::byte>(0x200, std::byte{2}),
                                .characteristics = 0x40000040,
                                .virtual_address = 0x4000});
               },
               {},
               "differs from PointerToRawData"}),
    [](const auto& p) { return std::string(p.param.name); });

// One table of rules: the parser's first "Windows refuses to map it" warning is the mapper's refusal, word for word,
// and an image the parser gives no such warning is not refused by a mapping rule. Over testdata and corkami, and each
// rejection above.
TEST(MappingRules, TheParserWarnsOfWhatTheMapperRefuses) {
  size_t files = 0, refused = 0;
  for (const auto& root : {test::testdata_dir(), test::corpus_dir()}) {
    if (!std::filesystem::exists(root)) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file() || e.file_size() < 64) continue;
      const auto bytes = test::read_file(e.path());
      if (auto img = pe::Image::parse(bytes)) {
        ++files;
        refused += parser_warns_of_refusal(*img, e.path().string());
      }
    }
  }
  EXPECT_GT(files, 200u);
  EXPECT_GE(refused, 1u);
  std::cout << "[ rules    ] " << files << " images, " << refused << " refused by a mapping rule\n";
}

TEST(ImageSection, MissingFileAndNonPeAreRefusedAsWindowsDoes) {
  auto missing = ImageSection::create("/nonexistent/pemap.dll");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().win32, static_cast<uint32_t>(Win32Error::file_not_found));
  auto text = ImageSection::create((test::testdata_dir() / "README.md").string());
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().status, Status::invalid_image_not_mz);
  EXPECT_EQ(text.error().win32, static_cast<uint32_t>(Win32Error::bad_exe_format));
}

// Every corkami file that parses can be mapped: they all load on Windows.
TEST(ImageSection, EveryCorkamiImageMaps) {
  if (!std::filesystem::exists(test::corpus_dir())) GTEST_SKIP() << "corkami corpus not found";
  size_t mapped = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(test::corpus_dir())) {
    const auto ext = e.path().extension();
    if (!e.is_regular_file() || (ext != ".exe" && ext != ".dll" && ext != ".sys")) continue;
    auto section = ImageSection::create(e.path().string());
    if (!section) {
      // Only what the parser refuses (the corpus test's known failures) may fail here.
      EXPECT_NE(section.error().status, Status::success) << e.path();
      continue;
    }
    auto view = ImageView::map(*section);
    ASSERT_TRUE(view.has_value()) << e.path() << ": " << view.error().to_string();
    ++mapped;
  }
  EXPECT_EQ(mapped, 224u);  // all but the 9 files the parser refuses (tests/data/corpus_test.cpp)
}

}  // namespace
}  // namespace pemap::win

namespace pemap::win {
namespace {

// CreateFileMapping(SEC_IMAGE) + MapViewOfFile: the same image view through the Win32 calls.
TEST(SecImage, CreateFileMappingAndMapViewOfFileMapTheImage) {
  auto file = FileHandle::open(bin("x86/liba.dll"), false);
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  auto section = create_file_mapping(&*file, PAGE_READONLY | SEC_IMAGE, 0);
  ASSERT_TRUE(section.has_value()) << section.error().to_string();
  EXPECT_EQ(section->size(), 0x8000u);
  auto view = map_view_of_file(*section, FILE_MAP_READ, 0, 0);
  ASSERT_TRUE(view.has_value()) << view.error().to_string();
  EXPECT_EQ(reinterpret_cast<uint64_t>(*view), 0x10000000u);
  EXPECT_EQ(static_cast<const char*>(*view)[0], 'M');
  auto text = virtual_query(static_cast<const std::byte*>(*view) + 0x1000);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->type, MEM_IMAGE);
  EXPECT_EQ(text->protect, PAGE_EXECUTE_READ);
  EXPECT_EQ(text->sections, std::vector<std::string>{".text"});
  section->close();  // the view keeps the image alive
  EXPECT_EQ(static_cast<const char*>(*view)[1], 'Z');
  ASSERT_TRUE(unmap_view_of_file(*view).has_value());
  auto gone = virtual_query(*view);
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->state, MEM_FREE);
}

TEST(SecImage, RefusalsCarryTheWin32Error) {
  auto text = FileHandle::open((test::testdata_dir() / "README.md").string(), false);
  ASSERT_TRUE(text.has_value());
  auto not_pe = create_file_mapping(&*text, PAGE_READONLY | SEC_IMAGE, 0);
  ASSERT_FALSE(not_pe.has_value());
  EXPECT_EQ(not_pe.error().win32, static_cast<uint32_t>(Win32Error::bad_exe_format));
  auto none = create_file_mapping(nullptr, PAGE_READONLY | SEC_IMAGE, 0x1000);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().win32, static_cast<uint32_t>(Win32Error::invalid_parameter));
  auto file = FileHandle::open(bin("x64/liba.dll"), false);
  auto section = create_file_mapping(&*file, PAGE_READONLY | SEC_IMAGE, 0);
  ASSERT_TRUE(section.has_value());
  auto part = map_view_of_file(*section, FILE_MAP_READ, 0x10000, 0);
  ASSERT_FALSE(part.has_value());
  EXPECT_EQ(part.error().win32, static_cast<uint32_t>(Win32Error::invalid_parameter));
}

}  // namespace
}  // namespace pemap::win

namespace pemap::win {
namespace {

// Protections (docs/mapping.md, "SEC_IMAGE"): the protection each combination of characteristics asks for.
TEST(SectionProtection, FollowsTheCharacteristics) {
  using namespace pe::scn;
  EXPECT_EQ(pe::section_protection(mem_read, false), PAGE_READONLY);
  EXPECT_EQ(pe::section_protection(mem_read | mem_write, false), PAGE_WRITECOPY);
  EXPECT_EQ(pe::section_protection(mem_read | mem_write, true), PAGE_READWRITE);
  EXPECT_EQ(pe::section_protection(mem_read | mem_execute, false), PAGE_EXECUTE_READ);
  EXPECT_EQ(pe::section_protection(mem_execute, false), PAGE_EXECUTE);
  EXPECT_EQ(pe::section_protection(mem_read | mem_write | mem_execute, false), PAGE_EXECUTE_WRITECOPY);
  EXPECT_EQ(pe::section_protection(mem_read | mem_write | mem_execute, true), PAGE_EXECUTE_READWRITE);
  EXPECT_EQ(pe::section_protection(mem_write, false), PAGE_WRITECOPY);
  // No MEM_* flag: code is RX, data RW (ReactOS), anything else no access.
  EXPECT_EQ(pe::section_protection(cnt_code, false), PAGE_EXECUTE_READ);
  EXPECT_EQ(pe::section_protection(cnt_initialized_data, false), PAGE_WRITECOPY);
  EXPECT_EQ(pe::section_protection(cnt_uninitialized_data, false), PAGE_WRITECOPY);
  EXPECT_EQ(pe::section_protection(0, false), PAGE_NOACCESS);
}

// Two instances: a write to copy-on-write data in one process's view is seen neither by another
// process's view nor by a view mapped later; the image object itself never changes.
TEST(ImageSection, CopyOnWriteWritesStayInTheProcessThatMadeThem) {
  auto section = ImageSection::create(bin("x64/shared.dll"));
  ASSERT_TRUE(section.has_value());
  uint64_t data = 0;
  for (const auto& r : (*section)->regions())
    if (r.name == ".data") data = r.rva;
  ASSERT_NE(data, 0u);
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value());
  const std::byte original = view->base()[data];
  const pid_t pid = fork();
  if (pid == 0) {
    auto child = ImageView::map(*section);
    if (!child) _exit(2);
    child->base()[data] = std::byte{0x99};
    _exit(child->base()[data] == std::byte{0x99} ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(view->base()[data], original);
  view->base()[data] = std::byte{0x11};  // this process's own private copy
  auto later = ImageView::map(*section);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->base()[data], original);
}

}  // namespace
}  // namespace pemap::win

namespace pemap::win {
namespace {

// corkami 65535sects.exe: every section is a region of its own in VirtualQuery, with its name (one read
// of /proc/self/maps for the whole range, and a binary search per region).
// What VirtualQuery answers over a view of `path`, against the rule Windows follows: a region is each maximal run
// of adjacent sections (headers included) with the same protection, naming them; a gap between sections is a
// reserved region of its own. Returns how many regions merged more than one section.
size_t expect_regions_follow_the_rule(const std::filesystem::path& path) {
  auto section = ImageSection::create(path.string());
  if (!section) return 0;  // an image the memory manager refuses has no view
  auto view = ImageView::map(*section);
  EXPECT_TRUE(view.has_value()) << path;
  if (!view) return 0;
  struct Run {
    uint64_t rva, size;
    uint32_t protect;
    std::vector<std::string> sections;
  };
  std::vector<Run> runs;
  for (const auto& r : (*section)->regions()) {
    if (!runs.empty() && runs.back().rva + runs.back().size == r.rva && runs.back().protect == r.protect) {
      runs.back().size += r.size;
      runs.back().sections.push_back(r.name);
    } else {
      runs.push_back({r.rva, r.size, r.protect, {r.name}});
    }
  }
  std::vector<MemoryBasicInformation> committed;
  for (auto& m : query_range(view->base(), view->size()))
    if (m.state == MEM_COMMIT) committed.push_back(std::move(m));
  EXPECT_EQ(committed.size(), runs.size()) << path;
  size_t merged = 0;
  for (size_t i = 0; i < std::min(committed.size(), runs.size()); ++i) {
    EXPECT_EQ(committed[i].base, reinterpret_cast<uint64_t>(view->base()) + runs[i].rva) << path << " run " << i;
    EXPECT_EQ(committed[i].region_size, runs[i].size) << path << " run " << i;
    EXPECT_EQ(committed[i].sections, runs[i].sections) << path << " run " << i;
    EXPECT_EQ(committed[i].type, MEM_IMAGE);
    merged += runs[i].sections.size() > 1;
  }
  return merged;
}

TEST(VirtualQueryOfImages, AdjacentSectionsWithOneProtectionAreOneRegion) {
  size_t merged = 0, images = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(test::testdata_dir() / "bin")) {
    if (e.is_regular_file()) merged += expect_regions_follow_the_rule(e.path()), ++images;
  }
  EXPECT_GT(merged, 10u) << "of " << images << " testdata files";
  // A MinGW DLL: .rdata .pdata .xdata are one read-only region, as Windows answers.
  const auto mingw = std::filesystem::path("/usr/lib/gcc/x86_64-w64-mingw32/12-win32/libstdc++-6.dll");
  if (std::filesystem::exists(mingw)) {
    EXPECT_GT(expect_regions_follow_the_rule(mingw), 0u);
  }
}

TEST(VirtualQueryOfImages, CorkamiImagesFollowTheRule) {
  if (!std::filesystem::exists(test::corpus_dir())) GTEST_SKIP() << "corkami corpus not found";
  size_t merged = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::corpus_dir())) {
    if (e.is_regular_file() && e.path().extension() != ".txt" && e.path().extension() != ".tsv")
      merged += expect_regions_follow_the_rule(e.path());
  }
  EXPECT_GT(merged, 0u);
}

}  // namespace
}  // namespace pemap::win

namespace pemap::win {
namespace {

std::string write_temp(const test::BuiltPe& pe, const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("pemap-" + name + "-" + std::to_string(getpid()));
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(pe.bytes.data()), static_cast<std::streamsize>(pe.bytes.size()));
  return path.string();
}

// Review: SizeOfHeaders past SizeOfImage made the header region larger than the view, and MAP_FIXED wrote
// over whatever followed it. The region is cut at SizeOfImage; a sentinel page after the view survives.
TEST(ImageHostile, HeadersLargerThanTheImageStayInsideTheView) {
  test::PeBuilder b(false);
  b.image_base(0x20000000).size_of_image(0x1000);
  b.overlay(std::vector<std::byte>(0x20000, std::byte{'A'}));
  test::BuiltPe pe = b.build();
  pe.put32(pe.optional_offset + 60, 0x20000);  // SizeOfHeaders
  const std::string path = write_temp(pe, "bighdr");
  auto section = ImageSection::create(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(section.has_value()) << section.error().to_string();
  for (const auto& r : (*section)->regions()) EXPECT_LE(r.rva + r.size, (*section)->size()) << r.name;
  void* probe = mmap(nullptr, 0x40000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(probe, MAP_FAILED);
  munmap(probe, 0x40000);
  auto* base = reinterpret_cast<std::byte*>(align_up(reinterpret_cast<uint64_t>(probe), 0x10000));
  auto* sentinel = static_cast<char*>(
      mmap(base + 0x10000, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
  ASSERT_EQ(static_cast<void*>(sentinel), static_cast<void*>(base + 0x10000));
  std::strcpy(sentinel, "precious");
  {
    auto view = ImageView::map(*section, base);
    ASSERT_TRUE(view.has_value()) << view.error().to_string();
    EXPECT_STREQ(sentinel, "precious");
  }
  EXPECT_STREQ(sentinel, "precious");
  munmap(sentinel, 0x1000);
}

// Review: ImageBase 0 asked mmap for address 0 (root may get it) and returned a NULL view. Windows never
// maps below 64 KiB: the preferred base counts as taken.
TEST(ImageHostile, ImageBaseZeroIsNeverMappedAtZero) {
  test::PeBuilder b(false);
  b.image_base(0);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x10, std::byte{0x90})});
  const std::string path = write_temp(b.build(), "base0");
  auto section = ImageSection::create(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(section.has_value()) << section.error().to_string();
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value()) << view.error().to_string();
  EXPECT_GE(reinterpret_cast<uint64_t>(view->base()), 0x10000u);
  EXPECT_FALSE(view->at_preferred_base());
}

// Review: two threads creating the same file each built an image object. There is one per file. And the second
// build once waited forever for an exclusive lock on the Shared section's object that the first build held shared
// (about one round in 400 under load): enough rounds to meet it.
TEST(ImageHostile, ConcurrentCreatesShareOneImageObject) {
  const std::string image = bin("x86/shared.dll");
  for (int round = 0; round < 1000; ++round) {
    std::shared_ptr<ImageSection> a, b;
    std::thread t1([&] { a = *ImageSection::create(image); });
    std::thread t2([&] { b = *ImageSection::create(image); });
    t1.join();
    t2.join();
    ASSERT_EQ(a.get(), b.get()) << "round " << round;
  }
}

// Review: SEC_IMAGE reopened the file by path. It uses the handle's file, even when the path is gone.
TEST(ImageHostile, SecImageUsesTheHandlesFileNotThePath) {
  const auto copy = std::filesystem::temp_directory_path() / ("pemap-handle-" + std::to_string(getpid()) + ".dll");
  std::filesystem::copy_file(bin("x64/liba.dll"), copy, std::filesystem::copy_options::overwrite_existing);
  auto file = FileHandle::open(copy.string(), false);
  ASSERT_TRUE(file.has_value());
  std::filesystem::remove(copy);
  auto section = create_file_mapping(&*file, PAGE_READONLY | SEC_IMAGE, 0);
  ASSERT_TRUE(section.has_value()) << section.error().to_string();
  EXPECT_EQ(section->size(), 0x8000u);
}

// Review: reading a no-access section through a view faulted (diff-views, dump --view image). The image
// object is read instead; the view's page is PROT_NONE as the section asks.
TEST(ImageHostile, NoAccessSectionIsReadableThroughTheImageObject) {
  test::PeBuilder b(false);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x10, std::byte{0x90})});
  b.add_section({.name = ".n", .data = std::vector<std::byte>(0x10, std::byte{0x5a}), .characteristics = 0});
  const std::string path = write_temp(b.build(), "noaccess");
  auto section = ImageSection::create(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(section.has_value()) << section.error().to_string();
  const auto& n = (*section)->regions().back();
  ASSERT_EQ(n.name, ".n");
  EXPECT_EQ(n.protect, PAGE_NOACCESS);
  const auto bytes = (*section)->read(n.rva, 0x20);
  ASSERT_EQ(bytes.size(), 0x20u);
  EXPECT_EQ(bytes[0], std::byte{0x5a});
  EXPECT_EQ(bytes[0x1f], std::byte{0});
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(kernel_perms(view->base() + n.rva), "---p");
}

// Review: a page between two sections of an image view is reserved, not committed.
TEST(ImageHostile, GapsBetweenSectionsAreReserved) {
  test::PeBuilder b(false);
  b.section_alignment(0x10000).file_alignment(0x200);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x10, std::byte{0x90})});
  b.add_section({.name = ".data", .data = std::vector<std::byte>(0x10, std::byte{1}), .characteristics = 0xC0000040});
  const std::string path = write_temp(b.build(), "gap");
  auto section = ImageSection::create(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(section.has_value()) << section.error().to_string();
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value());
  auto gap = virtual_query(view->base() + 0x11000);  // after .text's page, before .data at 0x20000
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->state, MEM_RESERVE);
  EXPECT_EQ(gap->type, MEM_IMAGE);
  EXPECT_EQ(gap->base + gap->region_size, reinterpret_cast<uint64_t>(view->base()) + 0x20000);
}

// Review: sections sharing one stretch of raw data were each copied, 300 MiB from a 1 MiB file. pemap
// copies where Windows maps, so it refuses past 16 x the file + 256 MiB with ERROR_NOT_ENOUGH_MEMORY.
TEST(ImageHostile, SectionsSharingRawDataCannotMultiplyMemoryWithoutBound) {
  test::PeBuilder b(false);
  constexpr uint32_t kShared = 0x10000, kSize = 0x100000;
  b.add_section({.name = ".a",
                 .virtual_size = kSize,
                 .data = std::vector<std::byte>(kSize, std::byte{1}),
                 .characteristics = 0x40000040,
                 .virtual_address = 0x100000,
                 .raw_pointer = kShared});
  for (uint32_t i = 1; i < 300; ++i)
    b.add_section({.name = ".s",
                   .virtual_size = kSize,
                   .characteristics = 0x40000040,
                   .virtual_address = 0x100000 + i * kSize,
                   .raw_pointer = kShared,
                   .raw_size = kSize});
  const std::string path = write_temp(b.build(), "amp");
  auto section = ImageSection::create(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(section.has_value());
  EXPECT_EQ(section.error().win32, static_cast<uint32_t>(Win32Error::not_enough_memory));
  EXPECT_NE(section.error().message.find("sections sharing raw data"), std::string::npos)
      << section.error().to_string();
}

}  // namespace
}  // namespace pemap::win

namespace pemap::win {
namespace {

// Runs the probe as a fresh process (exec: nothing inherited) and returns what it printed.
int64_t run_probe(const std::string& image, const char* flag) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    execl(PEMAP_SHARED_PROBE, "pemap_shared_probe", image.c_str(), flag, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char buf[32] = {};
  const ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return n > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? std::stoll(buf) : -1;
}
int64_t run_probe(const std::string& image) { return run_probe(image, nullptr); }

// Image objects are anonymous memfds: the shared section is one object for every view in this process and in
// every process pemap starts (run::Child, tests/run), but a process that maps the file on its own, with no parent
// to ask, builds its own: the counter starts from the file's bytes there.
TEST(SharedAcrossProcesses, AnUnrelatedProcessBuildsItsOwnObject) {
  const std::string image = bin("x86/shared.dll");
  const auto before = test::pemap_shm_names();
  auto section = ImageSection::create(image);
  ASSERT_TRUE(section.has_value());
  auto view = ImageView::map(*section);
  ASSERT_TRUE(view.has_value());
  uint64_t rva = 0;
  for (const auto& r : (*section)->regions())
    if (r.shared()) rva = r.rva;
  view->base()[rva] = std::byte{41};
  EXPECT_EQ(run_probe(image), 1);
  EXPECT_EQ(run_probe(image), 1);
  EXPECT_EQ(static_cast<unsigned char>(view->base()[rva]), 41u);
  EXPECT_EQ(test::pemap_shm_names(), before) << "an image object has a name in /dev/shm";
}

// Nothing of a process that dies holding an image survives it: no name, no memory.
TEST(SharedAcrossProcesses, AProcessThatDiesHoldingAnImageLeavesNothing) {
  const std::string image = bin("x64/shared.dll");
  const auto before = test::pemap_shm_names();
  EXPECT_EQ(run_probe(image, "--crash"), 1);
  EXPECT_EQ(test::pemap_shm_names(), before);
  EXPECT_EQ(run_probe(image), 1);
  EXPECT_EQ(test::pemap_shm_names(), before);
}

// The image object is sealed once filled: no process, whatever code it runs, can write the pages every view starts
// from (Windows backs them with the file, read-only).
TEST(SharedAcrossProcesses, TheImageObjectIsSealedAgainstWrites) {
  auto section = ImageSection::create(bin("x64/liba.dll"));
  ASSERT_TRUE(section.has_value());
  const int fd = (*section)->objects().image;
  ASSERT_GE(fd, 0);
  const int seals = fcntl(fd, F_GET_SEALS);
  EXPECT_TRUE(seals & F_SEAL_WRITE);
  EXPECT_TRUE(seals & F_SEAL_SEAL);
  const char x = 'x';
  EXPECT_EQ(pwrite(fd, &x, 1, 0), -1);
  EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
}

}  // namespace
}  // namespace pemap::win
