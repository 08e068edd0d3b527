// libFuzzer target: any bytes as a SEC_IMAGE section (memfd, ImageSection::create_from_fd), one view of it, every
// region read through the view and through the image object, and the view's reservation gone once it is unmapped.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "memory/image_section.hpp"
#include "support/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pemap;
  const int fd = fuzz::memfd_with(data, size);
  auto section = win::ImageSection::create_from_fd(fd, "fuzz-input");
  ::close(fd);
  if (!section) return 0;
  uint64_t sink = 0;
  uint64_t base = 0, length = 0;
  {
    auto view = win::ImageView::map(*section);
    if (!view) return 0;
    base = reinterpret_cast<uint64_t>(view->base());
    length = view->size();
    // Each region's file bytes and the first and last page of its zero fill: every byte the file put there,
    // without touching gigabytes of zero pages a small file can ask for with SizeOfImage.
    auto check = [&](const win::ImageRegion& r, uint64_t rva, uint64_t len) {
      std::vector<std::byte> through_view(static_cast<size_t>(len));
      view->copy_out(rva, through_view.data(), len);
      const std::vector<std::byte> from_object = (*section)->read(rva, len);
      // Nothing has written to the view: it shows what the image object holds.
      if (from_object != through_view) {
        std::fprintf(stderr, "fuzz_map: region %s at rva %#llx reads differently through the view\n", r.name.c_str(),
                     static_cast<unsigned long long>(rva));
        std::abort();
      }
      for (std::byte b : through_view) sink += static_cast<uint8_t>(b);
    };
    for (const auto& r : (*section)->regions()) {
      if (r.rva >= length || r.size > length - r.rva) continue;  // never mapped
      const uint64_t filled = std::min(r.size, pemap::align_up(r.file_bytes, 0x1000));
      check(r, r.rva, filled);
      if (filled < r.size) {
        check(r, r.rva + filled, std::min<uint64_t>(0x1000, r.size - filled));
        check(r, r.rva + r.size - 0x1000, 0x1000);
      }
    }
  }
  section->reset();
  fuzz::expect_free(base, length, "the image view");
  return sink == 0x5a5a5a5a5a5a5a5aull ? 1 : 0;  // keeps the reads from being optimized away
}
