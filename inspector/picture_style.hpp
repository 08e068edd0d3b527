// What every picture shares: the colours and patterns of page protections, their names in words, the legend.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pemap::inspect {

class Markup;

/// Opens a picture's <svg> (standalone: xmlns set; scaled to its container by viewBox; an image with `label` to a
/// screen reader) and writes its <defs>; the caller closes it.
void open_picture(Markup& svg, double width, double height, const std::string& label);

/// <defs> for an SVG: the patterns that, with the colours, tell protections apart (hatching for copy-on-write,
/// dots for shared, cross-hatching for writable code), the arrowhead, and the style sheet.
std::string picture_defs();

/// The CSS class of a region: "p-r", "p-rx", "p-wc", "p-wcx", "p-shared", "p-rwx", "p-none", or "p-reserve" for
/// reserved, uncommitted pages; from VirtualQuery's protection as pemap writes it ("R-X", "RC-") and its state.
std::string protection_class(std::string_view protect, std::string_view state);

/// The same in words: "read-only", "execute/read (code)", "copy-on-write: a page becomes this process's own ...".
std::string protection_words(std::string_view protect, std::string_view state);

/// An SVG group at (x, y), a row of 17 px each: a swatch and its words for each protection class, then the marks
/// for a private page, a preferred base, and a 64 KiB boundary.
std::string legend_svg(double x, double y);
inline constexpr size_t kLegendRows = 12;  // the protection classes and the three marks
inline constexpr double kLegendHeight = static_cast<double>(kLegendRows) * 17;

}  // namespace pemap::inspect
