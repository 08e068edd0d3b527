// Section objects and views (CreateFile, CreateFileMapping, OpenFileMapping, MapViewOfFile(Ex), FlushViewOfFile,
// UnmapViewOfFile): each Win32 rule with the exact GetLastError code, coherence, copy-on-write, and two processes.
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "memory/section.hpp"
#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"

namespace pemap::win {
namespace {

constexpr uint32_t kFileNotFound = static_cast<uint32_t>(Win32Error::file_not_found);
constexpr uint32_t kAccessDenied = static_cast<uint32_t>(Win32Error::access_denied);
constexpr uint32_t kInvalidHandle = static_cast<uint32_t>(Win32Error::invalid_handle);
constexpr uint32_t kInvalidParameter = static_cast<uint32_t>(Win32Error::invalid_parameter);
constexpr uint32_t kInvalidAddress = static_cast<uint32_t>(Win32Error::invalid_address);
constexpr uint32_t kFileInvalid = static_cast<uint32_t>(Win32Error::file_invalid);
constexpr uint32_t kMappedAlignment = static_cast<uint32_t>(Win32Error::mapped_alignment);
constexpr size_t k64K = kAllocationGranularity;

/// The Win32 code of a failed result, or 0 (ERROR_SUCCESS) when it succeeded; checks the name is in the message.
template <class T>
uint32_t win32_of(const Result<T>& r) {
  if (r.has_value()) return 0;
  const auto name = std::string(win32_error_name(static_cast<Win32Error>(r.error().win32)));
  EXPECT_NE(r.error().message.find(name), std::string::npos) << r.error().to_string();
  return r.error().win32;
}

std::string unique_name(const char* what) {
  static int counter = 0;
  return std::string("test_") + what + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
}

/// A 64 KiB-aligned address with nothing mapped at [a, a + len) right now.
void* free_aligned_address(size_t len) {
  void* p = mmap(nullptr, len + k64K, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  munmap(p, len + k64K);
  return reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(p) + k64K - 1) & ~(uintptr_t{k64K} - 1));
}

class Sections : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/pemap_sections.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }

  /// A file of `size` bytes where byte i is (i * 7 + i / 4096) & 0xff.
  std::string make_file(const std::string& name, size_t size) {
    std::vector<unsigned char> bytes(size);
    for (size_t i = 0; i < size; ++i) bytes[i] = pattern(i);
    const std::string path = dir_ + "/" + name;
    const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), size), static_cast<ssize_t>(size));
    ::close(fd);
    files_.push_back(path);
    return path;
  }
  static unsigned char pattern(size_t i) { return static_cast<unsigned char>((i * 7 + i / 4096) & 0xff); }

  /// The file's bytes through read(), not through any mapping.
  static std::vector<unsigned char> read_back(const std::string& path) {
    std::vector<unsigned char> out;
    const int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    unsigned char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + n);
    ::close(fd);
    return out;
  }
  static uint64_t file_size(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_size);
  }

  FileHandle open_ok(const std::string& path, bool writable) {
    auto f = FileHandle::open(path, writable);
    EXPECT_TRUE(f.has_value()) << f.error().to_string();
    return f.has_value() ? std::move(f).value() : FileHandle();
  }
  static SectionHandle section_ok(Result<SectionHandle> r) {
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r.has_value() ? std::move(r).value() : SectionHandle();
  }
  static unsigned char* view_ok(Result<void*> r) {
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r.has_value() ? static_cast<unsigned char*>(*r) : nullptr;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

// ---- CreateFile ---------------------------------------------------------------------------------------------------

TEST_F(Sections, OpenMissingFileIsFileNotFound) {
  auto f = FileHandle::open(dir_ + "/missing", false);
  EXPECT_EQ(win32_of(f), kFileNotFound);
  EXPECT_EQ(f.error().structure, "CreateFile");
  EXPECT_EQ(win32_of(FileHandle::open(dir_ + "/no/such/dir", true)), kFileNotFound);
}

TEST_F(Sections, OpenDirectoryIsAccessDenied) { EXPECT_EQ(win32_of(FileHandle::open(dir_, false)), kAccessDenied); }

TEST_F(Sections, FileHandleIsMoveOnlyAndCloses) {
  auto a = open_ok(make_file("f", 100), true);
  EXPECT_TRUE(a.valid());
  EXPECT_TRUE(a.writable());
  const int fd = a.fd();
  FileHandle b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from is INVALID_HANDLE_VALUE
  EXPECT_EQ(b.fd(), fd);
  b.close();
  EXPECT_FALSE(b.valid());
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);  // the fd is really closed
}

