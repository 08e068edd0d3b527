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

/// Whether the pictures asked for can go where they are asked: at most one of them to standard output ("-"), and
/// then no report there beside it (`json_report`); says why not on stderr, naming `command`.
bool pictures_fit_stdout(std::string_view command, const std::string& html, const std::string& svg, bool json_report);
/// Whether one of them goes to standard output, so that the command's own report must not.
inline bool picture_on_stdout(const std::string& html, const std::string& svg) { return html == "-" || svg == "-"; }

/// Writes `text` to `path` ("-": standard output); on failure says so on stderr, removes what it wrote, and
/// returns false.
bool write_picture(const std::string& path, std::string_view text);

/// A page that shows `svg` (which carries its own legend) under a heading and a paragraph.
std::string picture_page(std::string_view title, std::string_view intro, std::string_view svg);

}  // namespace pemap::inspect
