// Text renderings of the command documents in model.hpp.
#pragma once

#include <string>
#include <vector>

#include "model.hpp"
#include "table.hpp"

namespace pemap::inspect {

std::string render_info(const json& doc);
std::string render_headers(const json& doc);
std::string render_tls(const json& doc);
/// The text of the commands with long tables, written to `out` row by row straight from the parser's
/// results, with no document in between (model_X still builds the --json document), in memory one row. Each
/// returns its warnings' text, in the order model_X lists them (the caller prints them last).
std::vector<std::string> write_sections(const pe::Image& image, TextOut& out);
std::vector<std::string> write_imports(const pe::Image& image, TextOut& out);
std::vector<std::string> write_exports(const pe::Image& image, TextOut& out);
/// How write_relocs makes its rows: `fast` writes the blocks of page-aligned pages from one row per type and the
/// others through the general table writer; `general` sends every block through the general writer (the same
/// text, slower: what fuzz_render compares the fast rows against).
enum class RelocRows { fast, general };
std::vector<std::string> write_relocs(const pe::Image& image, TextOut& out, RelocRows rows = RelocRows::fast);
/// `pemap all`: headers, sections, imports, exports, relocations and TLS under one title each; the
/// warnings of all of them, each once.
std::vector<std::string> write_all(const pe::Image& image, TextOut& out);
/// The "text" of each of the document's warnings.
std::vector<std::string> warning_texts(const json& doc);

}  // namespace pemap::inspect
