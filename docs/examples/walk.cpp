// Counting 0s in a big file (Richter, "Windows via C/C++", ch. 17, "Processing a Big File Using Memory-Mapped
// Files"): a file larger than any view is walked through views of one window each, at offsets that are multiples
// of the allocation granularity (MapViewOfFile refuses any other offset), the last window shorter.
//
// The book's steps, on pemap's Win32 API:
//   GetSystemInfo -> dwAllocationGranularity         -> win::kAllocationGranularity (64 KiB)
//   CreateFile(GENERIC_READ)                         -> FileHandle::open(path, false)
//   CreateFileMapping(file, PAGE_READONLY, 0, 0)     -> create_file_mapping(&file, PAGE_READONLY, 0)
//   CloseHandle(file)                                   (the section keeps its own reference to the file)
//   for each window: MapViewOfFile(FILE_MAP_READ, offset, window), count, UnmapViewOfFile
//
// Usage: example_walk FILE [WINDOW_BYTES]   (default 65536; must be a multiple of 65536)
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "memory/section.hpp"
#include "memory/win32.hpp"

namespace win = pemap::win;

namespace {

int fail(const pemap::Error& e) {
  fmt::print(stderr, "example_walk: {}\n", e.to_string());
  return 1;
}

pemap::Error usage_error(std::string message) {
  pemap::Error e;
  e.status = pemap::Status::success;  // not an image-loader failure: nothing in parentheses
  e.structure = "WINDOW_BYTES";
  e.message = std::move(message);
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    fmt::print(stderr, "usage: example_walk FILE [WINDOW_BYTES]  (a multiple of {}, default {})\n",
               win::kAllocationGranularity, win::kAllocationGranularity);
    return 2;
  }
  const std::string path = argv[1];

  // The window: each view's offset is a multiple of it, so it must itself be a multiple of the granularity.
  uint64_t window = win::kAllocationGranularity;
  if (argc == 3) {
    const std::string_view text = argv[2];
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), window);
    if (ec != std::errc() || end != text.data() + text.size() || window == 0 ||
        window % win::kAllocationGranularity != 0) {
      return fail(usage_error(fmt::format(
          "window {} is not a positive multiple of the {}-byte allocation granularity: view offsets would not be "
          "aligned (MapViewOfFile gives ERROR_MAPPED_ALIGNMENT)",
          text, win::kAllocationGranularity)));
    }
  }

  auto file = win::FileHandle::open(path, /*writable=*/false);
  if (!file) return fail(file.error());

  // One read-only section over the whole file (maximum size 0 = the file's size). CreateFileMapping refuses an
  // empty file (ERROR_FILE_INVALID), as Windows does.
  auto section = win::create_file_mapping(&*file, win::PAGE_READONLY, 0);
  if (!section) return fail(section.error());
  file->close();  // the section holds the file open

  const uint64_t size = section->size();
  uint64_t zeros = 0;
  uint64_t views = 0;
  for (uint64_t offset = 0; offset < size; offset += window) {
    // The last window stops at the end of the file: a view past the section's end is refused.
    const auto length = static_cast<size_t>(std::min(window, size - offset));
    auto view = win::map_view_of_file(*section, win::FILE_MAP_READ, offset, length);
    if (!view) return fail(view.error());
    const auto* bytes = static_cast<const unsigned char*>(*view);
    zeros += static_cast<uint64_t>(std::count(bytes, bytes + length, 0));
    ++views;
    if (auto unmapped = win::unmap_view_of_file(*view); !unmapped) return fail(unmapped.error());
  }
  section->close();

  fmt::print("{}: {} bytes, {} zero bytes, counted through {} views of at most {} bytes\n", path, size, zeros, views,
             window);
  return 0;
}
