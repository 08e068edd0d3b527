// `pemap hashes`: the digests, imphash and entropy an analyst identifies a file and its sections by.
#pragma once

#include <string>

#include "model.hpp"
#include "table.hpp"

namespace pemap::inspect {

void model_hashes(const pe::Image& image, Printer& p, Warnings& w);
void write_hashes(const pe::Image& image, TextOut& out, Warnings& w);
std::string render_hashes(const json& doc);

}  // namespace pemap::inspect
