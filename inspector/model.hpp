// What each inspector command shows, as a JSON document built from the parser; text output renders the same document.
#pragma once

#include <nlohmann/json.hpp>

#include "pe/image.hpp"

namespace pemap::inspect {

using json = nlohmann::ordered_json;

json error_json(const Error& e);

json model_info(const pe::Image& image);
json model_headers(const pe::Image& image);
json model_sections(const pe::Image& image);
json model_imports(const pe::Image& image);
json model_exports(const pe::Image& image);
json model_relocs(const pe::Image& image);
json model_tls(const pe::Image& image);
/// `pemap all`: each of the above but info under its command's name; the warnings of all, each once, at the top.
json model_all(const pe::Image& image);

}  // namespace pemap::inspect
