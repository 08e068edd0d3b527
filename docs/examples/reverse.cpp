// FileRev (Richter, "Windows via C/C++", ch. 17): reverse a file's bytes in place through one read/write view.
//
// The book's steps, on pemap's Win32 API:
//   CreateFile(GENERIC_READ | GENERIC_WRITE)         -> FileHandle::open(path, true)
//   CreateFileMapping(file, PAGE_READWRITE, size+1)  -> create_file_mapping(&file, PAGE_READWRITE, size + 1)
//   MapViewOfFile(FILE_MAP_WRITE, 0, 0)              -> map_view_of_file(section, FILE_MAP_WRITE, 0, 0)
//   reverse the bytes, FlushViewOfFile, UnmapViewOfFile, CloseHandle(section)
//   (and, to show what the flush did, the kernel's count of the view's dirty bytes before and after it)
//   SetFilePointer(size) + SetEndOfFile              -> ftruncate(file.fd(), size)
//
// Like the book, the section is one byte larger than the file: the file grows by one byte that holds a 0
// terminator, and is cut back to its original size once the view and the section are gone (on Windows,
// SetEndOfFile fails while a view of the file exists, so the order matters there too).
//
// Usage: example_reverse FILE
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/core.h>

#include "memory/section.hpp"
#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"

namespace win = pemap::win;

namespace {

int fail(const pemap::Error& e) {
  fmt::print(stderr, "example_reverse: {}\n", e.to_string());
  return 1;
}

pemap::Error os_error(std::string structure, std::string message) {
  pemap::Error e;
  e.status = pemap::Status::success;  // not an image-loader failure: nothing in parentheses
  e.structure = std::move(structure);
  e.message = std::move(message);
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: example_reverse FILE\n");
    return 2;
  }
  const std::string path = argv[1];

  // CreateFile for reading and writing: the view will be FILE_MAP_WRITE.
  auto file = win::FileHandle::open(path, /*writable=*/true);
  if (!file) return fail(file.error());

  // GetFileSize. The book refuses nothing here; an empty file is refused below so that the caller hears about it
  // (reversing zero bytes would "succeed" without doing anything).
  struct stat st {};
  if (fstat(file->fd(), &st) != 0) return fail(os_error("GetFileSize", std::strerror(errno)));
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size == 0) {
    // What CreateFileMapping itself says for a section of the file's (zero) size.
    auto refused = win::create_file_mapping(&*file, win::PAGE_READWRITE, 0);
    if (!refused) return fail(refused.error());
    return fail(os_error("GetFileSize", path + " is empty: nothing to reverse"));
  }

  // CreateFileMapping with room for one more byte: the file grows to size + 1.
  auto section = win::create_file_mapping(&*file, win::PAGE_READWRITE, size + 1);
  if (!section) return fail(section.error());

  // MapViewOfFile of the whole section (size 0 = to the end), readable and writable.
  auto view = win::map_view_of_file(*section, win::FILE_MAP_WRITE, 0, 0);
  if (!view) return fail(view.error());
  auto* bytes = static_cast<unsigned char*>(*view);

  // The book writes a 0 after the text so that _strrev sees a C string; bytes are reversed here, so the
  // terminator is only there to show that the extra byte belongs to the view like the others.
  bytes[size] = 0;
  std::reverse(bytes, bytes + size);

  // FlushViewOfFile: the reversed bytes reach the file now, not whenever the kernel writes them back. The kernel's
  // count of the view's dirty bytes, before and after, is what the flush wrote (not a Win32 call: pemap's own).
  const auto dirty_before = win::dirty_bytes(bytes);
  if (!dirty_before) return fail(dirty_before.error());
  if (auto flushed = win::flush_view_of_file(bytes, 0); !flushed) return fail(flushed.error());
  const auto dirty_after = win::dirty_bytes(bytes);
  if (!dirty_after) return fail(dirty_after.error());
  if (auto unmapped = win::unmap_view_of_file(bytes); !unmapped) return fail(unmapped.error());
  section->close();

  // SetEndOfFile at the original size: drop the terminator byte the section added.
  if (ftruncate(file->fd(), static_cast<off_t>(size)) != 0) {
    return fail(os_error("SetEndOfFile", path + ": " + std::strerror(errno)));
  }
  file->close();

  fmt::print("reversed {} bytes of {} in place through one {}-byte read/write view; size restored to {} bytes\n", size,
             path, size + 1, size);
  fmt::print("FlushViewOfFile wrote the view's dirty pages: {} dirty bytes before it, {} after\n", *dirty_before,
             *dirty_after);
  return 0;
}
