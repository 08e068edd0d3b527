// Win32 section objects and their views on Linux: CreateFile, CreateFileMapping, OpenFileMapping, MapViewOfFile(Ex),
// FlushViewOfFile, UnmapViewOfFile over fds, memfds and mmap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "memory/win32.hpp"
#include "pe/error.hpp"

namespace pemap::win {

class ImageSection;
class NamePublication;

/// The value of a call that succeeds with nothing to return (Win32 calls that return BOOL).
struct Ok {};

/// A file opened like CreateFile(path, GENERIC_READ[|GENERIC_WRITE], FILE_SHARE_READ|FILE_SHARE_WRITE, nullptr,
/// OPEN_EXISTING, ...): a move-only owner of one fd, closed by close() (CloseHandle) or the destructor.
/// A section created from it keeps its own reference to the file, so the handle may be closed right after.
class FileHandle {
 public:
  /// CreateFile with OPEN_EXISTING. Errors: ERROR_FILE_NOT_FOUND (no such file or directory in the path),
  /// ERROR_ACCESS_DENIED (permission, read-only file system, a directory).
  static Result<FileHandle> open(const std::string& path, bool writable);

  FileHandle() = default;  ///< INVALID_HANDLE_VALUE
  FileHandle(FileHandle&& other) noexcept;
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();

  /// CloseHandle. Closing an invalid handle does nothing.
  void close();
  bool valid() const { return fd_ >= 0; }
  bool writable() const { return writable_; }  ///< opened with GENERIC_WRITE
  int fd() const { return fd_; }               ///< borrowed; owned by this handle
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  bool writable_ = false;
  std::string path_;
};

/// The kernel object behind section handles and views. Handles and views share it; it closes its backing fd (and
/// withdraws the name this process published) when the last of them goes. create_image_section builds one.
struct SectionObject {
  enum class Backing : uint8_t { file, page_file, image };

  int fd = -1;               ///< backing: the file (dup'ed) or a memfd
  bool fd_writable = false;  ///< fd opened O_RDWR
  Backing backing = Backing::page_file;
  uint64_t size = 0;                             ///< the section's maximum size, fixed at creation
  uint32_t protect = 0;                          ///< PAGE_* of CreateFileMapping (low byte)
  uint32_t attributes = 0;                       ///< SEC_* of CreateFileMapping
  std::string name;                              ///< empty for unnamed sections
  int owner_pid = 0;                             ///< the process that named or opened it (a fork child only inherits)
  std::unique_ptr<NamePublication> publication;  ///< the name, while this process publishes it
  std::shared_ptr<const ImageSection> image;     ///< SEC_IMAGE: the laid-out image object (memory/image_section.hpp)

  SectionObject() = default;
  SectionObject(const SectionObject&) = delete;
  SectionObject& operator=(const SectionObject&) = delete;
  ~SectionObject();
};

/// A handle to a section object (a HANDLE from CreateFileMapping or OpenFileMapping). Move-only like a HANDLE;
/// duplicate() is DuplicateHandle. The section lives while any handle or view refers to it, so handles and views
/// can be closed in any order.
class SectionHandle {
 public:
  SectionHandle() = default;  ///< NULL handle
  SectionHandle(std::shared_ptr<SectionObject> object, uint32_t access, bool existed)
      : object_(std::move(object)), access_(access), existed_(existed) {}
  SectionHandle(SectionHandle&&) noexcept = default;
  SectionHandle& operator=(SectionHandle&&) noexcept = default;
  SectionHandle(const SectionHandle&) = delete;
  SectionHandle& operator=(const SectionHandle&) = delete;
  ~SectionHandle() = default;

  /// CloseHandle: drops this handle's reference; views stay valid.
  void close() { object_.reset(); }
  /// DuplicateHandle: another handle to the same section with the same access.
  SectionHandle duplicate() const { return SectionHandle(object_, access_, false); }

  bool valid() const { return object_ != nullptr; }
  /// CreateFileMapping found a section of that name and returned it (GetLastError() == ERROR_ALREADY_EXISTS).
  bool existed() const { return existed_; }
  uint32_t access() const { return access_; }  ///< FILE_MAP_* rights of this handle
  uint64_t size() const { return object_ ? object_->size : 0; }
  uint32_t protect() const { return object_ ? object_->protect : 0; }
  const std::shared_ptr<SectionObject>& object() const { return object_; }

