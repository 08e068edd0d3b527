// An unrelated process for the shared-section tests: maps an image, adds 1 to the first byte of its
// shared section and prints the new value. With --crash it leaves without releasing anything.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "memory/image_section.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto section = pemap::win::ImageSection::create(argv[1]);
  if (!section) return fprintf(stderr, "%s\n", section.error().to_string().c_str()), 3;
  auto view = pemap::win::ImageView::map(*section);
  if (!view) return fprintf(stderr, "%s\n", view.error().to_string().c_str()), 4;
  for (const auto& r : (*section)->regions()) {
    if (!r.shared()) continue;
    auto* counter = reinterpret_cast<volatile unsigned char*>(view->base() + r.rva);
    *counter = static_cast<unsigned char>(*counter + 1);
    printf("%u\n", static_cast<unsigned>(*counter));
    fflush(stdout);
    if (argc > 2 && std::string(argv[2]) == "--crash") _exit(0);
    return 0;
  }
  return 5;
}
