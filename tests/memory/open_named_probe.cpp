// Another process for the named-section tests: opens a section by name, maps it and prints its first
// bytes as text; on failure prints the Win32 error code and exits 3.
#include <cstdio>
#include <string>

#include "memory/section.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  using namespace pemap::win;
  auto section = open_file_mapping(FILE_MAP_READ, argv[1]);
  if (!section) return printf("error %u\n", section.error().win32), 3;
  auto view = map_view_of_file(*section, FILE_MAP_READ, 0, 0);
  if (!view) return printf("error %u\n", view.error().win32), 3;
  printf("%.*s\n", static_cast<int>(section->size() < 64 ? section->size() : 64), static_cast<const char*>(*view));
  (void)unmap_view_of_file(*view);
  return 0;
}
