// Text renderings of the command documents in model.hpp.
#pragma once

#include <string>

#include "model.hpp"

namespace pemap::inspect {

std::string render_info(const json& doc);
std::string render_headers(const json& doc);
std::string render_sections(const json& doc);
std::string render_imports(const json& doc);
std::string render_exports(const json& doc);
std::string render_relocs(const json& doc);
std::string render_tls(const json& doc);
/// "warning: ..." lines for the document's warnings, empty when there are none.
std::string render_warnings(const json& doc);

}  // namespace pemap::inspect