// ---- CreateFileMapping: rules -------------------------------------------------------------------------------------

TEST_F(Sections, PageFileSectionOfSizeZeroIsInvalidParameter) {
  EXPECT_EQ(win32_of(create_file_mapping(nullptr, PAGE_READWRITE, 0)), kInvalidParameter);
}

TEST_F(Sections, EmptyFileWithSizeZeroIsFileInvalid) {
  auto f = open_ok(make_file("empty", 0), true);
  EXPECT_EQ(win32_of(create_file_mapping(&f, PAGE_READWRITE, 0)), kFileInvalid);
}

TEST_F(Sections, SizeZeroTakesTheFileSize) {
  auto f = open_ok(make_file("f", 12345), false);
  auto s = section_ok(create_file_mapping(&f, PAGE_READONLY, 0));
  EXPECT_EQ(s.size(), 12345u);
  EXPECT_EQ(s.protect(), PAGE_READONLY);
  EXPECT_FALSE(s.existed());
}

TEST_F(Sections, ProtectionsWindowsRejectAreInvalidParameter) {
  const uint32_t bad[] = {0,
                          PAGE_NOACCESS,
                          PAGE_EXECUTE,
                          PAGE_EXECUTE_WRITECOPY,
                          PAGE_READONLY | PAGE_READWRITE,
                          PAGE_READWRITE | SEC_COMMIT | SEC_RESERVE,
                          PAGE_READWRITE | 0x100,
                          PAGE_READWRITE | 0x20000000};
  for (uint32_t protect : bad) {
    EXPECT_EQ(win32_of(create_file_mapping(nullptr, protect, 0x1000)), kInvalidParameter) << std::hex << protect;
  }
}

TEST_F(Sections, ProtectionsWindowsAcceptSucceed) {
  const uint32_t good[] = {PAGE_READONLY,
                           PAGE_READWRITE,
                           PAGE_WRITECOPY,
                           PAGE_EXECUTE_READ,
                           PAGE_EXECUTE_READWRITE,
                           PAGE_READWRITE | SEC_COMMIT,
                           PAGE_READWRITE | SEC_RESERVE,
                           PAGE_READONLY | SEC_COMMIT | SEC_NOCACHE};
  for (uint32_t protect : good) {
    auto s = create_file_mapping(nullptr, protect, 0x1000);
    ASSERT_TRUE(s.has_value()) << std::hex << protect << ": " << s.error().to_string();
    EXPECT_EQ(s->protect(), protect & 0xff);
    EXPECT_EQ(s->size(), 0x1000u);
  }
}

// SEC_IMAGE goes to the image loader (tests/image/): a file that is not a PE image is ERROR_BAD_EXE_FORMAT.
TEST_F(Sections, SecImageOnAFileThatIsNotAnImageIsBadExeFormat) {
  auto f = open_ok(make_file("f", 0x1000), false);
  auto s = create_file_mapping(&f, PAGE_READONLY | SEC_IMAGE, 0);
  EXPECT_EQ(win32_of(s), 193u);  // ERROR_BAD_EXE_FORMAT
  EXPECT_EQ(s.error().status, Status::invalid_image_not_mz);
}

TEST_F(Sections, WritableProtectionOnReadOnlyFileIsAccessDenied) {
  auto f = open_ok(make_file("f", 0x1000), false);
  EXPECT_EQ(win32_of(create_file_mapping(&f, PAGE_READWRITE, 0)), kAccessDenied);
  EXPECT_EQ(win32_of(create_file_mapping(&f, PAGE_EXECUTE_READWRITE, 0)), kAccessDenied);
  // Copy-on-write and read-only need only read access.
  EXPECT_EQ(win32_of(create_file_mapping(&f, PAGE_WRITECOPY, 0)), 0u);
  EXPECT_EQ(win32_of(create_file_mapping(&f, PAGE_READONLY, 0)), 0u);
  EXPECT_EQ(win32_of(create_file_mapping(&f, PAGE_EXECUTE_READ, 0)), 0u);
}

TEST_F(Sections, ClosedFileHandleIsInvalidHandle) {
  auto f = open_ok(make_file("f", 0x1000), true);
  f.close();
  EXPECT_EQ(win32_of(create_file_mapping(&f, PAGE_READWRITE, 0)), kInvalidHandle);
}

