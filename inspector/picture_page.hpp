// Self-contained HTML pages around the pictures: the SVG inline, a legend, and for a load the steps and the
// imports, with the little script that steps through them. Nothing is fetched from elsewhere when it is viewed.
#pragma once

#include <string>
#include <string_view>

#include "printer.hpp"

namespace pemap::inspect {

/// The page of `pemap load --json`'s document: the address space, a timeline of the load's events (choosing one
/// shows the picture as it stood after it), and each module's bindings, with arrows from IAT slot to export.
std::string load_page(const json& load_doc);

/// Writes `text` to `path` ("-": standard output); on failure says so on stderr, removes what it wrote, and
/// returns false.
bool write_picture(const std::string& path, std::string_view text);

/// A page that shows `svg` (which carries its own legend) under a heading and a paragraph.
std::string picture_page(std::string_view title, std::string_view intro, std::string_view svg);

}  // namespace pemap::inspect