 private:
  std::shared_ptr<SectionObject> object_;
  uint32_t access_ = 0;
  bool existed_ = false;
};

/// CreateFileMapping(file, nullptr, protect, maximum_size, name). `file == nullptr` is INVALID_HANDLE_VALUE: a
/// page-file section, backed by a memfd. A name publishes the section for other processes (memory/section_names.hpp)
/// for as long as this process holds it. A file section keeps its own reference to the file. The handle has
/// FILE_MAP_ALL_ACCESS | FILE_MAP_EXECUTE. A named section that already exists (in this process, or held by another)
/// is returned as is with existed()
/// set (ERROR_ALREADY_EXISTS); its size and protection are the existing ones. Errors:
///  - ERROR_INVALID_PARAMETER: protect not one of PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE_READ,
///    PAGE_EXECUTE_READWRITE plus optional SEC_COMMIT, SEC_RESERVE (not both), SEC_NOCACHE; a page-file section of
///    size 0; a name with '/', '\' or NUL, or longer than 200 bytes; SEC_IMAGE (see create_image_section).
///  - ERROR_INVALID_HANDLE: `file` is not an open file.
///  - ERROR_ACCESS_DENIED: PAGE_READWRITE or PAGE_EXECUTE_READWRITE on a read-only file; maximum_size larger than
///    the file when the file or the protection is not writable (a read-only file is never changed).
///  - ERROR_FILE_INVALID: a file section of size 0 on an empty file.
///  - ERROR_DISK_FULL: growing the file or sizing the page-file backing failed (ENOSPC, EFBIG).
///  - ERROR_NOT_ENOUGH_MEMORY: the backing object could not be created (out of fds or memory).
Result<SectionHandle> create_file_mapping(const FileHandle* file, uint32_t protect, uint64_t maximum_size,
                                          std::string_view name = {});

/// The SEC_IMAGE branch of create_file_mapping; REPLACED BY THE IMAGE LOADER. Until then it returns
/// ERROR_INVALID_PARAMETER "SEC_IMAGE: not wired yet".
Result<SectionHandle> create_image_section(const FileHandle* file, uint32_t protect, uint64_t maximum_size,
                                           std::string_view name);

/// OpenFileMapping(access, FALSE, name): a named section of this process, or one another process of the same user
/// holds (it hands over the descriptor: read-only unless FILE_MAP_WRITE is asked for). `access` is FILE_MAP_READ,
/// FILE_MAP_WRITE, FILE_MAP_COPY, FILE_MAP_EXECUTE or FILE_MAP_ALL_ACCESS, combined; views of the handle need these
/// rights. Errors: ERROR_INVALID_PARAMETER (empty or invalid name), ERROR_FILE_NOT_FOUND (no such section),
/// ERROR_ACCESS_DENIED (FILE_MAP_WRITE on a section that is not PAGE_READWRITE/PAGE_EXECUTE_READWRITE,
/// FILE_MAP_EXECUTE on one without PAGE_EXECUTE_*).
Result<SectionHandle> open_file_mapping(uint32_t access, std::string_view name);

/// MapViewOfFile(section, access, offset >> 32, offset, size): a view at an address the system picks, aligned to
/// kAllocationGranularity like Windows views. size 0 maps to the end of the section. FILE_MAP_COPY views are
/// private (copy-on-write: writes reach neither the section nor the file); other views are shared, so all views of a
/// section are coherent, in this process and across processes. The view holds the section alive until
/// unmap_view_of_file; the caller owns it. View protection as Wine's MapViewOfFileEx: WRITE -> PAGE_READWRITE,
/// else READ -> PAGE_READONLY, else COPY -> PAGE_WRITECOPY, else PAGE_NOACCESS; EXECUTE adds execute.
/// Errors:
///  - ERROR_INVALID_HANDLE: the handle is closed or NULL.
///  - ERROR_MAPPED_ALIGNMENT: offset not a multiple of 64 KiB.
///  - ERROR_ACCESS_DENIED: the handle lacks the rights; FILE_MAP_WRITE on a section not PAGE_READWRITE or
///    PAGE_EXECUTE_READWRITE; FILE_MAP_EXECUTE on one without PAGE_EXECUTE_*; offset or offset+size past the end
///    of the section; the OS refused the mapping (a noexec mount).
///  - ERROR_NOT_ENOUGH_MEMORY: no address space left.
Result<void*> map_view_of_file(const SectionHandle& section, uint32_t access, uint64_t offset, size_t size);

/// MapViewOfFileEx: as map_view_of_file, at exactly `base` when base != nullptr. The view never replaces an
/// existing mapping and never lands elsewhere (mmap MAP_FIXED_NOREPLACE, result checked).
/// Errors: those of map_view_of_file, plus ERROR_MAPPED_ALIGNMENT (base not a multiple of 64 KiB) and
/// ERROR_INVALID_ADDRESS (any page of [base, base+size) is taken, or outside user space).
Result<void*> map_view_of_file_ex(const SectionHandle& section, uint32_t access, uint64_t offset, size_t size,
                                  void* base);

/// FlushViewOfFile(base, size): writes the dirty pages of [base, base+size) to the file (msync MS_SYNC). `base` may
/// be any address inside a view; size 0 flushes to the end of the view, and a size past the view's end is cut there.
/// Flushing a page-file or FILE_MAP_COPY view succeeds and writes nothing to any file.
/// Errors: ERROR_INVALID_ADDRESS (base is not inside a view).
Result<Ok> flush_view_of_file(const void* base, size_t size);

/// UnmapViewOfFile(base): base must be the base a map call returned. The section lives on while other handles or
/// views refer to it. Errors: ERROR_INVALID_ADDRESS (not the base of a view).
Result<Ok> unmap_view_of_file(const void* base);

/// A view as the process-wide view registry has it.
struct ViewInfo {
  uint64_t base = 0;
  uint64_t size = 0;     ///< bytes requested (the mapping covers it rounded up to pages)
  uint32_t access = 0;   ///< FILE_MAP_* it was mapped with
  uint32_t protect = 0;  ///< PAGE_* that access gives
  uint64_t offset = 0;   ///< in the section
  std::shared_ptr<const SectionObject> section;
};

/// The view containing `address`, if any (read by virtual_query).
std::optional<ViewInfo> find_view(const void* address);

}  // namespace pemap::win