TEST_F(Sections, LargerWritableSectionGrowsTheFile) {
  const auto path = make_file("f", 100);
  auto f = open_ok(path, true);
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0x20000));
  EXPECT_EQ(s.size(), 0x20000u);
  EXPECT_EQ(file_size(path), 0x20000u);
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v[99], pattern(99));
  EXPECT_EQ(v[100], 0);  // the grown part reads as zeros
  v[0x1ffff] = 0x5a;
  ASSERT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_EQ(read_back(path).at(0x1ffff), 0x5a);
}

TEST_F(Sections, ReadOnlyFileNeverChangesSize) {
  const auto path = make_file("f", 100);
  auto ro = open_ok(path, false);
  EXPECT_EQ(win32_of(create_file_mapping(&ro, PAGE_READONLY, 0x20000)), kAccessDenied);
  EXPECT_EQ(win32_of(create_file_mapping(&ro, PAGE_WRITECOPY, 0x20000)), kAccessDenied);
  // A writable handle with a protection that does not write does not grow it either.
  auto rw = open_ok(path, true);
  EXPECT_EQ(win32_of(create_file_mapping(&rw, PAGE_READONLY, 0x20000)), kAccessDenied);
  EXPECT_EQ(win32_of(create_file_mapping(&rw, PAGE_WRITECOPY, 0x20000)), kAccessDenied);
  EXPECT_EQ(win32_of(create_file_mapping(&rw, PAGE_EXECUTE_READ, 0x20000)), kAccessDenied);
  EXPECT_EQ(file_size(path), 100u);
  // A size within the file is fine and leaves it alone too.
  EXPECT_EQ(section_ok(create_file_mapping(&ro, PAGE_READONLY, 50)).size(), 50u);
  EXPECT_EQ(file_size(path), 100u);
}

TEST_F(Sections, InvalidNameIsInvalidParameter) {
  EXPECT_EQ(win32_of(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, "a/b")), kInvalidParameter);
  EXPECT_EQ(win32_of(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, "a\\b")), kInvalidParameter);
  EXPECT_EQ(win32_of(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, std::string(201, 'x'))), kInvalidParameter);
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ, "")), kInvalidParameter);
}

// ---- Named sections -----------------------------------------------------------------------------------------------

TEST_F(Sections, ExistingNameReturnsTheExistingSection) {
  const auto name = unique_name("exists");
  auto first = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x10000, name));
  EXPECT_FALSE(first.existed());
  auto* v1 = view_ok(map_view_of_file(first, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(v1, nullptr);
  v1[10] = 0x42;
  // Another size and protection: the existing section wins, as on Windows.
  auto second = section_ok(create_file_mapping(nullptr, PAGE_READONLY, 0x30000, name));
  EXPECT_TRUE(second.existed());
  EXPECT_EQ(second.size(), 0x10000u);
  EXPECT_EQ(second.protect(), PAGE_READWRITE);
  EXPECT_EQ(second.object(), first.object());
  auto* v2 = view_ok(map_view_of_file(second, FILE_MAP_READ, 0, 0));
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2[10], 0x42);
  EXPECT_TRUE(unmap_view_of_file(v1).has_value());
  EXPECT_TRUE(unmap_view_of_file(v2).has_value());
}

TEST_F(Sections, NameGoesWithTheLastReference) {
  const auto name = unique_name("gone");
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, name));
  const std::string shm_path = "/dev/shm/pemap." + name;
  EXPECT_NE(access(shm_path.c_str(), F_OK), 0) << "a name is never a file that could outlive its holders";
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_READ, 0, 0));
  s.close();
  // The view still refers to it: still openable by name.
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ, name)), 0u);
  ASSERT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ, name)), kFileNotFound);
  EXPECT_NE(access(shm_path.c_str(), F_OK), 0);
}

TEST_F(Sections, OpenMissingNameIsFileNotFound) {
  auto s = open_file_mapping(FILE_MAP_READ, unique_name("missing"));
  EXPECT_EQ(win32_of(s), kFileNotFound);
  EXPECT_EQ(s.error().structure, "OpenFileMapping");
}

TEST_F(Sections, NamedFileSectionOpensInThisProcess) {
  const auto path = make_file("f", 0x2000);
  auto f = open_ok(path, true);
  const auto name = unique_name("file");
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0, name));
  auto opened = section_ok(open_file_mapping(FILE_MAP_ALL_ACCESS, name));
  EXPECT_EQ(opened.object(), s.object());
  EXPECT_EQ(opened.size(), 0x2000u);
  auto* a = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  auto* b = view_ok(map_view_of_file(opened, FILE_MAP_READ, 0, 0));
  ASSERT_TRUE(a && b);
  a[0x1234] = 0x77;
  EXPECT_EQ(b[0x1234], 0x77);
  EXPECT_TRUE(unmap_view_of_file(a).has_value());
  EXPECT_TRUE(unmap_view_of_file(b).has_value());
}

