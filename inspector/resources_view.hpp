// `pemap resources`: the resource tree, the version resource and the manifest; --extract for an entry's bytes.
#pragma once

#include <string>

#include "commands.hpp"
#include "model.hpp"
#include "table.hpp"

namespace pemap::inspect {

void model_resources(const pe::Image& image, Printer& p, Warnings& w);
void write_resources(const pe::Image& image, TextOut& out, Warnings& w);
std::string render_resources(const json& doc);

/// `pemap resources FILE --extract TYPE/NAME[/LANGUAGE] -o OUT`: the entry's bytes, as the image holds them, to OUT
/// ("-" for standard output). A part is a standard type name (RT_VERSION), #ID or ID, or a name; with no language,
/// the first the tree lists.
int run_resource_extract(const CommonOptions& opts, const std::string& path, const std::string& out_file);

}  // namespace pemap::inspect
