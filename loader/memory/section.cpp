// Section objects and views: the Win32 rules checked first, then fds, memfds and mmap do the work.
#include "memory/section.hpp"

#include "memory/image_section.hpp"
#include "memory/section_names.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

namespace pemap::win {
namespace {

constexpr uint32_t kPageMask = 0xff;
constexpr size_t kMaxNameLength = 200;
// CreateFileMapping's handle has SECTION_ALL_ACCESS, which FILE_MAP_ALL_ACCESS falls short of by FILE_MAP_EXECUTE.
constexpr uint32_t kCreatorAccess = FILE_MAP_ALL_ACCESS | FILE_MAP_EXECUTE;

std::string errno_text(int err) { return std::strerror(err); }

uint64_t page_round_up(uint64_t n) { return (n + kPageSize - 1) & ~(kPageSize - 1); }

bool is_valid_page_protect(uint32_t p) {
  return p == PAGE_READONLY || p == PAGE_READWRITE || p == PAGE_WRITECOPY || p == PAGE_EXECUTE_READ ||
         p == PAGE_EXECUTE_READWRITE;
}
bool is_writable_protect(uint32_t p) { return p == PAGE_READWRITE || p == PAGE_EXECUTE_READWRITE; }
bool is_execute_protect(uint32_t p) { return (p & 0xf0) != 0; }

/// Names are one path component, as the object manager's are.
bool is_valid_name(std::string_view name) {
  return name.size() <= kMaxNameLength && name.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

/// Named sections of this process. Weak: a name lives as long as its section (as a Windows object name does).
/// Recursive: a section dropped on an error path while the registry is locked erases its own name.
struct NameRegistry {
  std::recursive_mutex mutex;
  std::map<std::string, std::weak_ptr<SectionObject>, std::less<>> sections;
};
NameRegistry& names() {
  static auto* registry = new NameRegistry;  // never destroyed: sections may outlive static destruction
  return *registry;
}

/// Every view of the process, by base.
struct ViewRegistry {
  std::mutex mutex;
  std::map<uint64_t, ViewInfo> views;
};
ViewRegistry& views() {
  static auto* registry = new ViewRegistry;
  return *registry;
}

/// A live section of that name in this process. Entries a fork inherited from the parent do not count: the name
/// belongs to the parent, and the child reaches the section through it like any other process.
std::shared_ptr<SectionObject> find_named_locked(std::string_view name) {
  auto& reg = names();
  auto it = reg.sections.find(name);
  if (it == reg.sections.end()) return nullptr;
  auto object = it->second.lock();
  return object && object->owner_pid == getpid() ? object : nullptr;
}

/// Gives `object` its name in this process and publishes it for others; false when another process holds the name.
Result<bool> name_section(const std::shared_ptr<SectionObject>& object, std::string_view name) {
  object->name = std::string(name);
  object->owner_pid = getpid();
  auto published = publish_section_name(name, object);
  if (!published) return published.take_error();
  if (!*published) return false;
  object->publication = std::move(*published);
  names().sections[object->name] = object;
  return true;
}

/// The section another process holds under `name`, as this process's own object; nullptr when nobody holds it.
Result<std::shared_ptr<SectionObject>> open_named_elsewhere(std::string_view name, bool want_write) {
  auto published = open_published_section(name, want_write);
  if (!published) return published.take_error();
  if (!*published) return std::shared_ptr<SectionObject>();
  auto object = std::make_shared<SectionObject>();
  object->fd = (*published)->fd;
  object->fd_writable = (*published)->writable;
  object->backing = (*published)->file ? SectionObject::Backing::file : SectionObject::Backing::page_file;
  object->size = (*published)->size;
  object->protect = (*published)->protect;
  object->name = std::string(name);
  object->owner_pid = getpid();
  names().sections[object->name] = object;
  return object;
}

/// Rights a handle with `access` may map with: FILE_MAP_ALL_ACCESS and FILE_MAP_WRITE imply read and copy.
bool handle_allows(uint32_t handle_access, uint32_t view_access) {
  uint32_t rights = handle_access;
  if (rights & FILE_MAP_WRITE) rights |= FILE_MAP_READ | FILE_MAP_COPY;
  if (rights & FILE_MAP_READ) rights |= FILE_MAP_COPY;
  return (view_access & (FILE_MAP_READ | FILE_MAP_WRITE | FILE_MAP_COPY | FILE_MAP_EXECUTE) & ~rights) == 0;
}

/// The section protection a handle opened with `access` needs (OpenFileMapping's check).
std::optional<std::string> access_refused(uint32_t access, uint32_t section_protect) {
  if ((access & FILE_MAP_WRITE) && !is_writable_protect(section_protect)) {
    return fmt::format("write access to a {} section", protection_name(section_protect));
  }
  if ((access & FILE_MAP_EXECUTE) && !is_execute_protect(section_protect)) {
    return fmt::format("execute access to a {} section", protection_name(section_protect));
  }
  return std::nullopt;
}

/// The page protection of a view, as Wine's kernelbase MapViewOfFileEx derives it from the access.
uint32_t view_protect(uint32_t access) {
  uint32_t protect = PAGE_NOACCESS;
  if (access & FILE_MAP_WRITE) {
    protect = PAGE_READWRITE;
  } else if (access & FILE_MAP_READ) {
    protect = PAGE_READONLY;
  } else if (access & FILE_MAP_COPY) {
    protect = PAGE_WRITECOPY;
  }
  if (access & FILE_MAP_EXECUTE) protect <<= 4;
  return protect;
}

Error ftruncate_error(int err, std::string_view call, uint64_t size) {
  const auto code =
      (err == ENOSPC || err == EFBIG || err == EINVAL) ? Win32Error::disk_full : Win32Error::access_denied;
  return win32_error(code, call, fmt::format("cannot size the backing to {:#x} bytes: {}", size, errno_text(err)));
}

Result<SectionHandle> create_page_file_section(uint32_t protect, uint32_t attributes, uint64_t size,
                                               std::string_view name) {
  constexpr std::string_view call = "CreateFileMapping";
  auto object = std::make_shared<SectionObject>();
  object->size = size;
  object->protect = protect;
  object->attributes = attributes;
  object->fd_writable = true;
  object->fd = memfd_create("pemap.section", MFD_CLOEXEC);
  if (object->fd < 0) return win32_error(Win32Error::not_enough_memory, call, "memfd_create: " + errno_text(errno));
  if (size > static_cast<uint64_t>(INT64_MAX) || ftruncate(object->fd, static_cast<off_t>(size)) != 0) {
    return ftruncate_error(size > static_cast<uint64_t>(INT64_MAX) ? EFBIG : errno, call, size);
  }
  if (name.empty()) return SectionHandle(std::move(object), kCreatorAccess, false);
  auto named = name_section(object, name);
  if (!named) return named.take_error();
  if (*named) return SectionHandle(std::move(object), kCreatorAccess, false);
  // Another process holds the name: open it as OpenFileMapping would, keeping its size and protection.
  auto existing = open_named_elsewhere(name, true);
  if (!existing) return existing.take_error();
  if (!*existing)
    return win32_error(Win32Error::access_denied, call,
                       fmt::format("{}: held by a process that does not answer", name));
  return SectionHandle(std::move(*existing), kCreatorAccess, true);
}

Result<SectionHandle> create_file_section(const FileHandle& file, uint32_t protect, uint32_t attributes,
                                          uint64_t maximum_size, std::string_view name) {
  constexpr std::string_view call = "CreateFileMapping";
  if (is_writable_protect(protect) && !file.writable()) {
    return win32_error(Win32Error::access_denied, call,
                       fmt::format("{} needs a file opened for writing: {}", protection_name(protect), file.path()));
  }
  struct stat st {};
  if (fstat(file.fd(), &st) != 0) return win32_error(Win32Error::invalid_handle, call, "fstat: " + errno_text(errno));
  const auto file_size = static_cast<uint64_t>(st.st_size);
  uint64_t size = maximum_size;
  if (size == 0) {
    if (file_size == 0) {
      return win32_error(Win32Error::file_invalid, call, fmt::format("size 0 on the empty file {}", file.path()));
    }
    size = file_size;
  } else if (size > file_size) {
    // Windows grows the file only when both the handle and the protection allow writing.
    if (!file.writable() || !is_writable_protect(protect)) {
      return win32_error(Win32Error::access_denied, call,
                         fmt::format("size {:#x} is past the end of {} ({:#x} bytes) and the section cannot grow it",
                                     size, file.path(), file_size));
    }
    if (size > static_cast<uint64_t>(INT64_MAX) || ftruncate(file.fd(), static_cast<off_t>(size)) != 0) {
      return ftruncate_error(size > static_cast<uint64_t>(INT64_MAX) ? EFBIG : errno, call, size);
    }
  }
  auto object = std::make_shared<SectionObject>();
  object->fd = fcntl(file.fd(), F_DUPFD_CLOEXEC, 0);
  if (object->fd < 0) return win32_error(Win32Error::not_enough_memory, call, "dup: " + errno_text(errno));
  object->fd_writable = file.writable();
  object->backing = SectionObject::Backing::file;
  object->size = size;
  object->protect = protect;
  object->attributes = attributes;
  if (!name.empty()) {
    // A name another process holds already is that process's section (ERROR_ALREADY_EXISTS).
    auto named = name_section(object, name);
    if (!named) return named.take_error();
    if (!*named) {
      auto existing = open_named_elsewhere(name, file.writable());
      if (!existing) return existing.take_error();
      if (*existing) return SectionHandle(std::move(*existing), kCreatorAccess, true);
    }
  }
  return SectionHandle(std::move(object), kCreatorAccess, false);
}

/// mmap at an address aligned to the allocation granularity: reserve len + 64 KiB, map inside, trim the rest.
void* mmap_aligned(size_t len, int prot, int flags, int fd, off_t offset) {
  const size_t span = len + kAllocationGranularity;
  void* reserve = mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserve == MAP_FAILED) return MAP_FAILED;
  const auto start = reinterpret_cast<uintptr_t>(reserve);
  const uintptr_t aligned = (start + kAllocationGranularity - 1) & ~(uintptr_t{kAllocationGranularity} - 1);
  void* view = mmap(reinterpret_cast<void*>(aligned), len, prot, flags | MAP_FIXED, fd, offset);
  if (view == MAP_FAILED) {
    const int err = errno;
    munmap(reserve, span);
    errno = err;
    return MAP_FAILED;
  }
  if (aligned > start) munmap(reserve, aligned - start);
  const uintptr_t end = aligned + len;
  if (start + span > end) munmap(reinterpret_cast<void*>(end), start + span - end);
  return view;
}

}  // namespace

// ---- FileHandle ---------------------------------------------------------------------------------------------------

Result<FileHandle> FileHandle::open(const std::string& path, bool writable) {
  FileHandle h;
  h.fd_ = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (h.fd_ < 0) {
    const int err = errno;
    const auto code = (err == ENOENT || err == ENOTDIR) ? Win32Error::file_not_found : Win32Error::access_denied;
    return win32_error(code, "CreateFile", fmt::format("{}: {}", path, errno_text(err)));
  }
  struct stat st {};
  if (fstat(h.fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    return win32_error(Win32Error::access_denied, "CreateFile", fmt::format("{}: is a directory", path));
  }
  h.writable_ = writable;
  h.path_ = path;
  return h;
}

FileHandle::FileHandle(FileHandle&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), writable_(other.writable_), path_(std::move(other.path_)) {}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    writable_ = other.writable_;
    path_ = std::move(other.path_);
  }
  return *this;
}