TEST_F(Sections, OpenAccessBeyondTheProtectionIsAccessDenied) {
  const auto name = unique_name("ro");
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READONLY, 0x1000, name));
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_WRITE, name)), kAccessDenied);
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ | FILE_MAP_EXECUTE, name)), kAccessDenied);
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ, name)), 0u);
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_COPY, name)), 0u);
}

TEST_F(Sections, ViewNeedsTheHandlesRights) {
  const auto name = unique_name("rights");
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, name));
  auto read_only = section_ok(open_file_mapping(FILE_MAP_READ, name));
  EXPECT_EQ(win32_of(map_view_of_file(read_only, FILE_MAP_WRITE, 0, 0)), kAccessDenied);
  auto* v = view_ok(map_view_of_file(read_only, FILE_MAP_COPY, 0, 0));  // read implies copy
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

// ---- MapViewOfFile: rules -----------------------------------------------------------------------------------------

TEST_F(Sections, UnalignedOffsetIsMappedAlignment) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x30000));
  EXPECT_EQ(win32_of(map_view_of_file(s, FILE_MAP_READ, 0x1000, 0x1000)), kMappedAlignment);
  EXPECT_EQ(win32_of(map_view_of_file(s, FILE_MAP_READ, 0x10001, 0)), kMappedAlignment);
}

TEST_F(Sections, AlignedOffsetShowsThatPartOfTheFile) {
  auto f = open_ok(make_file("f", 0x30000), false);
  auto s = section_ok(create_file_mapping(&f, PAGE_READONLY, 0));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_READ, 0x20000, 0));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v[0], pattern(0x20000));
  EXPECT_EQ(v[0xffff], pattern(0x2ffff));
  auto info = find_view(v + 0x8000);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->base, reinterpret_cast<uint64_t>(v));
  EXPECT_EQ(info->size, 0x10000u);  // size 0: to the end of the section
  EXPECT_EQ(info->offset, 0x20000u);
  EXPECT_EQ(info->access, FILE_MAP_READ);
  EXPECT_EQ(info->protect, PAGE_READONLY);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(Sections, ViewPastTheEndIsAccessDenied) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x18000));
  EXPECT_EQ(win32_of(map_view_of_file(s, FILE_MAP_READ, 0, 0x18001)), kAccessDenied);
  EXPECT_EQ(win32_of(map_view_of_file(s, FILE_MAP_READ, 0x10000, 0x8001)), kAccessDenied);
  EXPECT_EQ(win32_of(map_view_of_file(s, FILE_MAP_READ, 0x20000, 0)), kAccessDenied);
  EXPECT_EQ(win32_of(map_view_of_file(s, FILE_MAP_READ, 0x10000, SIZE_MAX)), kAccessDenied);  // no wrap-around
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_READ, 0x10000, 0x8000));                     // exactly to the end
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(Sections, ViewAccessIsCheckedAgainstTheSectionProtection) {
  struct Case {
    uint32_t protect, access, expected;
  };
  const Case cases[] = {
      {PAGE_READONLY, FILE_MAP_READ, 0},
      {PAGE_READONLY, FILE_MAP_WRITE, kAccessDenied},
      {PAGE_READONLY, FILE_MAP_COPY, 0},
      {PAGE_READONLY, FILE_MAP_READ | FILE_MAP_EXECUTE, kAccessDenied},
      {PAGE_READWRITE, FILE_MAP_WRITE, 0},
      {PAGE_READWRITE, FILE_MAP_ALL_ACCESS, 0},
      {PAGE_READWRITE, FILE_MAP_COPY, 0},
      {PAGE_READWRITE, FILE_MAP_READ | FILE_MAP_EXECUTE, kAccessDenied},
      {PAGE_WRITECOPY, FILE_MAP_READ, 0},
      {PAGE_WRITECOPY, FILE_MAP_COPY, 0},
      {PAGE_WRITECOPY, FILE_MAP_WRITE, kAccessDenied},
      {PAGE_EXECUTE_READ, FILE_MAP_READ | FILE_MAP_EXECUTE, 0},
      {PAGE_EXECUTE_READ, FILE_MAP_COPY, 0},
      {PAGE_EXECUTE_READ, FILE_MAP_WRITE, kAccessDenied},
      {PAGE_EXECUTE_READWRITE, FILE_MAP_WRITE | FILE_MAP_EXECUTE, 0},
      {PAGE_EXECUTE_READWRITE, FILE_MAP_COPY, 0},
  };
  for (const auto& c : cases) {
    auto s = section_ok(create_file_mapping(nullptr, c.protect, 0x1000));
    auto v = map_view_of_file(s, c.access, 0, 0);
    EXPECT_EQ(win32_of(v), c.expected) << std::hex << "protect " << c.protect << " access " << c.access;
    if (v) {
      EXPECT_TRUE(unmap_view_of_file(*v).has_value());
    }
  }
}

