// Commands that map the file as Windows would: map (the region table), diff-views (image view vs raw view).
#pragma once

#include <functional>
#include <vector>

#include "commands.hpp"
#include "model.hpp"
#include "pe/image.hpp"

namespace pemap::inspect {

struct MapOptions {
  std::optional<uint64_t> base;  ///< map the image exactly here
  bool raw = false;              ///< a data view of the file instead of an image view
  uint64_t offset = 0;           ///< the view's file offset (MapViewOfFile's dwFileOffsetHigh/Low)
  uint64_t size = 0;             ///< dwNumberOfBytesToMap; 0 to the end of the section
  std::string html, svg;         ///< --html FILE, --svg FILE: the view pictured (one input file)
};

int run_map(const CommonOptions& opts, const MapOptions& map);
int run_diff_views(const CommonOptions& opts);

/// Reads `len` bytes of the laid-out image at `rva`.
using ImageReader = std::function<std::vector<std::byte>(uint64_t rva, uint64_t len)>;

/// Where the image view of each section differs from its raw bytes on disk, and why. Only ranges that
/// hold file bytes are read, so the work follows the file's size, not SizeOfImage.
void print_diff_views(Printer& p, const pe::Image& image, const ImageReader& read);
std::string render_diff_views(const json& doc);

}  // namespace pemap::inspect
