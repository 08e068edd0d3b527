// The text back end of the inspector's commands.
#pragma once

#include <string>
#include <vector>

#include "model.hpp"
#include "table.hpp"

namespace pemap::inspect {

/// The text of one image for each command, written to `out` as it is made; the warnings go to `w` (the caller
/// prints them last). info, headers and tls lay out the model's document; the commands with long tables write
/// their rows straight from the parser's walks, keeping no row (a DLL can hold millions).
void write_info(const pe::Image& image, TextOut& out, Warnings& w);
void write_headers(const pe::Image& image, TextOut& out, Warnings& w);
void write_sections(const pe::Image& image, TextOut& out, Warnings& w);
void write_imports(const pe::Image& image, TextOut& out, Warnings& w, Demangle demangle = Demangle::no);
void write_exports(const pe::Image& image, TextOut& out, Warnings& w, Demangle demangle = Demangle::no);
/// How write_relocs makes its rows: `fast` writes the blocks of page-aligned pages from one row per type and the
/// others through the general table writer; `general` sends every block through the general writer (the same
/// text, slower: what fuzz_render compares the fast rows against).
enum class RelocRows { fast, general };
void write_relocs(const pe::Image& image, TextOut& out, Warnings& w, RelocRows rows = RelocRows::fast);
void write_tls(const pe::Image& image, TextOut& out, Warnings& w);
/// `pemap all`: headers, sections, imports, exports, relocations and TLS under one title each; the
/// warnings of all of them, each once.
void write_all(const pe::Image& image, TextOut& out, Warnings& w);

/// The layouts of the small documents.
std::string render_info(const json& doc);
std::string render_headers(const json& doc);
std::string render_tls(const json& doc);

}  // namespace pemap::inspect