TEST_F(Sections, ClosedSectionHandleIsInvalidHandle) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000));
  s.close();
  EXPECT_FALSE(s.valid());
  EXPECT_EQ(win32_of(map_view_of_file(s, FILE_MAP_READ, 0, 0)), kInvalidHandle);
  EXPECT_EQ(win32_of(map_view_of_file(SectionHandle(), FILE_MAP_READ, 0, 0)), kInvalidHandle);
}

TEST_F(Sections, ViewsAreAlignedToTheAllocationGranularity) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x3000));
  std::vector<unsigned char*> views;
  for (int i = 0; i < 8; ++i) {
    auto* v = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0x3000));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v) % k64K, 0u);
    views.push_back(v);
  }
  for (auto* v : views) EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

// ---- Coherence and copy-on-write ----------------------------------------------------------------------------------

TEST_F(Sections, TwoViewsOfAFileSectionAreCoherent) {
  const auto path = make_file("f", 0x20000);
  auto f = open_ok(path, true);
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0));
  auto* whole = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  auto* second = view_ok(map_view_of_file(s, FILE_MAP_READ, 0x10000, 0x10000));
  ASSERT_TRUE(whole && second);
  ASSERT_NE(whole + 0x10000, second);
  whole[0x10010] = 0xab;
  EXPECT_EQ(second[0x10], 0xab);
  EXPECT_EQ(second[0x11], pattern(0x10011));
  EXPECT_TRUE(unmap_view_of_file(whole).has_value());
  EXPECT_TRUE(unmap_view_of_file(second).has_value());
}

TEST_F(Sections, TwoViewsOfAPageFileSectionAreCoherent) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x20000));
  auto* a = view_ok(map_view_of_file(s, FILE_MAP_ALL_ACCESS, 0, 0));
  auto* b = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a[0x1fff0], 0);  // page-file sections start zeroed
  std::memcpy(a + 0x1fff0, "coherent", 8);
  EXPECT_EQ(std::memcmp(b + 0x1fff0, "coherent", 8), 0);
  b[0] = 9;
  EXPECT_EQ(a[0], 9);
  EXPECT_TRUE(unmap_view_of_file(a).has_value());
  EXPECT_TRUE(unmap_view_of_file(b).has_value());
}

TEST_F(Sections, CopyViewWritesStayPrivate) {
  const auto path = make_file("f", 0x10000);
  auto f = open_ok(path, true);
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0));
  auto* shared = view_ok(map_view_of_file(s, FILE_MAP_READ, 0, 0));
  auto* copy = view_ok(map_view_of_file(s, FILE_MAP_COPY, 0, 0));
  ASSERT_TRUE(shared && copy);
  copy[5] = static_cast<unsigned char>(~pattern(5));
  EXPECT_EQ(copy[5], static_cast<unsigned char>(~pattern(5)));
  EXPECT_EQ(shared[5], pattern(5));
  EXPECT_TRUE(flush_view_of_file(copy, 0).has_value());
  EXPECT_TRUE(unmap_view_of_file(copy).has_value());
  EXPECT_EQ(read_back(path).at(5), pattern(5));
  EXPECT_EQ(shared[5], pattern(5));
  EXPECT_TRUE(unmap_view_of_file(shared).has_value());
}

TEST_F(Sections, CopyViewOfAReadOnlyFileIsWritable) {
  const auto path = make_file("f", 0x1000);
  auto f = open_ok(path, false);
  auto s = section_ok(create_file_mapping(&f, PAGE_WRITECOPY, 0));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_COPY, 0, 0));
  ASSERT_NE(v, nullptr);
  v[0] = static_cast<unsigned char>(pattern(0) + 1);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_EQ(read_back(path).at(0), pattern(0));
}

// ---- FlushViewOfFile / UnmapViewOfFile ----------------------------------------------------------------------------

