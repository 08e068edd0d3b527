// Running a command over many files: one bad file reports its error and the rest go on.
#include "commands.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "hexdump.hpp"
#include "json_text.hpp"
#include "mapped_file.hpp"
#include "memory/image_section.hpp"
#include "model.hpp"
#include "pe/image.hpp"
#include "process/search_path.hpp"
#include "render.hpp"

namespace pemap::inspect {
namespace fs = std::filesystem;

Inputs expand_inputs(const std::vector<std::string>& inputs) {
  Inputs out;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      out.listed_directory = true;
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec)) found.push_back(it->path().string());
      if (ec) {
        std::cerr << fmt::format("pemap: {}: cannot list directory: {}\n", in, ec.message());
        out.unusable = true;
      }
      std::sort(found.begin(), found.end());
      out.files.insert(out.files.end(), found.begin(), found.end());
    } else {
      out.files.push_back(in);
    }
  }
  return out;
}

int print_each_file(const CommonOptions& opts, const std::function<Result<json>(const std::string&)>& doc_of,
                    const std::function<std::string(const std::string&, const json&, bool)>& render,
                    const std::function<int(const json&)>& exit_of) {
  const auto [files, unusable, listed_directory] = expand_inputs(opts.inputs);
  const bool many = files.size() > 1 || listed_directory;
  int rc = unusable ? exit_unusable : exit_ok;
  json all = json::array();
  for (const auto& path : files) {
    auto doc = doc_of(path);
    if (!doc) {
      std::cerr << "pemap: " << path << ": " << doc.error().to_string() << "\n";
      rc = exit_unusable;
      continue;
    }
    if (exit_of) rc = std::max(rc, exit_of(*doc));
    if (opts.json) {
      json j{{"file", printable(path)}};
      j.update(*doc);
      all.push_back(std::move(j));
    } else {
      std::cout << render(path, *doc, many);
    }
  }
  if (opts.json) std::cout << (many ? all : all.empty() ? json::array() : all[0]).dump(2) << "\n";
  return rc;
}

namespace {

struct Command {
  json (*model)(const pe::Image&);
  /// Writes the text for one image, warnings left out, and returns the warnings' text.
  std::vector<std::string> (*text)(const pe::Image&, TextOut&);
};

// Text rendered from the document, for the commands whose documents stay small (no table grows with the file).
template <json (*Model)(const pe::Image&), std::string (*Render)(const json&)>
std::vector<std::string> from_document(const pe::Image& image, TextOut& out) {
  const json doc = Model(image);
  out << Render(doc);
  return warning_texts(doc);
}

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table{
      {"info", {model_info, from_document<model_info, render_info>}},
      {"headers", {model_headers, from_document<model_headers, render_headers>}},
      {"sections", {model_sections, write_sections}},
      {"imports", {model_imports, write_imports}},
      {"exports", {model_exports, write_exports}},
      {"relocs", {model_relocs, [](const pe::Image& image, TextOut& out) { return write_relocs(image, out); }}},
      {"tls", {model_tls, from_document<model_tls, render_tls>}},
      {"all", {model_all, write_all}},
  };
  return table;
}

// Opens and parses each input and hands the image to `body`, which returns the document and
// an exit code. Errors go to stderr (and into the JSON array), never stop the other files.
int for_each_image(const CommonOptions& opts,
                   const std::function<int(const std::string&, const pe::Image&, json&, std::string&)>& body) {
  const auto [files, unusable, listed_directory] = expand_inputs(opts.inputs);
  int rc = unusable ? exit_unusable : exit_ok;
  json all = json::array();
  const bool many = files.size() > 1 || listed_directory;  // JSON: one object only for one named file
  for (const auto& path : files) {
    json doc;
    std::string text;
    auto file = MappedFile::open(path);
    auto image = file ? pe::Image::parse(file->bytes()) : Result<pe::Image>(file.error());
    if (!image) {
      std::cerr << "pemap: " << path << ": " << image.error().to_string() << "\n";
      rc = std::max<int>(rc, exit_unusable);
      if (opts.json) all.push_back({{"file", printable(path)}, {"error", error_json(image.error())}});
      continue;
    }
    const int file_rc = body(path, *image, doc, text);
    rc = std::max(rc, file_rc);
    if (opts.json) {
      json j{{"file", printable(path)}};
      j.update(doc);
      all.push_back(std::move(j));
    } else {
      if (many) std::cout << "== " << path << "\n";
      std::cout << text << std::flush;
    }
  }
  if (opts.json) {
    const json& out = many ? all : all.empty() ? json::array() : all[0];
    std::cout << out.dump(2) << "\n";
  }
  return rc;
}

}  // namespace