FileHandle::~FileHandle() { close(); }

void FileHandle::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ---- SectionObject ------------------------------------------------------------------------------------------------

SectionObject::~SectionObject() {
  publication.reset();  // the name goes first: nobody may be handed the descriptor closed below
  if (fd >= 0) ::close(fd);
  if (name.empty()) return;
  std::lock_guard lock(names().mutex);
  auto it = names().sections.find(name);
  if (it != names().sections.end() && it->second.expired()) names().sections.erase(it);
}

// ---- CreateFileMapping / OpenFileMapping --------------------------------------------------------------------------

// SEC_IMAGE: the section is the file's image object (one per file, memory/image_section.hpp); its views are
// ImageViews, kept here by base until UnmapViewOfFile.
Result<SectionHandle> create_image_section(const FileHandle* file, uint32_t protect, uint64_t /*maximum_size*/,
                                           std::string_view /*name*/) {
  constexpr std::string_view call = "CreateFileMapping";
  if (file == nullptr) return win32_error(Win32Error::invalid_parameter, call, "SEC_IMAGE needs a file");
  if (!file->valid()) return win32_error(Win32Error::invalid_handle, call, "the file is closed");
  if (!is_valid_page_protect(protect & kPageMask))
    return win32_error(Win32Error::invalid_parameter, call, fmt::format("page protection {:#x}", protect & kPageMask));
  auto image = ImageSection::create_from_fd(file->fd(), file->path());
  if (!image) return image.take_error();
  auto object = std::make_shared<SectionObject>();
  object->backing = SectionObject::Backing::image;
  object->size = (*image)->size();
  object->protect = protect & kPageMask;
  object->attributes = SEC_IMAGE;
  object->image = std::move(*image);
  return SectionHandle(std::move(object), kCreatorAccess, false);
}