TEST_F(Sections, FlushWritesTheFile) {
  const auto path = make_file("f", 0x20000);
  auto f = open_ok(path, true);
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(v, nullptr);
  std::memcpy(v + 0x100, "flushed", 7);
  std::memcpy(v + 0x18000, "interior", 8);
  ASSERT_TRUE(flush_view_of_file(v, 0).has_value());
  ASSERT_TRUE(flush_view_of_file(v + 0x18003, 2).has_value());         // any address inside, a few bytes
  ASSERT_TRUE(flush_view_of_file(v + 0x1ffff, 0x100000).has_value());  // a size past the end stops there
  const auto bytes = read_back(path);
  ASSERT_EQ(bytes.size(), 0x20000u);
  EXPECT_EQ(std::memcmp(bytes.data() + 0x100, "flushed", 7), 0);
  EXPECT_EQ(std::memcmp(bytes.data() + 0x18000, "interior", 8), 0);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

// What the flush wrote, as the kernel counts it: the pages written through the view are dirty until the flush, clean
// after it. A file on tmpfs has no disk to write to, so its pages stay dirty: the check needs a disk-backed file.
TEST_F(Sections, FlushLeavesNoDirtyPages) {
  auto on_tmpfs = [](const std::string& p) {
    struct statfs fs {};
    return statfs(p.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
  };
  std::string path = make_file("dirty", 0x20000);
  if (on_tmpfs(path)) {  // then the working directory (ctest's is the build tree)
    std::vector<unsigned char> bytes(0x20000, 0x5a);
    path = "pemap_flush_dirty.bin";
    const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
    files_.push_back(path);
  }
  if (on_tmpfs(path)) GTEST_SKIP() << "TMPDIR and the working directory are on tmpfs, where a flush writes nothing";
  auto f = open_ok(path, true);
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(flush_view_of_file(v, 0).has_value());
  const auto clean = dirty_bytes(v);
  ASSERT_TRUE(clean) << clean.error().to_string();
  EXPECT_EQ(*clean, 0u);
  v[0x100] = 1, v[0x5000] = 2, v[0x1f000] = 3;   // three pages
  const auto before = dirty_bytes(v + 0x10000);  // any address in the view
  ASSERT_TRUE(before);
  EXPECT_GE(*before, 3u * 0x1000);  // the kernel dirties whole folios, which may hold more than one page
  EXPECT_LE(*before, 0x20000u);
  ASSERT_TRUE(flush_view_of_file(v, 0).has_value());
  const auto after = dirty_bytes(v);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, 0u);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_EQ(win32_of(dirty_bytes(v)), kInvalidAddress);
}

TEST_F(Sections, FlushOutsideAViewIsInvalidAddress) {
  int local = 0;
  EXPECT_EQ(win32_of(flush_view_of_file(&local, 4)), kInvalidAddress);
  EXPECT_EQ(win32_of(flush_view_of_file(nullptr, 0)), kInvalidAddress);
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_EQ(win32_of(flush_view_of_file(v, 0)), kInvalidAddress);
}

TEST_F(Sections, UnmapNeedsTheBaseOfAView) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x2000));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(win32_of(unmap_view_of_file(v + 0x1000)), kInvalidAddress);
  int local = 0;
  EXPECT_EQ(win32_of(unmap_view_of_file(&local)), kInvalidAddress);
  v[0x1000] = 1;  // still mapped after the failed calls
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_EQ(win32_of(unmap_view_of_file(v)), kInvalidAddress);  // twice
  EXPECT_FALSE(find_view(v).has_value());
}

TEST_F(Sections, ClosingHandlesBeforeTheViewKeepsTheData) {
  const auto path = make_file("f", 0x10000);
  auto f = open_ok(path, true);
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(v, nullptr);
  std::weak_ptr<SectionObject> object = s.object();
  f.close();
  s.close();
  EXPECT_FALSE(object.expired());  // the view holds the section
  EXPECT_EQ(v[0x4321], pattern(0x4321));
  v[0x4321] = 0xee;
  ASSERT_TRUE(flush_view_of_file(v, 0).has_value());
  EXPECT_EQ(read_back(path).at(0x4321), 0xee);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
  EXPECT_TRUE(object.expired());  // the last reference went with the view
}

