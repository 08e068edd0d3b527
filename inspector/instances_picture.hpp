// The picture of `pemap instances`: one column per process, each page of each section of the DLL, marked the same
// physical page in every process or this process's own, as the instances command measured it.
#pragma once

#include <string>

#include "printer.hpp"

namespace pemap::inspect {

/// The SVG of `pemap instances --json`'s document, standalone, with its legend.
std::string instances_svg(const json& instances_doc);

}  // namespace pemap::inspect