namespace {

struct ImageViews {
  std::mutex mutex;
  std::map<uintptr_t, ImageView> views;
};
ImageViews& image_views() {
  static auto* v = new ImageViews;  // never destroyed: views may be unmapped from static destructors
  return *v;
}

}  // namespace

Result<SectionHandle> create_file_mapping(const FileHandle* file, uint32_t protect, uint64_t maximum_size,
                                          std::string_view name) {
  constexpr std::string_view call = "CreateFileMapping";
  if (protect & SEC_IMAGE) return create_image_section(file, protect, maximum_size, name);
  const uint32_t page = protect & kPageMask;
  const uint32_t attributes = protect & ~kPageMask;
  if (!is_valid_page_protect(page)) {
    return win32_error(Win32Error::invalid_parameter, call, fmt::format("page protection {:#x}", page));
  }
  if ((attributes & ~(SEC_COMMIT | SEC_RESERVE | SEC_NOCACHE)) != 0 ||
      (attributes & (SEC_COMMIT | SEC_RESERVE)) == (SEC_COMMIT | SEC_RESERVE)) {
    return win32_error(Win32Error::invalid_parameter, call, fmt::format("section attributes {:#x}", attributes));
  }
  if (!is_valid_name(name)) {
    return win32_error(Win32Error::invalid_parameter, call, "a name with '/', '\\' or NUL, or over 200 bytes");
  }
  if (file == nullptr && maximum_size == 0) {
    return win32_error(Win32Error::invalid_parameter, call, "a page-file section needs a size");
  }
  if (file != nullptr && !file->valid()) return win32_error(Win32Error::invalid_handle, call, "the file is closed");

  std::lock_guard lock(names().mutex);
  if (!name.empty()) {
    if (auto existing = find_named_locked(name)) return SectionHandle(std::move(existing), kCreatorAccess, true);
  }
  if (file == nullptr) return create_page_file_section(page, attributes, maximum_size, name);
  return create_file_section(*file, page, attributes, maximum_size, name);
}

