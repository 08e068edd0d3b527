// What every picture shares: the colours and patterns of page protections, their names in words, the legend.
#pragma once

#include <string>
#include <string_view>

namespace pemap::inspect {

/// <defs> for an SVG: the patterns that, with the colours, tell protections apart (hatching for copy-on-write,
/// dots for shared, cross-hatching for writable code), the arrowhead, and the style sheet.
std::string picture_defs();

/// The CSS class of a region: "p-r", "p-rx", "p-wc", "p-wcx", "p-shared", "p-rwx", "p-none", or "p-reserve" for
/// reserved, uncommitted pages; from VirtualQuery's protection as pemap writes it ("R-X", "RC-") and its state.
std::string protection_class(std::string_view protect, std::string_view state);

/// The same in words: "read-only", "execute/read", "copy-on-write", "read/write, one page for every view".
std::string protection_words(std::string_view protect, std::string_view state);

/// An SVG group at (x, y), a row of 17 px each: a swatch and its words for each protection class, then the marks
/// for a private page, a preferred base, and a 64 KiB boundary.
std::string legend_svg(double x, double y);
inline constexpr double kLegendHeight = 11 * 17;

}  // namespace pemap::inspect