int run_view(const std::string& name, const CommonOptions& opts) {
  const Command& cmd = commands().at(name);
  if (opts.json)
    return for_each_image(opts, [&](const std::string&, const pe::Image& image, json& doc, std::string&) {
      doc = cmd.model(image);
      const bool warned = doc.contains("warnings") && !doc["warnings"].empty();
      return warned ? exit_findings : exit_ok;
    });
  // Text goes out as it is made, so no document of the whole file is built: a JSON object per row
  // costs hundreds of bytes (390 MB for the 590,000 imports of corkami's 1 MB manyimportsW7.exe).
  const auto [files, unusable, listed_directory] = expand_inputs(opts.inputs);
  const bool many = files.size() > 1 || listed_directory;
  int rc = unusable ? exit_unusable : exit_ok;
  for (const auto& path : files) {
    auto file = MappedFile::open(path);
    auto image = file ? pe::Image::parse(file->bytes()) : Result<pe::Image>(file.error());
    if (!image) {
      std::cerr << "pemap: " << path << ": " << image.error().to_string() << "\n";
      rc = std::max<int>(rc, exit_unusable);
      continue;
    }
    {
      TextOut out(std::cout);
      if (many) out << "== " << path << "\n";
      const auto warnings = cmd.text(*image, out);
      for (const auto& w : warnings) out << "warning: " << w << "\n";
      rc = std::max<int>(rc, warnings.empty() ? exit_ok : exit_findings);
    }
    std::cout << std::flush;
  }
  return rc;
}

int run_dump(const CommonOptions& opts, const DumpOptions& d) {
  const int chosen = int(d.section.has_value()) + int(d.rva.has_value()) + int(d.offset.has_value());
  if (chosen != 1) {
    std::cerr << "pemap dump: give exactly one of --section NAME, --rva ADDR or --offset OFF\n";
    return exit_unusable;
  }
  if (!d.section && !d.size) {
    std::cerr << "pemap dump: --rva and --offset need --size\n";
    return exit_unusable;
  }
  return for_each_image(opts, [&](const std::string& path, const pe::Image& image, json& doc, std::string& text) {
    Bytes bytes;
    std::vector<std::byte> copy;
    uint64_t start = 0;
    std::string what;
    if (d.section) {
      const auto secs = image.sections();
      auto it = std::find_if(secs.begin(), secs.end(), [&](const pe::Section& s) { return s.name == *d.section; });
      if (it == secs.end()) {
        std::string names;
        for (const auto& s : secs) names += (names.empty() ? "" : ", ") + printable(s.name);
        std::cerr << fmt::format("pemap: {}: section table at offset {:#x}: no section named '{}' (it has {})\n", path,
                                 image.section_table_offset(), printable(*d.section), names.empty() ? "none" : names);
        return int(exit_unusable);
      }
      if (d.image_view) {
        // As the memory manager maps it: the laid-out image object every view maps, read at the
        // section's RVA (through the object, so a no-access section can be shown too).
        auto section = win::ImageSection::create(path);
        if (!section) {
          std::cerr << "pemap: " << path << ": " << section.error().to_string() << "\n";
          return int(exit_unusable);
        }
        const uint64_t len = std::min<uint64_t>(align_up(it->memory_size, pe::kPageSize), d.size.value_or(UINT64_MAX));
        copy = (*section)->read(it->rva(), len);
        bytes = copy;
        start = it->rva();
        what =
            fmt::format("section {} as mapped (image view), RVA {:#x}, {:#x} bytes", printable(it->name), start, len);
        doc["section"] = printable(it->name);
        doc["rva"] = start;
        doc["view"] = "image";
      } else {
        // The section's bytes as they sit on disk: PointerToRawData, SizeOfRawData, clipped to the file.
        const uint64_t off = std::min<uint64_t>(it->header.PointerToRawData, image.file().size());
        const uint64_t len =
            std::min<uint64_t>({it->header.SizeOfRawData, image.file().size() - off, d.size.value_or(UINT64_MAX)});
        bytes = image.file().subspan(off, len);
        start = off;
        what = fmt::format("section {} raw data, file offset {:#x}, {:#x} bytes", printable(it->name), off, len);
        doc["section"] = printable(it->name);
        doc["offset"] = off;
      }
    } else if (d.offset) {
      auto s = slice(image.file(), *d.offset, *d.size, "dump range");
      if (!s) {
        std::cerr << "pemap: " << path << ": " << s.error().to_string() << "\n";
        return int(exit_unusable);
      }
      bytes = *s;
      start = *d.offset;
      what = fmt::format("file offset {:#x}, {:#x} bytes", start, *d.size);
      doc["offset"] = start;
    } else {
      auto c = image.copy_range(*d.rva, *d.size, "dump range");
      if (!c) {
        std::cerr << "pemap: " << path << ": " << c.error().to_string() << "\n";
        return int(exit_unusable);
      }
      copy = std::move(*c);
      bytes = copy;
      start = *d.rva;
      what = fmt::format("RVA {:#x}, {:#x} bytes as the image maps them", start, *d.size);
      doc["rva"] = start;
    }
    doc["size"] = bytes.size();
    if (opts.json)
      doc["hex"] = hex_string(bytes);
    else
      text = what + "\n" + hexdump(bytes, start);
    return int(exit_ok);
  });
}

Result<std::map<std::string, uint64_t>> forced_bases(const std::vector<std::string>& values) {
  std::map<std::string, uint64_t> out;
  for (const auto& v : values) {
    const auto eq = v.find('=');
    size_t used = 0;
    uint64_t at = 0;
    try {
      if (eq != std::string::npos && eq != 0 && eq + 1 < v.size()) at = std::stoull(v.substr(eq + 1), &used, 0);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || eq + 1 + used != v.size())
      return make_error(Status::success, "--base", Location{}, fmt::format("{}: expected MODULE=ADDRESS", v));
    out[ldr::lowercase(ldr::normalize_module_name(v.substr(0, eq)))] = at;
  }
  return out;
}

}  // namespace pemap::inspect