Result<SectionHandle> open_file_mapping(uint32_t access, std::string_view name) {
  constexpr std::string_view call = "OpenFileMapping";
  if (name.empty() || !is_valid_name(name)) {
    return win32_error(Win32Error::invalid_parameter, call, "a section name is required, without '/', '\\' or NUL");
  }
  std::lock_guard lock(names().mutex);
  if (auto object = find_named_locked(name)) {
    if (auto refused = access_refused(access, object->protect)) {
      return win32_error(Win32Error::access_denied, call, fmt::format("{}: {}", name, *refused));
    }
    return SectionHandle(std::move(object), access, false);
  }
  // Another process's section.
  auto elsewhere = open_named_elsewhere(name, (access & FILE_MAP_WRITE) != 0);
  if (!elsewhere) return elsewhere.take_error();
  auto object = std::move(*elsewhere);
  if (!object) return win32_error(Win32Error::file_not_found, call, fmt::format("no section is named {}", name));
  if (auto refused = access_refused(access, object->protect)) {
    return win32_error(Win32Error::access_denied, call, fmt::format("{}: {}", name, *refused));
  }
  return SectionHandle(std::move(object), access, false);
}

// ---- Views --------------------------------------------------------------------------------------------------------

Result<void*> map_view_of_file(const SectionHandle& section, uint32_t access, uint64_t offset, size_t size) {
  return map_view_of_file_ex(section, access, offset, size, nullptr);
}