TEST_F(Sections, UnmappingTheViewFirstKeepsTheSection) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000));
  auto* a = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(a, nullptr);
  a[7] = 0x31;
  ASSERT_TRUE(unmap_view_of_file(a).has_value());
  auto dup = s.duplicate();
  s.close();
  auto* b = view_ok(map_view_of_file(dup, FILE_MAP_READ, 0, 0));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b[7], 0x31);
  EXPECT_TRUE(unmap_view_of_file(b).has_value());
}

// ---- MapViewOfFileEx ----------------------------------------------------------------------------------------------

TEST_F(Sections, ViewAtARequestedAddressLandsThere) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x20000));
  void* base = free_aligned_address(0x20000);
  auto* v = view_ok(map_view_of_file_ex(s, FILE_MAP_WRITE, 0, 0, base));
  EXPECT_EQ(v, base);
  ASSERT_NE(v, nullptr);
  v[0x1ffff] = 1;
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(Sections, TakenAddressIsInvalidAddressAndNothingIsReplaced) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x20000));
  auto* base = static_cast<unsigned char*>(free_aligned_address(0x20000));
  // Something else owns the second page of the range.
  void* taken =
      mmap(base + 0x1000, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  ASSERT_EQ(taken, base + 0x1000);
  std::memset(taken, 0x66, 0x1000);
  auto v = map_view_of_file_ex(s, FILE_MAP_WRITE, 0, 0, base);
  EXPECT_EQ(win32_of(v), kInvalidAddress);
  EXPECT_EQ(v.error().status, Status::conflicting_addresses);
  // The existing mapping is intact, and the free first page stayed free: the view did not land anywhere.
  EXPECT_EQ(static_cast<unsigned char*>(taken)[0], 0x66);
  EXPECT_EQ(static_cast<unsigned char*>(taken)[0xfff], 0x66);
  EXPECT_EQ(msync(base, 0x1000, MS_ASYNC), -1);
  EXPECT_EQ(errno, ENOMEM);  // nothing mapped there
  EXPECT_FALSE(find_view(base).has_value());
  munmap(taken, 0x1000);
}

TEST_F(Sections, ViewAtTheBaseOfAnotherViewIsInvalidAddress) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x10000));
  auto* first = view_ok(map_view_of_file(s, FILE_MAP_WRITE, 0, 0));
  ASSERT_NE(first, nullptr);
  first[0] = 0x12;
  EXPECT_EQ(win32_of(map_view_of_file_ex(s, FILE_MAP_READ, 0, 0, first)), kInvalidAddress);
  EXPECT_EQ(find_view(first)->access, FILE_MAP_WRITE);  // the registry still has the first view
  EXPECT_EQ(first[0], 0x12);
  EXPECT_TRUE(unmap_view_of_file(first).has_value());
}

TEST_F(Sections, UnalignedBaseIsMappedAlignment) {
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x10000));
  auto* base = static_cast<unsigned char*>(free_aligned_address(0x20000));
  EXPECT_EQ(win32_of(map_view_of_file_ex(s, FILE_MAP_READ, 0, 0, base + 0x1000)), kMappedAlignment);
}

// ---- Two processes ------------------------------------------------------------------------------------------------

struct Message {
  uint32_t magic;
  int32_t pid;
  char text[32];
};
constexpr uint32_t kMagic = 0x50454d41;

/// Runs `child` in a forked process and returns its exit status (0 means every check there passed).
template <class F>
int run_child(F child) {
  const pid_t pid = fork();
  if (pid == 0) _exit(child());
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

TEST_F(Sections, AnotherProcessOpensAPageFileSectionByName) {
  const auto name = unique_name("ipc");
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x10000, name));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_READ, 0, 0));
  ASSERT_NE(v, nullptr);
  const int rc = run_child([&] {
    auto opened = open_file_mapping(FILE_MAP_WRITE, name);
    if (!opened) return 10;
    if (opened->size() != 0x10000 || opened->protect() != PAGE_READWRITE) return 11;
    if (opened->object() == s.object()) return 12;  // must come through the name, not the inherited registry
    auto view = map_view_of_file(*opened, FILE_MAP_WRITE, 0, sizeof(Message));
    if (!view) return 13;
    Message m{kMagic, static_cast<int32_t>(getpid()), "hello from the child"};
    std::memcpy(*view, &m, sizeof m);
    if (!unmap_view_of_file(*view)) return 14;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  Message got{};
  std::memcpy(&got, v, sizeof got);
  EXPECT_EQ(got.magic, kMagic);
  EXPECT_NE(got.pid, getpid());
  EXPECT_STREQ(got.text, "hello from the child");
  // The child's exit did not remove the name: it is still there for others, and the child left nothing behind.
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ, name)), 0u);
  EXPECT_NE(access(("/dev/shm/pemap." + name).c_str(), F_OK), 0);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