Result<void*> map_view_of_file_ex(const SectionHandle& section, uint32_t access, uint64_t offset, size_t size,
                                  void* base) {
  const std::string_view call = base ? "MapViewOfFileEx" : "MapViewOfFile";
  if (!section.valid()) return win32_error(Win32Error::invalid_handle, call, "the section handle is closed");
  const auto& object = section.object();
  if (offset % kAllocationGranularity != 0) {
    return win32_error(Win32Error::mapped_alignment, call,
                       fmt::format("offset {:#x} is not a multiple of {:#x}", offset, kAllocationGranularity));
  }
  const auto base_address = reinterpret_cast<uintptr_t>(base);
  if (base_address % kAllocationGranularity != 0) {
    return win32_error(Win32Error::mapped_alignment, call,
                       fmt::format("base {:#x} is not a multiple of {:#x}", base_address, kAllocationGranularity));
  }
  if (!handle_allows(section.access(), access)) {
    return win32_error(Win32Error::access_denied, call,
                       fmt::format("the handle has access {:#x}, the view asks {:#x}", section.access(), access));
  }
  if (object->image) {
    // An image view is the whole image with its own protections (ImageView); offset and size must be 0.
    if (offset != 0 || (size != 0 && size != object->size))
      return win32_error(Win32Error::invalid_parameter, call, "a view of an image section maps the whole image");
    auto view = ImageView::map(object->image, base);
    if (!view) return view.take_error();
    void* at = view->base();
    std::lock_guard lock(image_views().mutex);
    image_views().views.emplace(reinterpret_cast<uintptr_t>(at), std::move(*view));
    return at;
  }
  if (auto refused = access_refused(access, object->protect)) {
    return win32_error(Win32Error::access_denied, call, *refused);
  }
  if (offset >= object->size) {
    return win32_error(Win32Error::access_denied, call,
                       fmt::format("offset {:#x} is past the section's end ({:#x})", offset, object->size));
  }
  const uint64_t length = size == 0 ? object->size - offset : size;
  if (length > object->size - offset) {
    return win32_error(
        Win32Error::access_denied, call,
        fmt::format("{:#x} bytes at {:#x} run past the section's end ({:#x})", length, offset, object->size));
  }
  const uint32_t protect = view_protect(access);
  const bool copy = protect == PAGE_WRITECOPY || protect == PAGE_EXECUTE_WRITECOPY;
  const int flags = copy ? MAP_PRIVATE : MAP_SHARED;
  const int prot = linux_protection(protect);
  if ((prot & PROT_WRITE) && !copy && !object->fd_writable) {
    return win32_error(Win32Error::access_denied, call, "the section's backing was opened read-only");
  }
  const auto mapped = static_cast<size_t>(page_round_up(length));

  void* view = MAP_FAILED;
  if (base != nullptr) {
    view = mmap(base, mapped, prot, flags | MAP_FIXED_NOREPLACE, object->fd, static_cast<off_t>(offset));
    if (view != MAP_FAILED && view != base) {
      // A kernel without MAP_FIXED_NOREPLACE took it as a hint; a view elsewhere is not what was asked.
      munmap(view, mapped);
      view = MAP_FAILED;
      errno = EEXIST;
    }
    if (view == MAP_FAILED && (errno == EEXIST || errno == ENOMEM || errno == EINVAL)) {
      return win32_error(
          Win32Error::invalid_address, call,
          fmt::format("[{:#x}, {:#x}) is not free: {}", base_address, base_address + mapped, errno_text(errno)),
          Status::conflicting_addresses);
    }
  } else {
    view = mmap_aligned(mapped, prot, flags, object->fd, static_cast<off_t>(offset));
  }
  if (view == MAP_FAILED) {
    const int err = errno;
    const auto code = (err == EACCES || err == EPERM) ? Win32Error::access_denied : Win32Error::not_enough_memory;
    return win32_error(code, call, "mmap: " + errno_text(err));
  }
  ViewInfo info;
  info.base = reinterpret_cast<uintptr_t>(view);
  info.size = length;
  info.access = access;
  info.protect = protect;
  info.offset = offset;
  info.section = object;
  std::lock_guard lock(views().mutex);
  views().views[info.base] = std::move(info);
  return view;
}

std::optional<ViewInfo> find_view(const void* address) {
  const auto a = reinterpret_cast<uintptr_t>(address);
  std::lock_guard lock(views().mutex);
  auto& map = views().views;
  auto it = map.upper_bound(a);
  if (it == map.begin()) return std::nullopt;
  --it;
  if (a >= it->first + page_round_up(it->second.size)) return std::nullopt;
  return it->second;
}

Result<Ok> flush_view_of_file(const void* base, size_t size) {
  auto view = find_view(base);
  if (!view) {
    return win32_error(Win32Error::invalid_address, "FlushViewOfFile",
                       fmt::format("{} is not inside a view", fmt::ptr(base)));
  }
  const auto a = reinterpret_cast<uintptr_t>(base);
  const uint64_t view_end = view->base + page_round_up(view->size);
  const uint64_t end = (size == 0 || size > view_end - a) ? view_end : page_round_up(a + size);
  const uint64_t start = a & ~(kPageSize - 1);
  if (msync(reinterpret_cast<void*>(start), end - start, MS_SYNC) != 0) {
    return win32_error(Win32Error::access_denied, "FlushViewOfFile", "msync: " + errno_text(errno));
  }
  return Ok{};
}

Result<Ok> unmap_view_of_file(const void* base) {
  const auto a = reinterpret_cast<uintptr_t>(base);
  {
    std::unique_lock lock(image_views().mutex);
    if (auto it = image_views().views.find(a); it != image_views().views.end()) {
      ImageView gone = std::move(it->second);  // unmapped when it goes out of scope, outside the lock
      image_views().views.erase(it);
      lock.unlock();
      return Ok{};
    }
  }
  ViewInfo view;
  {
    std::lock_guard lock(views().mutex);
    auto it = views().views.find(a);
    if (it == views().views.end()) {
      return win32_error(Win32Error::invalid_address, "UnmapViewOfFile",
                         fmt::format("{} is not the base of a view", fmt::ptr(base)));
    }
    view = std::move(it->second);
    views().views.erase(it);
  }
  munmap(reinterpret_cast<void*>(a), page_round_up(view.size));
  return Ok{};  // `view` drops its reference to the section outside the registry's lock
}

}  // namespace pemap::win