// A process killed while it holds a named section runs no destructor; the kernel drops the name with it.
TEST_F(Sections, ANameGoesWithAHolderKilledBySigkill) {
  const auto name = unique_name("killed");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t holder = fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    auto s = create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, name);
    const char ok = s.has_value() ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  ASSERT_EQ(ok, 'y');
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ, name)), 0u) << "the holder publishes it";
  kill(holder, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(holder, &status, 0), holder);
  EXPECT_EQ(win32_of(open_file_mapping(FILE_MAP_READ, name)), kFileNotFound);
  EXPECT_NE(access(("/dev/shm/pemap." + name).c_str(), F_OK), 0);
  // A new section may take the name again: nothing stale stands in the way.
  auto again = section_ok(create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, name));
  EXPECT_FALSE(again.existed());
}

TEST_F(Sections, AnotherProcessCreatingTheSameNameGetsAlreadyExists) {
  const auto name = unique_name("ipc_exists");
  auto s = section_ok(create_file_mapping(nullptr, PAGE_READONLY, 0x20000, name));
  const int rc = run_child([&] {
    auto again = create_file_mapping(nullptr, PAGE_READWRITE, 0x1000, name);
    if (!again) return 10;
    if (!again->existed()) return 11;
    if (again->size() != 0x20000) return 12;
    if (again->protect() != PAGE_READONLY) return 13;  // as the holder says
    // Read-only elsewhere too: write access is refused.
    auto rw = open_file_mapping(FILE_MAP_WRITE, name);
    if (rw || rw.error().win32 != kAccessDenied) return 14;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(Sections, AnotherProcessSeesTheProtectionOfANamedSection) {
  const auto ro = unique_name("ipc_ro"), wc = unique_name("ipc_wc"), rx = unique_name("ipc_rx");
  auto s1 = section_ok(create_file_mapping(nullptr, PAGE_READONLY, 0x1000, ro));
  auto s2 = section_ok(create_file_mapping(nullptr, PAGE_WRITECOPY, 0x1000, wc));
  auto s3 = section_ok(create_file_mapping(nullptr, PAGE_EXECUTE_READ, 0x1000, rx));
  const int rc = run_child([&] {
    // Straight to OpenFileMapping: the child's only way in is the name its parent publishes.
    auto write_ro = open_file_mapping(FILE_MAP_WRITE, ro);
    if (write_ro || write_ro.error().win32 != kAccessDenied) return 10;
    auto read_ro = open_file_mapping(FILE_MAP_READ, ro);
    if (!read_ro || read_ro->protect() != PAGE_READONLY || read_ro->object() == s1.object()) return 11;
    auto read_wc = open_file_mapping(FILE_MAP_COPY, wc);
    if (!read_wc || read_wc->protect() != PAGE_WRITECOPY) return 12;
    auto copy = map_view_of_file(*read_wc, FILE_MAP_COPY, 0, 0);
    if (!copy) return 13;
    static_cast<char*>(*copy)[0] = 1;  // private to this view
    auto read_rx = open_file_mapping(FILE_MAP_READ | FILE_MAP_EXECUTE, rx);
    if (!read_rx || read_rx->protect() != PAGE_EXECUTE_READ) return 14;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  auto* v = view_ok(map_view_of_file(s2, FILE_MAP_READ, 0, 0));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v[0], 0);  // the child's copy-on-write write stayed in the child
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

TEST_F(Sections, AFileSectionIsSharedByFork) {
  const auto path = make_file("f", 0x10000);
  auto f = open_ok(path, true);
  auto s = section_ok(create_file_mapping(&f, PAGE_READWRITE, 0));
  auto* v = view_ok(map_view_of_file(s, FILE_MAP_READ, 0, 0));
  ASSERT_NE(v, nullptr);
  const int rc = run_child([&] {
    // The inherited handle maps a new view in the child.
    auto view = map_view_of_file(s, FILE_MAP_WRITE, 0, 0);
    if (!view) return 10;
    std::memcpy(static_cast<char*>(*view) + 0x8000, "child", 5);
    if (!flush_view_of_file(*view, 0)) return 11;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(std::memcmp(v + 0x8000, "child", 5), 0);
  EXPECT_EQ(std::memcmp(read_back(path).data() + 0x8000, "child", 5), 0);
  EXPECT_TRUE(unmap_view_of_file(v).has_value());
}

}  // namespace
}  // namespace pemap::win
